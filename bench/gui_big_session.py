"""Open a stored session of 1,000,000 events in the window: open time, scrolling, filters, memory.

    QT_QPA_PLATFORM=offscreen python bench/gui_big_session.py [--events 1000000] [--db PATH]
        [--search-index]

The database is built once (directly with SQL, realistic ~700-byte payloads, 2% invalid, 1%
unplanned) and reused from ``--db`` on later runs. Built this way it has no search index, so
free-text filters scan; ``--search-index`` first brings the index up to date (as the background
indexer would once capture is idle; minutes for a million events, once), so that they don't.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import orjson
from PySide6.QtCore import QCoreApplication, QModelIndex, QSettings
from PySide6.QtWidgets import QApplication

from inspector.core.store import EventStore
from inspector.core.store.connection import open_connection
from inspector.core.store.search import index_batch

NAMES = ["Product Viewed", "Product Added", "Checkout Started", "Order Completed",
         "Cart Viewed", "Product List Viewed", "Signed In", "Subscription Canceled"]


def build(db: Path, count: int) -> None:
    store = EventStore(db)
    session = store.create_session("big")
    store.name_write_key("wk-web", "web")
    connection = store._reader()
    rng = random.Random(7)
    start = time.time() - count / 1000
    connection.execute("BEGIN")
    connection.execute(
        "INSERT INTO requests(session_id, received_at, method, path, headers, body_size, "
        "http_status) VALUES (?, ?, 'POST', '/v1/batch', '{}', 0, 200)", (session.id, start))
    rows = []
    for i in range(count):
        name = NAMES[i % len(NAMES)]
        roll = rng.random()
        status, violations = "valid", "[]"
        if roll < 0.02:
            status = "invalid"
            violations = orjson.dumps([{"kind": "Invalid Type", "field": "properties.price",
                                        "message": "price must be a number",
                                        "severity": "error"}]).decode()
        elif roll < 0.03:
            status = "unplanned"
            violations = orjson.dumps([{"kind": "Unplanned Event", "field": "event",
                                        "message": "not in plan", "severity": "error"}]).decode()
        user = f"user_{rng.randrange(50_000)}"
        anon = f"anon-{rng.randrange(10**9):09d}"
        payload = {
            "type": "track", "event": name, "userId": user, "anonymousId": anon,
            "messageId": f"m-{i}", "timestamp": "2026-11-29T12:00:00.000Z",
            "properties": {"sku": f"SKU-{i % 977}", "price": round(rng.random() * 100, 2),
                           "currency": "EUR", "order_id": f"ord_{i}"},
            "context": {"library": {"name": "analytics-python", "version": "2.3.0"},
                        "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
                        "page": {"url": "https://shop.example.com/p/123", "path": "/p/123"}},
        }
        rows.append((session.id, 1, start + i / 1000, "wk-web", "track", name, user, anon,
                     f"m-{i}", "analytics-python", status, int(status != "valid"), violations,
                     orjson.dumps(payload).decode()))
        if len(rows) == 50_000:
            connection.executemany(
                "INSERT INTO events(session_id, request_id, received_at, write_key, type, name, "
                "user_id, anonymous_id, message_id, library, status, violation_count, "
                "violations, payload) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            rows = []
    if rows:
        connection.executemany(
            "INSERT INTO events(session_id, request_id, received_at, write_key, type, name, "
            "user_id, anonymous_id, message_id, library, status, violation_count, "
            "violations, payload) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    connection.execute("COMMIT")
    connection.execute("ANALYZE")
    store.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--db", default=str(Path(tempfile.gettempdir()) / "inspector-1m.sqlite3"))
    parser.add_argument("--search-index", action="store_true",
                        help="index the payloads for free-text search first")
    args = parser.parse_args()
    db = Path(args.db)
    if not db.exists():
        t0 = time.perf_counter()
        build(db, args.events)
        print(f"built {args.events:,} events in {time.perf_counter() - t0:.1f} s "
              f"({db.stat().st_size / 2**20:.0f} MiB)")
    if args.search_index:
        t0 = time.perf_counter()
        connection = open_connection(db)
        indexed = 0
        while count := index_batch(connection, 5000)[0]:
            indexed += count
        connection.close()
        if indexed:
            print(f"search index: {indexed:,} events indexed in {time.perf_counter() - t0:.0f} s")

    QCoreApplication.setOrganizationName("inspector-bench")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    app = QApplication(sys.argv[:1])
    from inspector.gui.main_window import MainWindow
    from inspector.gui.models.event_table import Column

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    store = EventStore(db)
    window = MainWindow(store)
    window.show()
    session = store.latest_session()
    assert session is not None
    window.open_session(session.id)
    window.repaint()  # the first paint, with rows
    opened = time.perf_counter() - t0
    t_deferred = time.perf_counter()
    # Then the counts (status counters, sessions list, completions, plan panel), read on a
    # worker: the GUI thread keeps turning meanwhile; its longest stall is what a user feels.
    stall = 0.0
    while window.busy:
        t = time.perf_counter()
        app.processEvents()
        time.sleep(0.001)
        stall = max(stall, time.perf_counter() - t)
    deferred = time.perf_counter() - t_deferred
    print(f"open: {opened:.3f} s to a painted window with {window.model.rowCount()} rows "
          f"(session holds {session.event_count:,}); then {deferred:.3f} s of counts on a "
          f"worker (status counters, sessions list, completions), longest GUI stall "
          f"meanwhile {stall * 1000:.0f} ms")

    # Scroll: page to the end of what is loaded, repeatedly, as a user dragging down would.
    bar = window.table.verticalScrollBar()
    frames: list[float] = []
    t1 = time.perf_counter()
    for _ in range(200):
        f0 = time.perf_counter()
        bar.setValue(bar.maximum())
        window.table.viewport().repaint()
        app.processEvents()
        frames.append(time.perf_counter() - f0)
    print(f"scroll: 200 page-to-bottom steps in {time.perf_counter() - t1:.2f} s, "
          f"rows loaded {window.model.rowCount():,}, frame median "
          f"{sorted(frames)[100] * 1000:.1f} ms, worst {max(frames) * 1000:.1f} ms")
    f0 = time.perf_counter()
    window.table.scrollTo(window.model.index(window.model.rowCount() // 2, 0))
    window.table.viewport().repaint()
    print(f"jump to middle of loaded rows + repaint: {(time.perf_counter() - f0) * 1000:.1f} ms")

    bar_widget = window.filter_bar
    cases = [
        ("status = invalid", {"status": "invalid"}),
        ("event = Order Completed", {"event": "Order Completed"}),
        ("problems (3 statuses)", {"status": "problems"}),
        ("userId/anonymousId = user_4242", {"id": "user_4242"}),
        ("violation kind = Unplanned Event", {"violation_kind": "Unplanned Event"}),
        ("free text 'sku-976' (common)", {"q": "sku-976"}),
        ("free text 'ord_999999' (one match, last)", {"q": "ord_999999"}),
        ("free text 'no-such-text' (no match)", {"q": "no-such-text"}),
    ]
    for label, state in cases:
        # The filter bar's path minus its 250 ms debounce: the query runs on a worker thread;
        # measure until the new rows are painted, and the longest GUI stall meanwhile.
        f0 = time.perf_counter()
        window._on_filter_changed(state)
        longest = 0.0
        while window.model.querying:
            t = time.perf_counter()
            app.processEvents()
            time.sleep(0.001)
            longest = max(longest, time.perf_counter() - t)
        window.table.viewport().repaint()
        took = time.perf_counter() - f0
        print(f"filter {label}: {took:.3f} s to painted rows, first page "
              f"{window.model.rowCount()} rows, longest GUI stall meanwhile "
              f"{longest * 1000:.0f} ms" + ("" if took < 0.5 else "  (over 0.5 s)"))
    window._on_filter_changed({})
    while window.model.querying:
        app.processEvents()
    _ = bar_widget, Column, QModelIndex
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS: {peak / 1024:.0f} MiB (Qt + Python baseline before opening "
          f"{rss0 / 1024:.0f} MiB)")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
