"""Free-text search (``q``) on a 1,000,000-event session, with and without the FTS5 index.

    python bench/search.py [--events 1000000] [--tail 5000] [--out bench/out]

Builds, once, a session of realistic ~1 KB events (cached as ``search-<n>.sqlite3`` under
``--out``), then an indexed copy (``search-<n>-indexed.sqlite3``), timing the background
indexer's own work (events/s) and measuring the size it adds. ``--tail`` more events are then
committed above the watermark, as when the indexer lags behind capture. Each search is timed as
the REST API runs it (count + first page of 100, with payloads) and as the window's filter bar
runs it (first page of rows, then the count), with the index and with the plain scan.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inspector.core.store import EventQuery, EventStore  # noqa: E402
from inspector.core.store.paging import count_events, page_events  # noqa: E402
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


def api_search(store: EventStore, query: EventQuery, use_index: bool) -> int:
    """What ``GET /inspector/api/events?q=`` runs: the count, then a page with payloads."""
    if use_index:
        return store.query_events(query).total
    connection = store._reader()
    where, params = query.where_clause()  # no connection: the plain scan
    total: int = connection.execute(f"SELECT count(*) FROM events e WHERE {where}",
                                    params).fetchone()[0]
    connection.execute(f"SELECT e.*, e.payload FROM events e WHERE {where} ORDER BY e.id "
                       "LIMIT ? OFFSET ?", [*params, query.limit, query.offset]).fetchall()
    return total


def window_search(store: EventStore, query: EventQuery) -> tuple[float, int]:
    """The filter bar: the first page of rows (what paints), then the count."""
    started = time.perf_counter()
    page_events(store, query.model_copy(update={"limit": 500}))
    first_page = time.perf_counter() - started
    return first_page, count_events(store, query)


def best_of(runs: int, function: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--tail", type=int, default=5000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    base = args.out / f"search-{args.events}.sqlite3"
    indexed = args.out / f"search-{args.events}-indexed.sqlite3"
    if not base.exists():
        started = time.perf_counter()
        build(base, args.events)
        print(f"built {args.events:,} events in {time.perf_counter() - started:.0f} s")
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

    terms = [
        ("rare (one event)", f"ord_{args.events * 7 // 10}"),
        ("rare (an email, ~20 events)", "user_4242@example.com"),
        ("a SKU (~0.15%)", "mug-11-blk"),
        ("common (an event name, 12.5%)", "order completed"),
        ("in the unindexed tail", TAIL_TERM),
        ("no match", "no-such-text"),
        ("two characters (scan)", "zq"),
    ]
    print(f"\nbest of {args.runs}; API = count + first 100 with payloads; window = first 500 "
          "rows, then the count")
    print(f"{'term':<32}{'matches':>9}{'API scan':>10}{'API index':>11}{'speed-up':>9}"
          f"{'window page':>13}{'window total':>14}")
    for label, term in terms:
        query = EventQuery(session_id=session.id, q=term)
        scan, total = best_of(args.runs, lambda q=query: api_search(store, q, False))
        fast, total_fast = best_of(args.runs, lambda q=query: api_search(store, q, True))
        assert total == total_fast, (term, total, total_fast)
        (window, (page, counted)) = best_of(args.runs, lambda q=query: window_search(store, q))
        assert counted == total
        print(f"{label:<32}{total:>9,}{scan:>9.3f}s{fast:>10.3f}s{scan / fast:>8.0f}x"
              f"{page:>12.3f}s{window:>13.3f}s" + ("" if fast < 0.5 else "  (over 0.5 s)"))
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
