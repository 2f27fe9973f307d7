"""Free-text search (``q``) on a 1,000,000-event session: scan, previous statements, current ones.

    python bench/search.py [--events 1000000] [--tail 5000] [--out bench/out] [--runs 5]

Builds, once, a session of realistic ~1 KB events (cached as ``search-<n>.sqlite3`` under
``--out``), then an indexed copy (``search-<n>-indexed-v5.sqlite3``), timing the background
indexer's own work (events/s) and measuring the size it adds. ``--tail`` more events are then
committed above the watermark, as when the indexer lags behind capture.

Each search is timed, median of ``--runs``, in the same run against two baselines on the same
database: the plain scan (no index), and the statements inspector ran before this version (an
``IN`` list of every indexed match, evaluated once per half of ``union_count`` and again per half
of ``union_select``; two-character texts scanned). Columns: the REST API (total + first 100 with
payloads) and the window's filter bar (first page of 500 rows, then the count, each timed).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inspector.core.store import EventQuery, EventStore  # noqa: E402
from inspector.core.store.query import union_count, union_select  # noqa: E402
from inspector.core.store.search import index_batch, indexed_upto  # noqa: E402

NAMES = ["Product Viewed", "Product Added", "Checkout Started", "Order Completed",
         "Cart Viewed", "Product List Viewed", "Signed In", "Subscription Canceled"]
PRODUCTS = ["MUG", "TEE", "CAP", "BAG", "PEN", "SOCK", "HOODIE"]
COLORS = ["BLK", "WHT", "RED", "NVY", "GRN"]
TAIL_TERM = "tail-marker-4711"


def payload(index: int, rng: random.Random) -> dict[str, Any]:
    """A track call of about 1 KB as analytics.js sends it: ids, an email, SKUs, prices."""
    user = f"user_{rng.randrange(50_000)}"
    items = [{"sku": f"{rng.choice(PRODUCTS)}-{rng.randrange(40)}-{rng.choice(COLORS)}",
              "name": "Everyday item", "price": round(rng.random() * 100, 2),
              "quantity": 1 + n} for n in range(rng.randrange(1, 4))]
    return {
        "type": "track", "event": NAMES[index % len(NAMES)], "userId": user,
        "anonymousId": f"{rng.getrandbits(128):032x}",
        "messageId": f"ajs-next-{1732870000000 + index}-{rng.getrandbits(64):016x}",
        "timestamp": "2026-11-29T12:00:00.000Z",
        "properties": {"order_id": f"ord_{index}", "total": round(rng.random() * 300, 2),
                       "currency": "EUR", "email": f"{user}@example.com", "items": items},
        "context": {
            "library": {"name": "analytics.js", "version": "npm:next-1.84.1"},
            "page": {"path": "/checkout/thanks",
                     "url": "https://shop.example.com/checkout/thanks",
                     "referrer": "https://shop.example.com/checkout", "title": "Thank you"},
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
                         "Gecko) Chrome/131.0.0.0 Safari/537.36",
            "locale": "en-GB", "timezone": "Europe/London",
            "ip": f"10.{index % 256}.{(index // 256) % 256}.7",
        },
        "integrations": {}, "sentAt": "2026-11-29T12:00:00.050Z",
    }


def insert(connection: sqlite3.Connection, session_id: int, first: int, count: int,
           extra: Callable[[int, dict[str, Any]], None] | None = None) -> None:
    """Commit ``count`` events numbered from ``first``, straight into the events table."""
    rng = random.Random(first)
    rows = []
    for index in range(first, first + count):
        data = payload(index, rng)
        if extra is not None:
            extra(index, data)
        rows.append((session_id, 1.7e9 + index / 1000, "bench-web", "track", data["event"],
                     data["userId"], data["anonymousId"], data["messageId"], "analytics.js",
                     "valid", 0, "[]", orjson.dumps(data).decode()))
        if len(rows) == 20_000 or index == first + count - 1:
            connection.execute("BEGIN")
            connection.executemany(
                "INSERT INTO events(session_id, received_at, write_key, type, name, user_id, "
                "anonymous_id, message_id, library, status, violation_count, violations, "
                "payload) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            connection.execute("COMMIT")
            rows = []


def build(db: Path, count: int) -> None:
    store = EventStore(db)
    session = store.create_session("big")
    store.close()
    connection = sqlite3.connect(db, isolation_level=None)
    insert(connection, session.id, 0, count)
    connection.execute("ANALYZE")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


def build_index(db: Path) -> tuple[int, float]:
    """Index everything, in the batches the background indexer uses; events and seconds."""
    connection = sqlite3.connect(db, isolation_level=None)
    connection.execute("PRAGMA cache_size=-32000")
    total, started = 0, time.perf_counter()
    while True:
        count, _ = index_batch(connection, 2000)
        total += count
        if not count:
            break
        if total % 100_000 < 2000:
            print(f"  indexed {total:,} ({total / (time.perf_counter() - started):,.0f}/s)",
                  flush=True)
    took = time.perf_counter() - started
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return total, took


def scan_api(store: EventStore, query: EventQuery) -> int:
    """The REST API's answer without the index: count, then the first page with payloads."""
    connection = store._reader()
    where, params = query.where_clause()  # no connection: the plain scan
    total: int = connection.execute(f"SELECT count(*) FROM events e WHERE {where}",
                                    params).fetchone()[0]
    connection.execute(f"SELECT e.*, e.payload FROM events e WHERE {where} ORDER BY e.id "
                       "LIMIT ? OFFSET ?", [*params, query.limit, query.offset]).fetchall()
    return total


