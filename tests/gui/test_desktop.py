"""Desktop conventions through the real window: the About box, Help > Open log folder, one
instance per profile, and the frozen build's capture child command."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import PySide6
import pytest
from PySide6.QtCore import QDir, QObject, QUrl, Slot, qVersion
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox

from inspector import __version__
from inspector.core.paths import user_log_dir
from inspector.core.store import EventQuery, EventStore
from inspector.gui.capture import serve_command
from inspector.gui.main_window import MainWindow
from inspector.gui.single_instance import SingleInstance, server_name
from inspector.gui.state import UiState


@pytest.fixture
def window(qtbot: Any, store: EventStore) -> MainWindow:
    win = MainWindow(store, state=UiState())
    qtbot.addWidget(win)
    win.show()
    return win


def test_about_box_names_inspector_qt_pyside_and_python_versions(
        window: MainWindow, qtbot: Any) -> None:
    window.act_about.trigger()
    box = window.findChild(QMessageBox, "aboutBox")
    assert box is not None
    qtbot.waitUntil(box.isVisible)
    text = box.text()
    for version in (f"inspector {__version__}", f"Qt {qVersion()}",
                    f"PySide6 {PySide6.__version__}", f"Python {platform.python_version()}"):
        assert version in text
    assert str(user_log_dir()) in text
    box.accept()


class _UrlCatcher(QObject):
    """Stands in for the file manager: QDesktopServices hands it the URLs it would open."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


def test_help_open_log_folder_opens_the_platform_log_folder(window: MainWindow) -> None:
    catcher = _UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "open")
    try:
        window.act_open_logs.trigger()
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert [Path(url.toLocalFile()) for url in catcher.urls] == [user_log_dir()]
    assert user_log_dir().is_dir()  # created, so the file manager has something to open
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    assert [a.objectName() for a in help_menu.actions()] == ["actAbout", "actOpenLogFolder"]


def test_a_second_launch_raises_the_first_window_and_says_where_it_runs(
        qtbot: Any, tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    profile.mkdir()
    first = SingleInstance(profile, describe=lambda: {"url": "http://127.0.0.1:43210"})
    assert first.claim()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    second: subprocess.Popen[str] | None = None
    try:
        with qtbot.waitSignal(first.sig_activate, timeout=60_000):
            # The real second launch: `inspector` (the window) over the same profile.
            second = subprocess.Popen(
                [sys.executable, "-m", "inspector", "--db", str(profile / "captures.sqlite3"),
                 "--port", "0"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True)
            # The first instance answers from this event loop: pump it until the child ends.
            qtbot.waitUntil(lambda: second.poll() is not None, timeout=60_000)
        out, err = second.communicate()
    finally:
        first.release()
        if second is not None and second.poll() is None:  # it opened a window after all
            second.kill()
            second.communicate()
    assert second.returncode == 0, err
    assert f"already running for this profile (pid {os.getpid()}, capturing at " \
           "http://127.0.0.1:43210)" in out
    assert not (profile / "captures.sqlite3").exists()  # it never opened the database


def test_another_profile_gets_its_own_instance_and_a_dead_ones_socket_is_taken_over(
        qapp: Any, tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    assert server_name(one) != server_name(two)
    first = SingleInstance(one)
    assert first.claim()
    other = SingleInstance(two)
    try:
        assert not SingleInstance(one).claim()  # the profile is taken: never stolen
        assert other.ring_running() is None
        assert other.claim()
    finally:
        first.release()
        other.release()
    # An instance killed with SIGKILL leaves its socket file behind, with nobody listening.
    left = Path(QDir.tempPath()) / server_name(one)
    leftover = socket.socket(socket.AF_UNIX)
    leftover.bind(str(left))
    leftover.close()
    assert left.exists()
    again = SingleInstance(one)
    try:
        assert again.ring_running() is None
        assert again.claim()
    finally:
        again.release()


def test_a_frozen_build_starts_its_capture_child_as_itself_with_serve(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert serve_command() == [sys.executable, "-m", "inspector", "serve"]
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert serve_command() == [sys.executable, "serve"]
    # An explicit interpreter (tests, benchmarks) is always run with -m.
    assert serve_command("/usr/bin/python3") == ["/usr/bin/python3", "-m", "inspector", "serve"]


def test_sigterm_closes_the_window_cleanly_and_the_log_tells_the_story(
        qtbot: Any, tmp_path: Path) -> None:
    log_file = user_log_dir() / "inspector.log"  # the child inherits the isolated XDG dirs
    db = tmp_path / "captures.sqlite3"
    app = subprocess.Popen(
        [sys.executable, "-m", "inspector", "--db", str(db), "--port", "0"],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        qtbot.waitUntil(lambda: "window shown" in _read(log_file), timeout=60_000)
        url = _read(log_file).split("capturing at ")[1].split()[0]
        sent = httpx.post(f"{url}/v1/track", json={"event": "Before SIGTERM", "userId": "u1"})
        assert sent.status_code == 200
        app.terminate()
        _, err = app.communicate(timeout=30)
    finally:
        if app.poll() is None:
            app.kill()
            app.communicate()
    lines = _read(log_file).splitlines()
    assert app.returncode == 0, (err, lines)
    assert any("capture child: inspector: stopped" in line for line in lines), lines
    assert "inspector stopped" in lines[-1], lines
    store = EventStore(db)
    try:
        assert [e.name for e in store.query_events(EventQuery()).events] == ["Before SIGTERM"]
    finally:
        store.close()


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""
