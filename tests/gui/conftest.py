"""Fixtures for the window's tests: offscreen Qt, an isolated QSettings, a store and a writer."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import asyncio
import inspect
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import qasync
from PySide6.QtCore import QCoreApplication, QSettings

from inspector.core.capture.service import CaptureConfig
from inspector.core.model import Status, Violation
from inspector.core.store import EventStore, GroupCommitWriter, PendingEvent, PendingRequest
from inspector.gui.bridge import CaptureBridge
from inspector.gui.capture import CaptureController
from inspector.gui.main_window import MainWindow
from inspector.gui.state import UiState


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, qapp: Any) -> Iterator[None]:
    """Never read or write the developer's own QSettings."""
    QCoreApplication.setOrganizationName("inspector-tests")
    QCoreApplication.setApplicationName("inspector-tests")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qs"))
    return


@pytest.fixture(scope="session")
def _qasync_session_loop(qapp: Any) -> asyncio.AbstractEventLoop:
    """One qasync loop for the whole run: closing one per test left its Qt socket notifier on
    a file descriptor number that the next test's QProcess reused."""
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.events._set_running_loop(None)
    return loop


@pytest.fixture(autouse=True)
def qasync_loop(request: pytest.FixtureRequest, qapp: Any,
                _qasync_session_loop: asyncio.AbstractEventLoop
                ) -> Iterator[asyncio.AbstractEventLoop | None]:
    """The window's qasync loop, as :func:`inspector.gui.app.run` installs it, running inside
    pytest-qt's event processing (``qtbot.wait*`` drive its coroutines). Not for the
    pytest-asyncio tests here, which bring their own loop."""
    if inspect.iscoroutinefunction(request.function):
        yield None
        return
    loop = _qasync_session_loop
    asyncio.set_event_loop(loop)
    asyncio.events._set_running_loop(loop)
    try:
        yield loop
    finally:
        # A closed window cancels its coroutines; one nobody cancelled is a leak.
        leftover = [task for task in asyncio.all_tasks(loop)
                    if not task.done() and not task.cancelling()]
        for task in asyncio.all_tasks(loop):
            task.cancel()
        deadline = time.monotonic() + 5
        while any(not task.done() for task in asyncio.all_tasks(loop)):
            if time.monotonic() > deadline:
                break
            qapp.processEvents()  # let the cancellations run (no sleep: events are waiting)
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)
        assert not leftover, f"the test left coroutines running: {leftover}"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    db = EventStore(tmp_path / "inspector.sqlite3")
    yield db
    db.close()


@pytest.fixture
def writer(store: EventStore) -> Iterator[GroupCommitWriter]:
    w = GroupCommitWriter(store.path)
    w.start()
    yield w
    w.stop()


def make_capture_window(qtbot: Any, tmp_path: Path, port: int = 0,
                        host: str = "127.0.0.1") -> MainWindow:
    """A main window whose capture child (``inspector serve``) will listen on ``host:port``."""
    db = tmp_path / "captures.sqlite3"
    bridge = CaptureBridge(interval_ms=20)
    capture = CaptureController(
        CaptureConfig(host=host, port=port, db_path=db, session_name="QA"), bridge)
    window = MainWindow(EventStore(db), capture=capture, bridge=bridge, state=UiState())
    qtbot.addWidget(window)
    return window


@pytest.fixture
def capture_window(qtbot: Any, tmp_path: Path) -> Iterator[MainWindow]:
    """A main window with its capture child running, closed after the test."""
    win = make_capture_window(qtbot, tmp_path)
    assert win.start_capture(), win.banner.text()
    yield win
    win.close()


def make_event(
    name: str = "Order Completed",
    *,
    type_: str = "track",
    status: Status = Status.VALID,
    violations: list[Violation] | None = None,
    user_id: str | None = "u1",
    anonymous_id: str | None = "a1",
    write_key: str = "wk",
    properties: dict[str, Any] | None = None,
) -> PendingEvent:
    violations = violations or []
    payload: dict[str, Any] = {"type": type_, "userId": user_id, "anonymousId": anonymous_id,
                               "properties": properties or {}}
    if type_ == "track":
        payload["event"] = name
    else:
        payload["name"] = name
    return PendingEvent(
        received_at=time.time(),
        write_key=write_key,
        type=type_,
        name=name,
        user_id=user_id,
        anonymous_id=anonymous_id,
        message_id=None,
        library="test",
        status=str(status),
        violation_count=len(violations),
        violations_json=orjson.dumps([v.to_dict() for v in violations]).decode(),
        payload_json=orjson.dumps(payload).decode(),
    )


def make_request(session_id: int, events: list[PendingEvent]) -> PendingRequest:
    body = orjson.dumps({"batch": [orjson.loads(e.payload_json or "{}") for e in events]})
    return PendingRequest(
        session_id=session_id,
        received_at=time.time(),
        method="POST",
        path="/v1/batch",
        query=None,
        remote_addr="127.0.0.1",
        headers_json=orjson.dumps({"Content-Type": "application/json"}).decode(),
        body=body,
        body_size=len(body),
        http_status=200,
        write_key="wk",
        write_key_source="basic-auth",
        events=events,
    )


def write_note(dialog: Any, text: str, mark: str | None) -> None:
    """Fill the open note dialog (a ``NoteDialog``) and press OK."""
    from PySide6.QtWidgets import QDialogButtonBox

    assert dialog is not None
    assert dialog.isVisible()
    dialog.text.setPlainText(text)
    dialog.mark.setCurrentIndex(dialog.mark.findData(mark))
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()


def flow_step(model: Any, flow: str, name: str) -> Any:
    """The index of step ``name`` of ``flow`` in a ``FlowStepsModel``."""
    for row in range(model.rowCount()):
        parent = model.index(row, 0)
        result = model.flow(parent)
        if result is not None and result.flow == flow:
            for step_row in range(model.rowCount(parent)):
                index = model.index(step_row, 0, parent)
                step = model.step(index)
                if step is not None and step.name == name:
                    return index
    raise AssertionError((flow, name))
