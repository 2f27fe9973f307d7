"""Field filters (``field.<path>=<JSON>``, ``field_type.``) on a 1,000,000-event session.

    python bench/field_query.py [--events 1000000] [--out bench/out] [--runs 5]

Uses the session bench/search.py builds (~1 KB track calls, eight event names; cached as
``search-<n>.sqlite3`` under ``--out``). Each query is what the REST API runs for
``/inspector/api/events`` (the total, then the first 100 events with their payloads),
parsed from the same query string by :func:`inspector.core.query_params.event_query`; median of
``--runs``. Every field query is timed beside the same query without its field filters, in the
same run, and the ratio printed. Target: under 0.5 s where another filter narrows the set.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.search import build  # noqa: E402
from inspector.core.query_params import event_query  # noqa: E402
from inspector.core.store import EventStore  # noqa: E402

Pairs = list[tuple[str, str]]

#: (label, the narrowing filters, the field filters added to them).
CASES: list[tuple[str, Pairs, Pairs]] = [
    ("string, alone (every event matches)", [], [("field.properties.currency", '"EUR"')]),
    ("string, alone (one event matches)", [], [("field.properties.order_id", '"ord_500000"')]),
    ("number, alone (no event matches)", [], [("field.properties.total", "1234.5")]),
    ("string, event= (1 in 8)", [("event", "Order Completed")],
     [("field.properties.currency", '"EUR"')]),
    ("type, event= (1 in 8)", [("event", "Order Completed")],
     [("field_type.properties.total", "number")]),
    ("array index, event= (1 in 8)", [("event", "Order Completed")],
     [("field.properties.items.0.quantity", "1")]),
    ("number, event= (none match)", [("event", "Order Completed")],
     [("field.properties.total", "1234.5")]),
    ("two fields, event= (1 in 8)", [("event", "Order Completed")],
     [("field.properties.currency", '"EUR"'), ("field_type.properties.total", "number")]),
    ("present, user_id= (~20)", [("user_id", "user_4711")], [("field.properties.email", "*")]),
    # A CI check reads the events of its own run: the newest ones (since_id is the id range).
    ("string, since_id= (last 100,000)", [("since_id", "{last_100k}")],
     [("field.properties.currency", '"EUR"')]),
    ("string, event= since_id= (12,500)", [("event", "Order Completed"),
                                            ("since_id", "{last_100k}")],
     [("field.properties.currency", '"EUR"')]),
    ("type, event= since_id= (1,250)", [("event", "Order Completed"),
                                         ("since_id", "{last_10k}")],
     [("field_type.properties.total", "number")]),
]


def timed(runs: int, store: EventStore, session_id: int, pairs: Pairs) -> tuple[float, int]:
    """Median seconds of the API's answer to ``pairs`` and the total it found."""
    query = event_query(pairs, session_id, limit=100)
    times, total = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        total = store.query_events(query).total
        times.append(time.perf_counter() - started)
    return statistics.median(times), total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    db = args.out / f"search-{args.events}.sqlite3"
    if not db.exists():
        print(f"building {args.events:,} events in {db} (once)...", flush=True)
        build(db, args.events)
    store = EventStore(db)
    try:
        session = store.session_by_name("big")
        assert session is not None
        print(f"{session.event_count:,} events; median of {args.runs}; total + first 100\n")
        print(f"{'case':<40}{'without':>10}{'with':>10}{'ratio':>8}{'total':>10}")
        newest = store.session_last_event_id(session.id)
        bounds = {"last_100k": str(newest - 100_000), "last_10k": str(newest - 10_000)}
        for label, narrowing, fields in CASES:
            narrowing = [(name, value.format(**bounds)) for name, value in narrowing]
            without, _ = timed(args.runs, store, session.id, narrowing)
            with_fields, total = timed(args.runs, store, session.id, narrowing + fields)
            print(f"{label:<40}{without:>9.3f}s{with_fields:>9.3f}s"
                  f"{with_fields / max(without, 1e-6):>7.1f}x{total:>10,}", flush=True)
        summary_query = event_query([("event", "Order Completed"),
                                     ("field_type.properties.total", "number")], session.id)
        started = time.perf_counter()
        store.summary(query=summary_query)
        print(f"\nsummary, event= and a field_type filter: "
              f"{time.perf_counter() - started:.3f}s")
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
