"""The capture endpoint as an ``inspector serve`` child: start, errors, crash, restart, exit."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtWidgets import QToolButton

from inspector.core.capture import CaptureConfig
from inspector.core.demo import send_demo_traffic
from inspector.core.store import EventStore
from inspector.gui.bridge import CaptureBridge
from inspector.gui.capture import CaptureController
from inspector.gui.main_window import MainWindow
from inspector.gui.models.event_table import Column
from inspector.gui.state import UiState
from tests.gui.conftest import make_capture_window
from tests.gui.fakes import write_plan

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie nobody has reaped yet counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.fixture
def window(capture_window: MainWindow) -> MainWindow:
    return capture_window


def _api(window: MainWindow, path: str) -> Any:
    assert window.capture is not None
    return httpx.get(f"{window.capture.base_url}/inspector/api{path}").json()


def test_child_process_serves_and_its_events_reach_the_table(
    window: MainWindow, qtbot: Any
) -> None:
    capture = window.capture
    assert capture is not None
    pid = capture.pid
    assert pid is not None
    assert pid != os.getpid()
    assert _alive(pid)
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert b"serve" in cmdline
    assert b"--exit-with-stdin" in cmdline
    health = _api(window, "/health")
    assert health["session"]["name"] == "QA"
    assert health["session"]["id"] == window.session_id
    assert capture.base_url is not None
    assert send_demo_traffic(capture.base_url) == 13
    qtbot.waitUntil(lambda: window.model.rowCount() == 13, timeout=5000)
    assert window.model.index(0, Column.NAME).data() == "Home"
    assert capture.tail is not None
    assert capture.tail.delivered == 13
    assert window.status.counts()["not_validated"] == 13


def test_port_in_use_shows_the_childs_one_line_error(qtbot: Any, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        win = make_capture_window(qtbot, tmp_path, port=port)
        assert not win.start_capture()
        assert win.banner.text() == (
            f"Capture could not start: port {port} on 127.0.0.1 is already in use; stop the "
            "other program or choose another port with --port"
        )
        assert win.capture is not None
        assert not win.capture.running
        assert win.act_start.isEnabled()
        assert not win.banner.action_button.isVisible()
    win.close()


def test_a_killed_child_is_reported_and_restart_works(window: MainWindow, qtbot: Any) -> None:
    window.show()
    capture = window.capture
    assert capture is not None
    pid = capture.pid
    assert pid is not None
    with qtbot.waitSignal(capture.sig_crashed, timeout=10000) as blocker:
        os.kill(pid, signal.SIGKILL)
    assert blocker.args == ["The capture process crashed or was killed."]
    assert window.banner.text() == "The capture process crashed or was killed."
    assert not capture.running
    assert window.act_start.isEnabled()
    assert "Listening" not in window.status.url_label.text()
    restart = window.banner.findChild(QToolButton, "errorAction")
    assert restart.isVisible()
    assert restart.text() == "Restart capture"
    restart.click()
    assert capture.running, window.banner.text()
    assert capture.pid != pid
    assert window.banner.text() == ""
    assert capture.base_url is not None
    send_demo_traffic(capture.base_url)
    qtbot.waitUntil(lambda: window.model.rowCount() == 13, timeout=5000)


def test_closing_the_window_stops_the_child(qtbot: Any, tmp_path: Path) -> None:
    win = make_capture_window(qtbot, tmp_path)
    assert win.start_capture()
    assert win.capture is not None
    pid = win.capture.pid
    assert pid is not None
    assert _alive(pid)
    win.close()
    assert not _alive(pid)  # stop() waited for it: no orphan, no zombie
    assert not win.capture.running


def test_child_does_not_outlive_a_killed_window(tmp_path: Path) -> None:
    """SIGKILL gives the window no chance to stop anything: the child's stdin closes."""
    script = textwrap.dedent(f"""
        import sys, time
        from PySide6.QtCore import QCoreApplication
        from inspector.core.capture.service import CaptureConfig
        from inspector.gui.bridge import CaptureBridge
        from inspector.gui.capture import CaptureController
        app = QCoreApplication([])
        capture = CaptureController(
            CaptureConfig(port=0, db_path={str(tmp_path / "orphan.sqlite3")!r}), CaptureBridge())
        capture.start()
        print(capture.pid, flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert _alive(child)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 15
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)  # another process: there is no Qt signal to wait on
    assert not _alive(child)


def test_plan_and_new_session_go_through_the_rest_api(
    window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    plan = write_plan(tmp_path / "plan.json")
    with qtbot.waitSignal(window.sig_revalidated, timeout=10000):
        assert window.load_plan_file(plan)
    # The child holds the plan, uploaded as content: it opened no path it was handed.
    assert _api(window, "/health")["plan"]["source"] == str(plan)
    assert _api(window, "/health")["plan"]["path"] is None
    first = window.session_id
    window.act_new_session.trigger()
    assert window.session_id != first
    health = _api(window, "/health")
    assert health["session"]["id"] == window.session_id  # the child files into it
    assert window.capture is not None
    assert window.capture.base_url is not None
    send_demo_traffic(window.capture.base_url)
    qtbot.waitUntil(lambda: window.model.rowCount() == 13, timeout=5000)
    statuses = {window.model.index(r, Column.STATUS).data()
                for r in range(window.model.rowCount())}
    assert "unplanned · 1" in statuses  # validated by the child on capture
    # A plan the child rejects is reported; the previous plan stays in force there.
    broken = tmp_path / "broken.json"
    broken.write_text('{"rules": [{"type": "TRACK", "key": "X", "jsonSchema": {"type": 5}}]}')
    window._plan_loader = lambda path: window.plan  # type: ignore[assignment,return-value]
    assert not window.load_plan_file(broken)
    assert window.banner.text().startswith("Plan not loaded: ")
    assert _api(window, "/health")["plan"]["source"] == str(plan)


def test_beyond_loopback_the_child_gets_a_token_off_its_command_line(
    qtbot: Any, tmp_path: Path
) -> None:
    window = make_capture_window(qtbot, tmp_path, host="0.0.0.0")
    assert window.start_capture(), window.banner.text()
    try:
        capture = window.capture
        assert capture is not None
        assert capture.base_url is not None
        pid = capture.pid
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        [token] = [item.partition(b"=")[2] for item in environ
                   if item.startswith(b"INSPECTOR_API_TOKEN=")]
        assert len(token) >= 32
        assert token not in Path(f"/proc/{pid}/cmdline").read_bytes()  # not in `ps`
        url = f"{capture.base_url}/inspector/api/health"
        assert httpx.get(url).status_code == 401  # the API needs the token here
        assert capture.health()["session"]["name"] == "QA"  # the window's calls carry it
        plan = write_plan(tmp_path / "plan.json")
        with qtbot.waitSignal(window.sig_revalidated, timeout=10000):
            assert window.load_plan_file(plan)
        health = httpx.get(url, headers={"Authorization": f"Bearer {token.decode()}"}).json()
        assert health["plan"]["source"] == str(plan)
    finally:
        window.close()


def test_tls_window_child_serves_https_with_the_local_ca(qtbot: Any, tmp_path: Path) -> None:
    db = tmp_path / "captures.sqlite3"
    bridge = CaptureBridge(interval_ms=20)
    capture = CaptureController(CaptureConfig(port=0, db_path=db, tls=True), bridge)
    window = MainWindow(EventStore(db), capture=capture, bridge=bridge, state=UiState())
    qtbot.addWidget(window)
    assert window.start_capture(), window.banner.text()
    try:
        assert capture.tls_url is not None
        ca = httpx.get(f"{capture.base_url}/inspector/tls/inspector-ca.pem").text
        trusting = ssl.create_default_context(cadata=ca)
        response = httpx.post(f"{capture.tls_url}/v1/track", verify=trusting,
                              json={"type": "track", "event": "Secure", "userId": "u"})
        assert response.status_code == 200
        qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=5000)
    finally:
        window.close()