def previous_statements(store: EventStore, query: EventQuery) -> tuple[str, list[Any]]:
    """The ``WHERE`` the previous version built: ``e.id IN (every indexed match + tail)``."""
    connection = store._reader()
    assert query.q is not None
    if len(query.q) < 3:
        return query.where_clause()  # it scanned texts under three characters
    return query.where_clause(connection)


def previous_api(store: EventStore, query: EventQuery) -> int:
    """What ``GET /inspector/api/events?q=`` ran before: union_count, then union_select."""
    connection = store._reader()
    where, params = previous_statements(store, query)
    total: int = connection.execute(*union_count(where, params)).fetchone()[0]
    select, select_params = union_select("SELECT e.*, e.payload FROM events e", where, params)
    connection.execute(f"{select} ORDER BY 1 LIMIT ? OFFSET ?",
                       [*select_params, query.limit, query.offset]).fetchall()
    return total


def previous_window(store: EventStore, query: EventQuery) -> tuple[float, float, int]:
    """The filter bar before: the first 500 rows (union_select), then union_count."""
    connection = store._reader()
    started = time.perf_counter()
    where, params = previous_statements(store, query)
    select, select_params = union_select("SELECT e.id, e.type, e.name FROM events e", where,
                                         params)
    connection.execute(f"{select} ORDER BY 1 LIMIT 500", select_params).fetchall()
    page = time.perf_counter() - started
    started = time.perf_counter()
    where, params = previous_statements(store, query)
    total: int = connection.execute(*union_count(where, params)).fetchone()[0]
    return page, time.perf_counter() - started, total


def current_window(store: EventStore, query: EventQuery) -> tuple[float, float, int]:
    """The filter bar now: page_events (500 rows), then count_events, each timed."""
    started = time.perf_counter()
    store.page_events(query.model_copy(update={"limit": 500}))
    page = time.perf_counter() - started
    started = time.perf_counter()
    total = store.count_events(query)
    return page, time.perf_counter() - started, total


