"""Session comparison speed and memory: two sessions of N events each, compared.

    python bench/compare.py [--events 100000] [--people 20000] [--db PATH] [--keep]

Builds (or reuses, with ``--db`` of an earlier ``--keep`` run) a database with two sessions
of retail traffic (pages, product views, identifies, carts, checkouts and backend orders, ~700
bytes a payload), the candidate with a few planted regressions, and reports, in wall seconds
and in CPU seconds of this process and its children:

* the baseline: reading both sessions once (every row's payload read and parsed with orjson,
  as any consumer of the rows pays);
* ``compare()`` of the two sessions, with what it found;
* the peak resident memory (``ru_maxrss``) of the measuring process (a fresh one, after the
  sessions are generated) and of the child that profiles the baseline.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson

from inspector.core.compare import compare, open_side
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--db", type=Path, help="database to build or reuse")
    parser.add_argument("--keep", action="store_true", help="keep the database (with --db)")
    args = parser.parse_args()
    folder = None
    if args.db is None:
        folder = tempfile.TemporaryDirectory()
        args.db = Path(folder.name) / "compare.sqlite3"
    store = EventStore(args.db)
    if store.session_by_name("baseline") is None:
        started = time.perf_counter()
        fill(store, "baseline", args.events, args.people, regressed=False)
        fill(store, "candidate", args.events, args.people, regressed=True)
        store.close()
        print(f"generated 2 x {args.events:,} events in {time.perf_counter() - started:.1f} s",
              flush=True)
        # Measured in a fresh process, so that its peak memory is the comparison's own (and
        # the child it spawns starts from a small parent).
        subprocess.run([sys.executable, __file__, "--db", str(args.db)], check=True)
        if folder is not None and not args.keep:
            folder.cleanup()
        return
    before_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    wall, used = time.perf_counter(), cpu()
    rows = 0
    for name in ("baseline", "candidate"):
        session = store.session_by_name(name)
        assert session is not None
        for row in store.iter_call_rows(session.id):
            orjson.loads(row.payload or "null")
            rows += 1
    read_wall, read_cpu = time.perf_counter() - wall, cpu() - used
    print(f"baseline: reading and parsing both sessions once ({rows:,} rows): "
          f"{read_wall:.2f} s wall, {read_cpu:.2f} s CPU")

    wall, used = time.perf_counter(), cpu()
    with open_side("baseline", store) as old, open_side("candidate", store) as new:
        comparison = compare(old, new)
    compare_wall, compare_cpu = time.perf_counter() - wall, cpu() - used
    counts = comparison.counts()
    print(f"compare: {compare_wall:.2f} s wall ({compare_wall / read_wall:.1f}x the baseline), "
          f"{compare_cpu:.2f} s CPU in all processes ({compare_cpu / read_cpu:.1f}x); "
          f"{len(comparison.differences)} differences ({counts})")
    for difference in comparison.differences:
        print(f"  {difference.severity:<8}{difference.kind:<20}{difference.message}")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS: this process {own:.0f} MB (before comparing: {before_rss:.0f} MB), "
          f"the baseline's profiling process {child:.0f} MB")
    store.close()
    if folder is not None and not args.keep:
        folder.cleanup()


if __name__ == "__main__":
    main()
