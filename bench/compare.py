"""Session comparison speed and memory: two sessions of N events each, compared.

    python bench/compare.py [--events 100000] [--people 20000] [--db PATH] [--keep]

Builds (or reuses, with ``--db`` of an earlier ``--keep`` run) a database with two sessions
of retail traffic (pages, product views, identifies, carts, checkouts and backend orders, ~700
bytes a payload), the candidate with a few planted regressions, then measures each phase in a
fresh process of its own (so each peak memory is that phase's), in wall seconds and in CPU
seconds of the process and its children:

* ``read``, the baseline: reading both sessions once (every row's payload read and parsed
  with orjson, as any consumer of the rows pays);
* ``streaming``: ``compare()`` with no profile kept (every event profiled, as the first
  comparison of an imported file is);
* ``catch-up``: the background :class:`~inspector.core.compare.stored.ProfileBuilder`
  profiling both sessions from nothing: its CPU per event is what it adds at capture;
* ``stored``: ``compare()`` with the profiles caught up (only the people pass reads events),
  and whether it found the same differences as ``streaming``.

CPU seconds are the fair figure on a shared machine; the load average is printed with them.
The two comparisons' differences are left beside the database (``*.streaming.json``,
``*.stored.json``) to be compared.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson

from inspector.core.compare import Comparison, compare, open_side
from inspector.core.compare.stored import ProfileBuilder, load_profile
from inspector.core.store import EventStore
from inspector.core.store.writer import GroupCommitWriter, PendingEvent, PendingRequest

LIBRARIES = {"web": ("analytics.js", "npm:next-1.84.1"), "backend": ("analytics-python", "2.4.0")}
PRODUCTS = [f"SKU-{n:04d}" for n in range(500)]


def calls(count: int, people: int, *, regressed: bool, seed: int) -> Iterator[dict[str, Any]]:
    """Retail traffic, one call at a time (never all in memory)."""
    rng = random.Random(seed)
    for number in range(count):
        shopper = rng.randrange(people)
        user = str(100_000 + shopper)
        if regressed and shopper % 10 == 0:
            user = f"shopper{shopper}@shop.test"  # identity_changed: email userIds
        roll = rng.random()
        source = "web"
        call: dict[str, Any] = {"anonymousId": f"anon-{seed}-{shopper}",
                                "messageId": str(uuid.UUID(int=rng.getrandbits(128)))}
        if roll < 0.12:
            call.update(type="identify", userId=user, traits={
                "email": f"shopper{shopper}@shop.test", "first_name": "Ada",
                "plan": rng.choice(("free", "pro", "team"))})
        elif roll < 0.3:
            call.update(type="page", name="Product", properties={
                "path": "/p/mug", "url": "https://shop.test/p/mug", "title": "Mug"})
        else:
            sku = rng.choice(PRODUCTS)
            properties: dict[str, Any] = {"sku": sku, "price": 12.5, "quantity": 1,
                                          "currency": rng.choice(("USD", "GBP", "EUR"))}
            if regressed and rng.random() < 0.05:
                properties["currency"] = "usd"  # values_changed
            name = rng.choice(("Product Viewed", "Product Viewed", "Product Added",
                               "Checkout Started", "Order Completed"))
            if name in ("Product Added", "Checkout Started"):
                properties["cart_id"] = f"cart-{shopper}"
                properties["items"] = [{"sku": sku, "price": 12.5, "quantity": 1}]
            if name == "Order Completed":
                source = "backend"
                properties.update(order_id=f"o-{number}", total=25.0, coupon="SPRING")
                if regressed:
                    del properties["coupon"]  # missing_property
                call.pop("anonymousId")
            if name == "Checkout Started":
                properties["total"] = "25.00" if regressed else 25.0  # type_changed
            call.update(type="track", event=name, userId=user if rng.random() < 0.7 else None,
                        properties=properties)
        library, version = LIBRARIES[source]
        call["context"] = {"library": {"name": library, "version": version}}
        if source == "web":
            call["context"].update(
                page={"path": "/p/mug", "url": "https://shop.test/p/mug", "title": "Mug"},
                userAgent="Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0", locale="en-GB",
                ip="203.0.113.7")
        else:
            call["integrations"] = {}
        stamp = f"2026-11-29T10:{number // 60000 % 60:02d}:{number // 1000 % 60:02d}.000Z"
        call.update(timestamp=stamp, sentAt=stamp, receivedAt=stamp, originalTimestamp=stamp)
        yield {key: value for key, value in call.items() if value is not None}


def fill(store: EventStore, name: str, count: int, people: int, *, regressed: bool) -> None:
    session = store.create_session(name)
    writer = GroupCommitWriter(store.path, search_index=False)
    writer.start()
    chunk: list[PendingEvent] = []

    def flush() -> None:
        writer.submit(PendingRequest(
            session_id=session.id, received_at=1_800_000_000.0, method="POST",
            path="/v1/batch", query=None, remote_addr="127.0.0.1", headers_json="{}",
            body=None, body_size=0, http_status=200, events=list(chunk)))
        chunk.clear()

    for number, call in enumerate(calls(count, people, regressed=regressed,
                                        seed=2 if regressed else 1)):
        library = call["context"]["library"]
        chunk.append(PendingEvent(
            1_800_000_000.0 + number / 1000, "k-web" if library["name"] == "analytics.js"
            else "k-backend", call["type"], call.get("event") or call.get("name"),
            call.get("userId"), call.get("anonymousId"), call["messageId"],
            f"{library['name']} {library['version']}", "not_validated", 0, "[]",
            orjson.dumps(call).decode()))
        if len(chunk) == 500:
            flush()
    if chunk:
        flush()
    writer.stop()


def cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class AnonymousPeak:
    """The largest anonymous resident memory (``RssAnon``) this process reached, sampled.

    The store's connections read the database through a memory map, whose pages count in the
    RSS (``ru_maxrss``) although they are the OS's file cache, shared and reclaimable: on a
    1.6 GB session the RSS reaches gigabytes whatever the code keeps. ``RssAnon`` is what the
    process itself holds (Linux only; sampled every 20 ms, so a shorter spike can be missed).
    """

    def __init__(self) -> None:
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    @staticmethod
    def now_kb() -> int:
        try:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak_kb = max(self.peak_kb, self.now_kb())

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return max(self.peak_kb, self.now_kb())


def peak_mb(anonymous_kb: int) -> str:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return (f"peak anonymous {anonymous_kb / 1024:.0f} MB, peak RSS {own:.0f} MB"
            + (f" (its child {child:.0f} MB)" if child else "")
            + " (RSS includes the memory-mapped database file)")


def load() -> str:
    return "load average " + " ".join(f"{value:.1f}" for value in os.getloadavg())


def run_compare(store: EventStore) -> Comparison:
    with open_side("baseline", store) as old, open_side("candidate", store) as new:
        return compare(old, new)


def phase(name: str, store: EventStore, db: Path) -> None:
    """One measurement, in this (fresh) process; prints one line (and the differences)."""
    sessions = [store.session_by_name(label) for label in ("baseline", "candidate")]
    events = sum(session.event_count for session in sessions if session is not None)
    anonymous = AnonymousPeak()
    wall, used = time.perf_counter(), cpu()
    if name == "read":
        for session in sessions:
            assert session is not None
            for row in store.iter_call_rows(session.id):
                orjson.loads(row.payload or "null")
        result = f"reading and parsing both sessions once ({events:,} rows)"
    elif name == "catch-up":
        with sqlite3.connect(db) as connection:
            connection.execute("DELETE FROM session_profiles")
        builder = ProfileBuilder(db)
        builder.start()
        assert builder.wait_until_indexed(store.session_last_event_id(sessions[-1].id)
                                          if sessions[-1] else 0, timeout=3600)
        builder.stop()
        spent = cpu() - used
        result = (f"the profile builder from nothing: {builder.indexed:,} events, "
                  f"{spent / max(builder.indexed, 1) * 1e6:.1f} us CPU per event")
    else:
        if name == "streaming":
            with sqlite3.connect(db) as connection:
                connection.execute("DELETE FROM session_profiles")
        else:
            kept = [load_profile(store, s.id) for s in sessions if s is not None]
            assert all(k is not None and k[0] == store.session_last_event_id(s.id)
                       for k, s in zip(kept, sessions, strict=True) if s is not None)
        comparison = run_compare(store)
        found = [d.to_dict() for d in comparison.differences]
        Path(db.with_suffix(f".{name}.json")).write_bytes(orjson.dumps(found))
        result = f"compare(), {len(found)} differences ({comparison.counts()})"
        if name == "stored":
            same = db.with_suffix(".streaming.json").read_bytes() == orjson.dumps(found)
            result += f", the same as streaming: {same}"
    took_wall, took_cpu = time.perf_counter() - wall, cpu() - used
    print(f"{name:<10}{took_wall:7.2f} s wall {took_cpu:7.2f} s CPU  "
          f"{peak_mb(anonymous.stop())}; {result}; "
          f"{load()}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--db", type=Path, help="database to build or reuse")
    parser.add_argument("--keep", action="store_true", help="keep the database (with --db)")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        store = EventStore(args.db)
        phase(args.phase, store, args.db)
        store.close()
        return
    folder = None
    if args.db is None:
        folder = tempfile.TemporaryDirectory()
        args.db = Path(folder.name) / "compare.sqlite3"
    store = EventStore(args.db)
    if store.session_by_name("baseline") is None:
        started = time.perf_counter()
        fill(store, "baseline", args.events, args.people, regressed=False)
        fill(store, "candidate", args.events, args.people, regressed=True)
        print(f"generated 2 x {args.events:,} events in {time.perf_counter() - started:.1f} s",
              flush=True)
        store.close()
        # Measured from a fresh process: a child's peak RSS starts at its parent's (Linux
        # keeps the high-water mark across fork and exec), and this one generated the data.
        subprocess.run([sys.executable, __file__, "--db", str(args.db)], check=True)
        if folder is not None and not args.keep:
            folder.cleanup()
        return
    store.close()
    for name in ("read", "streaming", "catch-up", "stored"):
        subprocess.run([sys.executable, __file__, "--db", str(args.db), "--phase", name],
                       check=True)
    if folder is not None and not args.keep:
        folder.cleanup()


if __name__ == "__main__":
    main()
