"""The window shows where an event's request went with --forward: a chip by the title and a
line in the raw request."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import httpx

from inspector.core.capture.service import CaptureConfig
from inspector.core.model import EventRecord, Status
from inspector.core.store import EventStore
from inspector.gui.bridge import CaptureBridge
from inspector.gui.capture import CaptureController
from inspector.gui.main_window import MainWindow
from inspector.gui.state import UiState
from inspector.gui.widgets.event_detail import EventDetail
from tests.support.segment_calls import track


def _record() -> EventRecord:
    return EventRecord(id=1, session_id=1, received_at=1.8e9, write_key="wk", type="track",
                       name="Order Completed", user_id="u1", anonymous_id=None,
                       message_id="m1", status=Status.NOT_VALIDATED, request_id=1)


def _request(forward: dict[str, Any] | None) -> dict[str, Any]:
    request: dict[str, Any] = {"method": "POST", "path": "/v1/t", "headers": {}, "body": b"{}",
                               "body_size": 2, "http_status": 200}
    if forward is not None:
        request["forward"] = forward
    return request


def test_the_chip_names_each_state_and_hides_without_forward(qtbot: Any) -> None:
    detail = EventDetail()
    qtbot.addWidget(detail)
    shown = {}
    for state, forward in {
        "delivered": {"state": "delivered", "attempts": 1, "last_status": 200,
                      "last_error": None},
        "failed": {"state": "failed", "attempts": 1, "last_status": 400,
                   "last_error": "HTTP 400: bad"},
        "queued": {"state": "queued", "attempts": 3, "last_status": None,
                   "last_error": "ConnectError: refused", "next_attempt_at": 1.8e9},
    }.items():
        detail.show_event(_record(), _request(forward))
        shown[state] = (detail.forward_chip.isVisibleTo(detail), detail.forward_chip.text(),
                        detail.forward_chip.toolTip())
    assert shown["delivered"] == (True, "⇢ forwarded", "delivered (HTTP 200, 1 attempt)")
    assert shown["failed"] == (True, "⇢ forward failed", "failed after 1 attempt: HTTP 400: bad")
    visible, text, tip = shown["queued"]
    assert (visible, text) == (True, "⇢ forward queued (3 attempts)")
    assert "3 attempts so far; last: ConnectError: refused" in tip
    detail.show_event(_record(), _request(None))
    assert not detail.forward_chip.isVisibleTo(detail)
    assert "Forward: not forwarded (captured without --forward)" in detail.raw.toPlainText()


def test_the_window_forwards_and_shows_the_queue(qtbot: Any, tmp_path: Path) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{unused.getsockname()[1]}"
    db = tmp_path / "captures.sqlite3"
    bridge = CaptureBridge(interval_ms=20)
    capture = CaptureController(CaptureConfig(port=0, db_path=db, session_name="QA",
                                              forward_url=dead), bridge)
    assert f"--forward {dead}" in " ".join(capture.command())
    window = MainWindow(EventStore(db), capture=capture, bridge=bridge, state=UiState())
    qtbot.addWidget(window)
    assert window.start_capture(), window.banner.text()
    try:
        assert capture.base_url is not None
        assert httpx.post(f"{capture.base_url}/v1/t", json=track()).status_code == 200
        qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=5000)
        window.table.selectRow(0)
        chip = window.detail.forward_chip
        assert chip.isVisibleTo(window.detail)
        assert chip.text().startswith("⇢ forward queued")
        assert "Forward: queued" in window.detail.raw.toPlainText()
    finally:
        window.close()
