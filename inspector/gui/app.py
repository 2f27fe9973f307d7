"""Start the window: QApplication, the qasync loop, capture, first-run plan and demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QWidget

from inspector import __version__
from inspector.core.audit import AuditConfig, AuditConfigError, load_audit_config
from inspector.core.capture.service import CaptureConfig
from inspector.core.gc_tuning import settle_garbage_collector
from inspector.core.logfile import install_log_file
from inspector.core.paths import database_problem, default_db_path
from inspector.core.resources import example_plan_path
from inspector.core.store import EventStore
from inspector.gui.bridge import CaptureBridge
from inspector.gui.capture import CaptureController
from inspector.gui.desktop import app_icon, close_on_termination_signals
from inspector.gui.main_window import MainWindow
from inspector.gui.single_instance import SingleInstance
from inspector.gui.state import UiState

__all__ = ["already_running", "bring_to_front", "build_window", "open_store", "run"]

log = logging.getLogger(__name__)

#: Asks where the database should go instead: the chosen path, or ``None`` to give up.
ChooseOther = Callable[[Path, str], Path | None]


def ask_for_another_database(path: Path, reason: str, parent: QWidget | None = None
                             ) -> Path | None:
    """A dialog naming ``path`` and why it cannot be used, offering to pick another file."""
    box = QMessageBox(QMessageBox.Icon.Critical, "inspector: cannot open the database",
                      f"The capture database {path} cannot be used:\n{reason}",
                      parent=parent)
    box.setObjectName("databaseProblem")
    choose = box.addButton("Choose another file…", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(choose)
    box.exec()
    if box.clickedButton() is not choose:
        return None
    chosen, _ = QFileDialog.getSaveFileName(
        parent, "Capture database", str(default_db_path()),
        "SQLite databases (*.sqlite3 *.sqlite *.db);;All files (*)",
        options=QFileDialog.Option.DontConfirmOverwrite)
    return Path(chosen) if chosen else None


def open_store(path: Path, choose_other: ChooseOther = ask_for_another_database
               ) -> EventStore | None:
    """The store at ``path``; when it cannot be opened (a parent is a file, a folder without
    write permission, not a database), ``choose_other`` is asked for another path until one
    works or it gives up (``None``)."""
    while True:
        try:
            return EventStore(path)
        except (OSError, sqlite3.Error) as error:
            chosen = choose_other(path, database_problem(path, error))
            if chosen is None:
                return None
            path = chosen


def build_window(args: argparse.Namespace,
                 choose_other: ChooseOther = ask_for_another_database) -> MainWindow | None:
    """The window for ``args`` with capture started (errors shown in the window); ``None``
    when no usable database was found and the user gave up."""
    store = open_store(Path(args.db) if args.db else default_db_path(), choose_other)
    if store is None:
        return None
    db_path = store.path
    session_name = args.session
    if session_name is None:
        # A launch that captured nothing (or could not start) left an empty session: file
        # into it again rather than piling up another empty one.
        latest = store.latest_session()
        if latest is not None and latest.event_count == 0:
            session_name = latest.name
    bridge = CaptureBridge()
    tls_port = getattr(args, "tls_port", None)
    audit_path = Path(args.audit) if getattr(args, "audit", None) else None
    audit_config, audit_error = AuditConfig(), None
    try:
        audit_config = load_audit_config(audit_path)
    except AuditConfigError as error:
        audit_error, audit_path = str(error), None  # the defaults, and say why in the window
    config = CaptureConfig(host=args.host, port=args.port, db_path=db_path,
                           session_name=session_name,
                           tls=getattr(args, "tls", False) or tls_port is not None,
                           tls_port=tls_port, audit_path=audit_path)
    capture = CaptureController(config, bridge)
    state = UiState()
    window = MainWindow(store, capture=capture, bridge=bridge, state=state,
                        audit_config=audit_config)
    if audit_error is not None:
        window.show_error(f"Audit file not used (the defaults apply): {audit_error}")
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


def bring_to_front(window: QWidget) -> None:
    """Show ``window`` above the others (un-minimised): another launch asked for it."""
    if window.isMinimized():
        window.showNormal()
    window.show()
    window.raise_()
    window.activateWindow()


def already_running(answer: dict[str, object]) -> str:
    """What a second launch prints about the instance that runs (its pid and capture URL)."""
    where = f", capturing at {answer['url']}" if answer.get("url") else ""
    pid = f" (pid {answer['pid']}{where})" if answer.get("pid") else ""
    return (f"inspector: already running for this profile{pid}; its window was brought to "
            "the front. Use --db with another folder for a second window.")


def run(args: argparse.Namespace) -> int:
    """``inspector gui``: open the window; returns the exit code."""
    QCoreApplication.setOrganizationName("inspector")
    QCoreApplication.setApplicationName("inspector")
    QCoreApplication.setApplicationVersion(__version__)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    # One window per profile: the database's folder (the data folder unless --db says
    # otherwise), so a second launch never competes for its port or database.
    db_path = Path(args.db) if args.db else default_db_path()
    instance = SingleInstance(db_path.absolute().parent)
    answer = instance.ring_running()
    if answer is None and not instance.claim():
        answer = instance.ring_running()  # another launch claimed the profile just now
    if answer is not None:
        print(already_running(answer), flush=True)
        return 0
    log_path = install_log_file()
    log.info("inspector %s started (pid %d), log %s", __version__, os.getpid(), log_path)
    QGuiApplication.setWindowIcon(app_icon())
    QGuiApplication.setDesktopFileName("inspector")  # Wayland matches the .desktop file
    import qasync

    # One loop for Qt and asyncio, installed before the window exists: its I/O (the capture
    # child's REST API, demo traffic) runs as coroutines on it (inspector.gui.tasks).
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    window = build_window(args)
    if window is None:
        instance.release()
        return 2
    capture = window.capture
    instance.describe = lambda: {"url": capture.base_url if capture else None,
                                 "database": str(window.store.path)}
    instance.sig_activate.connect(lambda: bring_to_front(window))
    window.show()
    # Once the event loop runs (the window's first paint is queued): start-up time, and the
    # capture URL, for bug reports and packaging/smoke_bundle.py.
    QTimer.singleShot(0, lambda: log.info(
        "window shown; capturing at %s", capture.base_url if capture else None))
    watcher = close_on_termination_signals(app)
    settle_garbage_collector()
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    with loop:
        loop.run_until_complete(closed.wait())
    instance.release()
    log.info("inspector stopped (pid %d)", os.getpid())
    del watcher
    return 0
