"""Desktop conventions: the Help menu (About, Open log folder), the application icon, and
closing the window (not dying) on SIGTERM, as a session logout or ``kill`` asks."""

from __future__ import annotations

import os
import platform
import signal
import socket

import PySide6
from PySide6.QtCore import QCoreApplication, QObject, QSocketNotifier, QUrl, qVersion
from PySide6.QtGui import QAction, QDesktopServices, QIcon
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox

from inspector import __version__
from inspector.core.paths import user_data_dir, user_log_dir
from inspector.core.resources import resource_path

__all__ = [
    "about_text",
    "add_help_menu",
    "app_icon",
    "close_on_termination_signals",
    "open_log_folder",
    "show_about",
]


def app_icon() -> QIcon:
    """inspector's icon (``resources/icons/inspector.svg``); empty if the file is missing."""
    path = resource_path("icons", "inspector.svg")
    return QIcon(str(path)) if path.is_file() else QIcon()


def about_text() -> str:
    """The versions a bug report needs, and where inspector keeps its files."""
    return (
        f"<h3>inspector {__version__}</h3>"
        "<p>A desktop event inspector for Segment analytics data that flows into "
        "Customer.io.</p>"
        f"<p>Qt {qVersion()}<br>PySide6 {PySide6.__version__}<br>"
        f"Python {platform.python_version()} ({platform.system()} {platform.machine()})</p>"
        f"<p>Data folder: {user_data_dir()}<br>Log folder: {user_log_dir()}</p>"
    )


def show_about(window: QMainWindow) -> QMessageBox:
    """Open the About box (window-modal, so tests and users can look at it); returns it."""
    box = QMessageBox(QMessageBox.Icon.NoIcon, "About inspector", about_text(),
                      QMessageBox.StandardButton.Ok, window)
    box.setObjectName("aboutBox")
    box.setIconPixmap(app_icon().pixmap(64, 64))
    box.open()
    return box


def open_log_folder() -> bool:
    """Show the log folder in the platform's file manager (created first, so it opens)."""
    folder = user_log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


def add_help_menu(window: QMainWindow) -> tuple[QAction, QAction]:
    """Add Help > About inspector and Help > Open log folder to ``window``'s menu bar."""
    menu = window.menuBar().addMenu("&Help")
    about = QAction("About inspector", window)
    about.setObjectName("actAbout")
    about.setMenuRole(QAction.MenuRole.AboutRole)  # the application menu on macOS
    about.triggered.connect(lambda _checked=False: show_about(window))
    logs = QAction("Open log folder", window)
    logs.setObjectName("actOpenLogFolder")
    logs.triggered.connect(lambda _checked=False: open_log_folder())
    menu.addAction(about)
    menu.addAction(logs)
    return about, logs


class _SignalWatcher(QObject):
    """Turns SIGTERM/SIGINT/SIGHUP into closing every window, on the GUI thread.

    Python runs signal handlers only between bytecodes, which a Qt event loop waiting in C
    never reaches; the wake-up fd (a socket pair) makes the signal readable to a
    QSocketNotifier instead, so it is handled at once and without polling.
    """

    def __init__(self, app: QCoreApplication) -> None:
        super().__init__(app)
        self._read, self._write = socket.socketpair()
        self._read.setblocking(False)
        self._write.setblocking(False)
        signal.set_wakeup_fd(self._write.fileno())
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, lambda _signum, _frame: None)  # the fd carries it
        self._notifier = QSocketNotifier(self._read.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._on_signal)

    def _on_signal(self) -> None:
        try:
            self._read.recv(64)
        except BlockingIOError:
            return
        # Each window's closeEvent stops its capture child and saves its state; the last
        # one closing quits the application.
        QApplication.closeAllWindows()


def close_on_termination_signals(app: QCoreApplication) -> QObject | None:
    """Close the windows cleanly on SIGTERM, SIGINT or SIGHUP (POSIX; ``None`` on Windows,
    which ends GUI processes with WM_CLOSE, already a close event)."""
    if os.name == "nt":
        return None
    return _SignalWatcher(app)