def median_time(runs: int, function: Callable[[], Any]) -> tuple[float, Any]:
    """The median wall time of ``runs`` calls, and the last result."""
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def median_window(runs: int, function: Callable[[], tuple[float, float, int]]
                  ) -> tuple[float, float, int]:
    """Medians of the page and count times of ``runs`` window searches, and the count."""
    results = [function() for _ in range(runs)]
    return (statistics.median(r[0] for r in results), statistics.median(r[1] for r in results),
            results[-1][2])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--tail", type=int, default=5000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scan-runs", type=int, default=1,
                        help="runs of the plain scan (seconds each)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    base = args.out / f"search-{args.events}.sqlite3"
    indexed = args.out / f"search-{args.events}-indexed-v5.sqlite3"
    if not base.exists():
        started = time.perf_counter()
        build(base, args.events)
        print(f"built {args.events:,} events in {time.perf_counter() - started:.0f} s")
    EventStore(base).close()  # migrated, so that the copy below starts from the same schema
    base_size = base.stat().st_size
    connection = sqlite3.connect(base)
    payload_bytes = connection.execute("SELECT sum(length(payload)) FROM events").fetchone()[0]
    connection.close()
    print(f"database without index: {base_size / 2**20:,.0f} MiB "
          f"(payloads {payload_bytes / 2**20:,.0f} MiB, {payload_bytes / args.events:,.0f} B "
          "per event)")
    if not indexed.exists():
        partial = indexed.with_suffix(".partial")
        shutil.copyfile(base, partial)
        total, took = build_index(partial)
        partial.rename(indexed)
        print(f"indexer: {total:,} events in {took:.0f} s = {total / took:,.0f} events/s")
    index_size = indexed.stat().st_size - base_size
    print(f"index adds {index_size / 2**20:,.0f} MiB ({index_size / payload_bytes:.2f} x the "
          "payload text)")

    store = EventStore(indexed)
    reader = store._reader()
    session = store.session_by_name("big")
    assert session is not None
    upto = indexed_upto(reader)
    last = reader.execute("SELECT max(id) FROM events").fetchone()[0]
    if last == upto:  # commit a tail the indexer has not reached, as during heavy capture

        def mark(index: int, data: dict[str, Any]) -> None:
            if index == args.events + args.tail // 2:
                data["properties"]["coupon"] = TAIL_TERM.upper()

        connection = sqlite3.connect(indexed, isolation_level=None)
        insert(connection, session.id, args.events, args.tail, mark)
        connection.close()
        last = reader.execute("SELECT max(id) FROM events").fetchone()[0]
    print(f"session: {session.event_count:,} events; watermark {upto:,}, "
          f"{last - upto:,} events in the unindexed tail")

    terms: list[tuple[str, str, dict[str, Any]]] = [
        ("rare (one event)", f"ord_{args.events * 7 // 10}", {}),
        ("rare (an email, ~20 events)", "user_4242@example.com", {}),
        ("a SKU (~0.15%)", "mug-11-blk", {}),
        ("common (an event name, 12.5%)", "order completed", {}),
        ("in the unindexed tail", TAIL_TERM, {}),
        ("no match", "no-such-text", {}),
        ("two characters (no match)", "zq", {}),
        ("two characters (every event)", "js", {}),
        # Beside another filter (the window's filter bar combines them):
        ("email + status valid (all)", "user_4242@example.com", {"status": ["valid"]}),
        ("12.5% + event Signed In (none)", "order completed", {"event": "Signed In"}),
        ("12.5% + event Order Completed", "order completed", {"event": "Order Completed"}),
        ("12.5% + status valid (all)", "order completed", {"status": ["valid"]}),
    ]
    print(f"\nmedians of {args.runs} (scan: {args.scan_runs}); API = total + first 100 with "
          "payloads; window = first 500 rows | then the count")
    print(f"{'':<31}{'':>10}{'scan':>8} {'----- previous -----':>27} {'------ now ------':>26}")
    print(f"{'term':<31}{'matches':>10}{'API':>8}{'API':>9}{'page':>9}{'count':>9}"
          f"{'API':>9}{'page':>9}{'count':>9}")
    for label, term, others in terms:
        query = EventQuery(session_id=session.id, q=term, **others)
        scan, total = median_time(args.scan_runs, lambda q=query: scan_api(store, q))
        before, total_before = median_time(args.runs, lambda q=query: previous_api(store, q))
        old_page, old_count, _ = median_window(args.runs,
                                               lambda q=query: previous_window(store, q))
        now, total_now = median_time(args.runs, lambda q=query: store.query_events(q).total)
        page, count, counted = median_window(args.runs,
                                             lambda q=query: current_window(store, q))
        assert total == total_before == total_now == counted, (term, total, total_now, counted)
        slow = max(now, page, count) >= 0.5
        print(f"{label:<31}{total:>10,}{scan:>7.2f}s{before:>8.3f}s{old_page:>8.3f}s"
              f"{old_count:>8.3f}s{now:>8.3f}s{page:>8.3f}s{count:>8.3f}s"
              + ("  (over 0.5 s)" if slow else ""), flush=True)
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
