"""Start the window: QApplication, the qasync loop, capture, first-run plan and demo."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtWidgets import QApplication

from inspector import __version__
from inspector.core.capture.service import CaptureConfig
from inspector.core.gc_tuning import settle_garbage_collector
from inspector.core.paths import default_db_path
from inspector.core.resources import example_plan_path
from inspector.core.store import EventStore
from inspector.gui.bridge import CaptureBridge
from inspector.gui.capture import CaptureController
from inspector.gui.main_window import MainWindow
from inspector.gui.state import UiState

__all__ = ["build_window", "run"]


def build_window(args: argparse.Namespace) -> MainWindow:
    """The window for ``args`` with capture started (errors shown in the window)."""
    db_path = Path(args.db) if args.db else default_db_path()
    store = EventStore(db_path)
    bridge = CaptureBridge()
    tls_port = getattr(args, "tls_port", None)
    config = CaptureConfig(host=args.host, port=args.port, db_path=db_path,
                           session_name=args.session,
                           tls=getattr(args, "tls", False) or tls_port is not None,
                           tls_port=tls_port)
    capture = CaptureController(config, bridge)
    state = UiState()
    window = MainWindow(store, capture=capture, bridge=bridge, state=state)
    if not window.start_capture():
        latest = store.latest_session()
        if latest is not None:
            window.open_session(latest.id)
    plan = Path(args.plan) if args.plan else None
    first_run = not state.flag("firstRunDone")
    if plan is None and (first_run or args.demo):
        example = example_plan_path()
        plan = example if example.is_file() else None
    if plan is not None:
        window.load_plan_file(plan)
    state.set_flag("firstRunDone", True)
    if args.demo:
        QTimer.singleShot(300, window.send_demo)
    return window


def run(args: argparse.Namespace) -> int:
    """``inspector gui``: open the window; returns the exit code."""
    QCoreApplication.setOrganizationName("inspector")
    QCoreApplication.setApplicationName("inspector")
    QCoreApplication.setApplicationVersion(__version__)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    try:
        import qasync
    except ImportError:  # pragma: no cover - qasync is a declared dependency
        qasync = None
    window = build_window(args)
    window.show()
    settle_garbage_collector()
    if qasync is None:
        return int(app.exec())
    # One loop for Qt and asyncio, so coroutines (replay, the Public API) can run as slots.
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    with loop:
        loop.run_until_complete(closed.wait())
    return 0
