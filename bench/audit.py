"""Retention audit speed: a session audited from scratch, and the live per-batch cost.

    python bench/audit.py [--events 1000000] [--people 50000] [--stored 200000]

Three figures, each against a baseline measured in the same run, in CPU seconds of this
process (``time.process_time``: steadier than wall time on a shared two-core machine):

* in memory: ``Auditor.feed`` + ``findings()`` over N synthetic calls, against building the
  same :class:`ObservedEvent` objects (the cost every consumer of the calls pays anyway);
* live: feeding 1,000-call batches and reading the findings after each (what the window and
  the REST API do at 1,000 events/s), reported as the longest and median batch;
* stored: ``audit_session`` over a session in SQLite, against reading the same rows with
  ``iter_events`` alone.

``--environments`` gives browser calls a page URL (every 50th from a staging host) and app
calls an app namespace and build (every 97th a staging build), and audits with a staging and
a production environment, so the environment checks do their per-call work.

``--breakdown`` splits the stored audit into what every audit pays before any check runs
(reading the lean rows, parsing their JSON, building the ObservedEvents), the identity graph,
and each check's ``observe`` (timed per call, in one run), then the findings.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inspector.core.audit import AuditConfig, Auditor
from inspector.core.audit.config import EnvironmentConfig
from inspector.core.audit.session import audit_session
from inspector.core.gc_tuning import collector_paused
from inspector.core.observed import ObservedEvent
from inspector.core.store import EventQuery, EventStore, SessionInfo
from inspector.core.timeutil import format_iso

NAMES = {"k-web": "web", "k-backend": "backend", "k-ios": "ios"}
LIBRARIES = {"k-web": "analytics.js", "k-backend": "analytics-python", "k-ios": "analytics-ios"}
EVENTS = ["Product Viewed", "Added to Cart", "Checkout Started", "Order Completed"]
ENVIRONMENTS = AuditConfig(environments=[
    EnvironmentConfig(name="staging", write_keys=["k-stg"], hosts=["*.staging.shop.test"],
                      app_builds=["*-staging"]),
    EnvironmentConfig(name="production", production=True, write_keys=["web", "backend", "ios"],
                      hosts=["www.shop.test", "shop.test"], app_namespaces=["com.shop.app"]),
])


def synthetic_calls(count: int, people: int, seed: int = 7,
                    items: int = 0, environments: bool = False) -> list[dict[str, Any]]:
    """Retail traffic: pages and carts from browsers, identifies, orders from the backend;
    ``items``: that many complete items[] elements (and a currency) on every track call."""
    item = {"sku": "MUG-11", "name": "Mug", "variant": "black", "price": 12.5, "quantity": 2}
    rng = random.Random(seed)
    calls = []
    for number in range(count):
        shopper = rng.randrange(people)
        key = rng.choice(("k-web", "k-web", "k-backend", "k-ios"))
        identified = rng.random() < 0.7
        call: dict[str, Any] = {
            "id": number + 1, "write_key": key,
            "anonymousId": f"anon-{shopper}-{rng.randrange(2)}" if key != "k-backend" else None,
            "userId": (str(10_000 + shopper) if key != "k-web" or rng.random() < 0.5
                       else f"shopper{shopper}@shop.test") if identified else None,
            "context": {"library": {"name": LIBRARIES[key], "version": "1"}},
        }
        if not call["userId"] and not call["anonymousId"]:
            call["anonymousId"] = f"anon-{shopper}-0"
        if environments:  # no random draws: the same calls as without, plus where from
            if key == "k-web":
                host = "shop.staging.shop.test" if number % 50 == 0 else "www.shop.test"
                call["context"]["page"] = {"url": f"https://{host}/p/{shopper % 50}"}
            elif key == "k-ios":
                build = "4.2-staging" if number % 97 == 0 else "4.2"
                call["context"]["app"] = {"namespace": "com.shop.app", "build": build}
        roll = rng.random()
        if roll < 0.15:
            call["type"] = "identify"
            call["traits"] = {"email": f"shopper{shopper}@shop.test",
                              "vip_tier": rng.choice(["gold", "silver", "test"]),
                              "marketing_opt_in": rng.choice([True, "true"])}
        elif roll < 0.3:
            call["type"] = "page"
            call["name"] = "Product"
        else:
            call["type"] = "track"
            call["event"] = rng.choice(EVENTS)
            call["properties"] = {"cart_id": f"c-{shopper}", "total": 25.0}
            if call["event"] == "Order Completed":
                call["properties"]["order_id"] = f"o-{number}"
            if items:  # no random draws: the same calls as without, plus their items
                call["properties"].update(total=25.0 * items, currency="GBP",
                                          items=[dict(item)] * items)
        # Stored calls carry a timestamp (corrected by capture) and the sender's raw sentAt:
        # most a fraction of a second old, the backend's 1% a batch job two hours late.
        received = _received_at(number + 1)
        delay = 7200.0 if key == "k-backend" and rng.random() < 0.01 else rng.random()
        call["timestamp"] = format_iso(datetime.fromtimestamp(received - delay, UTC))
        call["sentAt"] = format_iso(datetime.fromtimestamp(received - 0.05, UTC))
        calls.append(call)
    return calls


def _received_at(event_id: int) -> float:
    return 1_800_000_000.0 + event_id / 1000


def observe(call: dict[str, Any]) -> ObservedEvent:
    return ObservedEvent.build(
        id=call["id"], received_at=_received_at(call["id"]),
        write_key=call["write_key"], type=call["type"], name=call.get("event") or call.get("name"),
        user_id=call["userId"], anonymous_id=call["anonymousId"],
        message_id=f"m-{call['id']}", payload=call, write_key_names=NAMES,
    )


def in_memory(calls: list[dict[str, Any]], config: AuditConfig | None = None) -> None:
    started = time.process_time()
    events = [observe(call) for call in calls]
    build = time.process_time() - started
    started = time.process_time()
    auditor = Auditor(config)
    with collector_paused():
        auditor.feed(events)
        findings = auditor.findings()
    audit = time.process_time() - started
    print(f"in memory, {len(calls):,} calls: building ObservedEvents {build:.2f} s (baseline); "
          f"audit {audit:.2f} s ({audit / build:.2f}x the baseline; "
          f"{audit / len(calls) * 1e6:.1f} µs per call); {len(auditor.graph):,} people, "
          f"{len(findings):,} findings")

    auditor = Auditor(config)
    batches = []
    for start in range(0, min(len(events), 200_000), 1000):
        started = time.process_time()
        with collector_paused():  # as SessionAudit.refresh does
            auditor.feed(events[start:start + 1000])
            auditor.findings(ordered=False)  # as the window's refresh asks
        batches.append(time.process_time() - started)
    print(f"live, 1,000-call batches then findings() ({len(batches)} batches): median "
          f"{statistics.median(batches) * 1000:.1f} ms, longest {max(batches) * 1000:.1f} ms")


def stored(calls: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store, session = stored_session(Path(folder), calls)
        started = time.process_time()
        count = sum(1 for _ in store.iter_events(EventQuery(session_id=session.id)))
        read = time.process_time() - started
        started = time.process_time()
        result = audit_session(store, session.id)
        audit = time.process_time() - started
        print(f"stored, {count:,} calls: reading rows {read:.2f} s (baseline); audit_session "
              f"{audit:.2f} s ({audit / read:.2f}x; {len(result.findings):,} findings)")
        store.close()


def breakdown(calls: list[dict[str, Any]]) -> None:
    """Where a from-scratch audit of a stored session spends its CPU, stage by stage."""
    import orjson

    from inspector.core.audit.framework import SessionCheck
    from inspector.core.audit.live import observe_rows

    with tempfile.TemporaryDirectory() as folder:
        store, session = stored_session(Path(folder), calls)
        names = store.write_key_names()
        count = len(calls)
        stages: list[tuple[str, float]] = []
        with collector_paused():
            started = time.process_time()
            rows = list(store.iter_call_rows(session.id))
            stages.append(("read the lean rows (SQLite)", time.process_time() - started))
            started = time.process_time()
            for row in rows:
                orjson.loads(row.payload or "{}")
            stages.append(("parse the payload JSON (orjson)", time.process_time() - started))
            started = time.process_time()
            events = list(observe_rows(rows, names))
            build = time.process_time() - started
            stages.append(("build ObservedEvents (parse included)", build))
            auditor = Auditor()
            spent: dict[str, float] = {}
            calls_of: dict[str, int] = {}
            for check in auditor.checks:
                if isinstance(check, SessionCheck):
                    check.observe = _timed(  # type: ignore[method-assign]
                        check.observe, check.id, spent, calls_of)
            auditor.graph.observe = _timed(  # type: ignore[method-assign]
                auditor.graph.observe, "identity graph", spent, calls_of)
            started = time.process_time()
            auditor.feed(events)
            feed = time.process_time() - started
            started = time.process_time()
            findings = auditor.findings()
            stages.append(("findings() (person checks, reports, sort)",
                           time.process_time() - started))
        store.close()
    # Each timed call pays the wrapper (a closure, two clock reads): measured on a no-op and
    # taken out of each figure and of the feed total.
    overhead = _wrapper_cost()
    for name in spent:
        spent[name] -= calls_of[name] * overhead
    timer_cost = sum(calls_of.values()) * overhead
    print(f"breakdown of a stored audit, {count:,} calls, CPU µs per call "
          f"({len(findings):,} findings):")
    for name, seconds in stages:
        print(f"  {name:<44} {seconds / count * 1e6:6.1f}")
    print(f"  {'feed (all checks, timers taken out)':<44} "
          f"{(feed - timer_cost) / count * 1e6:6.1f}")
    for name, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"    {name:<42} {seconds / count * 1e6:6.1f}")
    floor = stages[0][1] + build
    print(f"  floor before any check (rows + ObservedEvents): {floor / count * 1e6:.1f} µs "
          f"= {floor / count * 1e6:.1f} s per 1M calls")


def _timed(function: Any, name: str, spent: dict[str, float], calls: dict[str, int]) -> Any:
    clock = time.process_time

    def timed(*args: Any) -> Any:
        started = clock()
        try:
            return function(*args)
        finally:
            spent[name] = spent.get(name, 0.0) + clock() - started
            calls[name] = calls.get(name, 0) + 1
    return timed


def _wrapper_cost() -> float:
    """What :func:`_timed` adds to one call, measured around a no-op (best of three)."""
    best = float("inf")
    for _ in range(3):
        timed = _timed(lambda *_args: None, "noop", {}, {})
        started = time.process_time()
        for _ in range(100_000):
            timed(None, None, None)
        best = min(best, (time.process_time() - started) / 100_000)
    return best


def stored_session(folder: Path, calls: list[dict[str, Any]]) -> tuple[EventStore, SessionInfo]:
    """A store in ``folder`` holding ``calls`` as one session "bench", its write keys named."""
    store = EventStore(folder / "bench.sqlite3")
    session = store.create_session("bench")
    for key, name in NAMES.items():
        store.name_write_key(key, name)
    _insert(store, session.id, calls)
    return store, session


def _insert(store: EventStore, session_id: int, calls: list[dict[str, Any]]) -> None:
    import orjson

    from inspector.core.store.writer import GroupCommitWriter, PendingEvent, PendingRequest

    writer = GroupCommitWriter(store.path, search_index=False)
    writer.start()
    for start in range(0, len(calls), 500):
        chunk = calls[start:start + 500]
        request = PendingRequest(
            session_id=session_id, received_at=1_800_000_000.0, method="POST",
            path="/v1/batch", query=None, remote_addr="127.0.0.1", headers_json="{}",
            body=None, body_size=0, http_status=200,
            events=[PendingEvent(
                _received_at(call["id"]), call["write_key"], call["type"],
                call.get("event") or call.get("name"), call["userId"], call["anonymousId"],
                f"m-{call['id']}", call["context"]["library"]["name"], "not_validated", 0, "[]",
                orjson.dumps(call).decode(),
            ) for call in chunk],
        )
        writer.submit(request)
    writer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--stored", type=int, default=200_000)
    parser.add_argument("--items", type=int, default=0,
                        help="items[] elements on every track call (0: none)")
    parser.add_argument("--environments", action="store_true",
                        help="page hosts and app builds on the calls, and a staging and a "
                        "production environment configured")
    parser.add_argument("--breakdown", action="store_true",
                        help="only the stage-by-stage CPU of a stored audit")
    args = parser.parse_args()
    calls = synthetic_calls(args.events, args.people, items=args.items,
                            environments=args.environments)
    if args.breakdown:
        breakdown(calls)
        return
    in_memory(calls, ENVIRONMENTS if args.environments else None)
    if args.stored:
        stored(calls[: args.stored])


if __name__ == "__main__":
    main()
