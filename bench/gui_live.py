"""1,000 events/s into the real endpoint for a minute, with the window open and live-tailing.

    QT_QPA_PLATFORM=offscreen python bench/gui_live.py [--seconds 60] [--rate 1000] [--batch 1]
        [--mix views|retail] [--no-audit]

A separate process sends analytics.js-style requests (``--batch 1``: one event per request to
``/v1/t``; ``--batch N``: ``/v1/batch`` with N events) at ``--rate`` events/s. The window runs
the capture endpoint as an ``inspector serve`` child process and tails the store, as
``inspector`` does. Reported: the longest event-loop stall (a 5 ms QTimer measures the gaps),
viewport repaints per second, drain batch sizes, store polls, and whether every accepted event
reached the table.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


async def _send(base_url: str, seconds: float, rate: int, batch: int,
                mix: str = "views") -> dict[str, int]:
    import aiohttp

    sent = accepted = failed = 0
    interval = batch / rate
    start = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(base_url, connector=connector) as session:
        pending: set[asyncio.Task[None]] = set()

        async def post(number: int) -> None:
            nonlocal accepted, failed
            now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())

            def event(i: int) -> dict[str, object]:
                call: dict[str, object] = {
                    "type": "track", "event": "Product Viewed", "anonymousId": f"a-{i % 97}",
                    "messageId": f"bench-{number}-{i}", "timestamp": now, "sentAt": now,
                    "properties": {"sku": f"SKU-{i % 500}", "price": 12.5, "currency": "EUR"},
                    "context": {"library": {"name": "analytics.js", "version": "next-1.70"}}}
                if mix == "retail":
                    # Shoppers who identify (a tenth of calls), carts, some with a second
                    # userId shape: work for every audit check, on a growing set of people.
                    shopper = i % 5000
                    call["anonymousId"] = f"a-{shopper}"
                    if i % 10 == 0:
                        call.update(type="identify", userId=str(10_000 + shopper),
                                    traits={"email": f"s{shopper}@shop.test",
                                            "vip_tier": ("gold", "silver")[i % 2]})
                        del call["event"]
                    elif i % 4 == 0:
                        call["event"] = "Added to Cart"
                return call
            if batch == 1:
                path, body = "/v1/t", {**event(number), "writeKey": "bench"}
            else:
                path = "/v1/batch"
                body = {"writeKey": "bench", "batch": [event(number * batch + i)
                                                        for i in range(batch)]}
            try:
                async with session.post(path, data=json.dumps(body),
                                        headers={"Content-Type": "text/plain"}) as response:
                    await response.read()
                    if response.status == 200:
                        accepted += batch
                    else:
                        failed += batch
            except aiohttp.ClientError:
                failed += batch

        number = 0
        while (elapsed := time.perf_counter() - start) < seconds:
            due = int(elapsed / interval) + 1
            while number < due:
                task = asyncio.create_task(post(number))
                pending.add(task)
                task.add_done_callback(pending.discard)
                number += 1
                sent += batch
            await asyncio.sleep(interval / 2)
        await asyncio.gather(*pending)
    return {"sent": sent, "accepted": accepted, "failed": failed,
            "elapsed_ms": int((time.perf_counter() - start) * 1000)}


def _child_cpu(pid: int | None) -> float:
    """CPU seconds used so far by a running child (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sender_main() -> int:
    base_url, seconds, rate, batch = sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), int(
        sys.argv[5])
    mix = sys.argv[6] if len(sys.argv) > 6 else "views"
    print(json.dumps(asyncio.run(_send(base_url, seconds, rate, batch, mix))))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--hidden", action="store_true",
                        help="do not show the window (isolates painting from the rest)")
    parser.add_argument("--no-freeze", action="store_true",
                        help="skip gc.freeze() after start-up (to compare)")
    parser.add_argument("--mix", choices=("views", "retail"), default="views",
                        help="views: anonymous Product Viewed (the historical load); retail: "
                        "identifies, carts and 5,000 shoppers (work for the audit)")
    parser.add_argument("--no-audit", action="store_true",
                        help="stop the window's live audit (to compare)")
    parser.add_argument("--flows", nargs="*", default=[], metavar="NAME",
                        help="run these bundled flows live in the Flows panel (issue 14)")
    parser.add_argument("--switch-interval", type=float, default=None,
                        help="override sys.setswitchinterval (seconds) to compare")
    args = parser.parse_args()
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval)

    from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    QCoreApplication.setOrganizationName("inspector-bench")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    app = QApplication(sys.argv[:1])
    from inspector.core.capture.service import CaptureConfig
    from inspector.core.gc_tuning import settle_garbage_collector
    from inspector.core.store import EventStore
    from inspector.gui.bridge import CaptureBridge
    from inspector.gui.capture import CaptureController
    from inspector.gui.main_window import MainWindow
    from inspector.gui.widgets.event_table_view import EventTableView

    # Where the GUI thread's time goes: table paints, drains and garbage collections, timed.
    # Wall time is what the user waits for; GUI-thread CPU time is the work itself, which the
    # other jobs on a shared machine do not inflate.
    timings: dict[str, list[float]] = {"paint": [], "drain": [], "gc": []}
    cpu_spent: dict[str, float] = {"paint": 0.0, "drain": 0.0}

    def timed(fn: Any, key: str) -> Any:
        def wrapper(*a: Any) -> Any:
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                return fn(*a)
            finally:
                timings[key].append(time.perf_counter() - t0)
                cpu_spent[key] += time.thread_time() - c0
        return wrapper

    EventTableView.paintEvent = timed(EventTableView.paintEvent, "paint")  # type: ignore[method-assign]
    CaptureBridge.drain = timed(CaptureBridge.drain, "drain")  # type: ignore[method-assign]
    gc_started = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        if phase == "start":
            gc_started[0] = time.perf_counter()
        elif info["generation"] == 2:
            timings["gc"].append(time.perf_counter() - gc_started[0])

    gc.callbacks.append(on_gc)

    db = Path(tempfile.mkdtemp()) / "live.sqlite3"
    bridge = CaptureBridge()
    capture = CaptureController(CaptureConfig(port=0, db_path=db, session_name="live"), bridge)
    window = MainWindow(EventStore(db), capture=capture, bridge=bridge)
    window.resize(1400, 850)
    if args.no_audit:
        window.audit_view.pause()
    if not args.hidden:
        window.show()
    assert window.start_capture(), window.banner.text()
    assert capture.base_url is not None
    if not args.no_freeze:
        settle_garbage_collector()  # as inspector.gui.app.run does after start-up
        timings["gc"].clear()  # that start-up collection is not part of the live load

    if args.flows:
        window.flows_dock.raise_()
        window.flows_view.start(args.flows)
        deadline = time.perf_counter() + 10
        while window.flows_view.shown is None and time.perf_counter() < deadline:
            app.processEvents()
            time.sleep(0.005)
        assert window.flows_view.shown is not None, "the flow run did not start"

    batches: list[int] = []
    bridge.sig_events_committed.connect(lambda batch: batches.append(len(batch)))

    class PaintCounter(QObject):
        paints = 0

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
            if event.type() == QEvent.Type.Paint:
                self.paints += 1
            return False

    counter = PaintCounter()
    window.table.viewport().installEventFilter(counter)
    gaps: list[float] = []
    last = [time.perf_counter(), time.thread_time()]
    longest = [0.0, 0.0]  # the longest gap and the GUI thread's CPU time within it

    def tick() -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        gap = now - last[0]
        gaps.append(gap)
        if gap > longest[0]:
            longest[:] = [gap, cpu - last[1]]
        last[:] = [now, cpu]

    probe = QTimer()
    probe.setInterval(5)
    probe.timeout.connect(tick)
    probe.start()

    sender = subprocess.Popen(
        [sys.executable, __file__, "--sender", capture.base_url, str(args.seconds),
         str(args.rate), str(args.batch), args.mix],
        stdout=subprocess.PIPE, text=True,
    )
    started = time.perf_counter()
    while sender.poll() is None:
        app.processEvents()
        time.sleep(0.001)
    result = json.loads(sender.stdout.read() if sender.stdout else "{}")
    # Let the last drains land.
    deadline = time.perf_counter() + 10
    while window.model.rowCount() < result["accepted"] and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.005)
    duration = time.perf_counter() - started
    probe.stop()
    gaps_ms = sorted(gap * 1000 for gap in gaps)
    p99 = gaps_ms[int(len(gaps_ms) * 0.99)] if gaps_ms else 0.0
    print(f"sender: {result['sent']:,} sent, {result['accepted']:,} accepted, "
          f"{result['failed']:,} failed in {result['elapsed_ms'] / 1000:.1f} s "
          f"({result['accepted'] / (result['elapsed_ms'] / 1000):.0f} ev/s, batch={args.batch})")
    complete = window.model.rowCount() == result["accepted"]
    print(f"table rows: {window.model.rowCount():,} "
          f"({'every accepted event reached the table' if complete else 'MISSING EVENTS'})")
    print(f"event loop: longest stall {gaps_ms[-1]:.1f} ms (5 ms timer; p99 gap {p99:.1f} ms, "
          f"median {gaps_ms[len(gaps_ms) // 2]:.1f} ms)")
    print(f"  the longest stall: {longest[1] * 1000:.0f} ms of it the GUI thread on a CPU "
          f"(the rest: waiting for the GIL or a core)")

    def spent(key: str) -> str:
        values = sorted(timings[key])
        if not values:
            return f"{key} none"
        cpu = f"CPU {cpu_spent[key] * 1000 / duration:.0f} ms/s, " if key in cpu_spent else ""
        return (f"{key} {cpu}wall {sum(values) * 1000 / duration:.0f} ms/s ({len(values)}, "
                f"median {values[len(values) // 2] * 1000:.1f} ms, max {values[-1] * 1000:.0f} ms)")

    print(f"GUI thread: {spent('paint')}; {spent('drain')}; full {spent('gc')}")
    audit = window.audit_view.results
    times = sorted(window.audit_view.refresh_times)
    where = "in the capture child" if window.audit_view.remote else "in this process"
    print(f"audit: {'off' if args.no_audit else 'live ' + where}; "
          + (f"{sum(audit.counts.values()):,} findings on {audit.people_total:,} people at "
             f"the end; {len(times)} refreshes (a worker's wall and CPU time), median "
             f"{times[len(times) // 2][0] * 1000:.0f} ms (CPU "
             f"{sorted(t[1] for t in times)[len(times) // 2] * 1000:.0f} ms), "
             f"longest {times[-1][0] * 1000:.0f} ms"
             if audit is not None and times else "no results"))
    if args.flows:
        runs = sorted(window.flows_view.refresh_times)
        shown = window.flows_view.shown
        status = str(shown.status) if shown is not None else "?"
        where = "in the capture child" if window.flows_view.remote else "in this process"
        print(f"flows: {', '.join(args.flows)} live {where} ({status} at the end); {len(runs)} "
              "refreshes (a worker's wall and CPU time: over REST, a round trip), "
              + (f"median {runs[len(runs) // 2][0] * 1000:.0f} ms (CPU "
                 f"{sorted(t[1] for t in runs)[len(runs) // 2] * 1000:.0f} ms), longest "
                 f"{runs[-1][0] * 1000:.0f} ms" if runs else "none"))
    print(f"repaints: {counter.paints / duration:.1f} viewport paints/s; drains: {len(batches)}, "
          f"median batch {sorted(batches)[len(batches) // 2] if batches else 0} events, "
          f"largest {max(batches) if batches else 0}")
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    tail = capture.tail
    if tail is not None:
        print(f"store tail: {tail.polls:,} polls ({tail.polls / duration:.0f}/s), "
              f"{tail.delivered:,} events delivered")
    print(f"CPU: window process {(me.ru_utime + me.ru_stime) / duration:.0%} of a core, "
          f"capture child {_child_cpu(capture.pid) / duration:.0%}, "
          f"sender process {(kids.ru_utime + kids.ru_stime) / duration:.0%} "
          f"({os.cpu_count()} cores)")
    print(f"peak RSS: {me.ru_maxrss / 1024:.0f} MiB")
    window.close()
    return 0 if window.model.rowCount() == result["accepted"] else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--sender":
        raise SystemExit(sender_main())
    raise SystemExit(main())
