"""Environments in the window: a colour band per event, the session's in the status bar."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from inspector.core.audit import AuditConfig
from inspector.core.audit.config import EnvironmentConfig
from inspector.core.capture import CaptureConfig
from inspector.core.environments import EnvironmentMap
from inspector.core.store import EventQuery, EventStore, GroupCommitWriter
from inspector.gui.bridge import CaptureBridge
from inspector.gui.capture import CaptureController
from inspector.gui.main_window import MainWindow
from inspector.gui.models.event_table import ENVIRONMENT_ROLE, Column, EventTableModel
from inspector.gui.state import UiState
from inspector.gui.widgets.event_table_view import EventTableView
from tests.gui.conftest import make_event, make_request

STAGING = EnvironmentConfig(name="staging", write_keys=["stg-key"], hosts=["staging.shop.test"])
PRODUCTION = EnvironmentConfig(name="production", production=True, write_keys=["web prod"],
                               hosts=["shop.test"])
ENVIRONMENTS = EnvironmentMap([STAGING, PRODUCTION])


def test_each_row_carries_its_environment_stored_and_live(
    store: EventStore, writer: GroupCommitWriter, qtbot: Any, qtmodeltester: Any,
) -> None:
    session = store.create_session("envs")
    store.name_write_key("prod-key", "web prod")  # production lists the key by its name
    writer.write(make_request(session.id, [
        make_event("Added to Cart", write_key="prod-key"),
        make_event("Added to Cart", write_key="stg-key"),
        make_event("Added to Cart", write_key="other-key"),
    ]))
    model = EventTableModel(store)
    model.set_environments(ENVIRONMENTS)
    model.set_query(EventQuery(session_id=session.id))
    assert [model.index(r, 0).data(ENVIRONMENT_ROLE) for r in range(3)] == [
        "production", "staging", None]
    assert model.index(0, Column.TIME).data(Qt.ItemDataRole.ToolTipRole) == \
        "production environment"
    assert model.index(2, Column.TIME).data(Qt.ItemDataRole.ToolTipRole) is None
    # Live rows are labelled the same way.
    _, committed = writer.write(make_request(session.id, [
        make_event("Checkout Started", write_key="stg-key")]))
    assert model.append_committed(committed) == 1
    assert model.index(3, 0).data(ENVIRONMENT_ROLE) == "staging"
    assert model.environment_colors == {"staging": "#0072B2", "production": "#D55E00"}
    qtmodeltester.check(model, force_py=True)

    # The band is painted at the start of each row's Time cell, in its environment's colour.
    view = EventTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(900, 300)
    view.show()
    qtbot.waitExposed(view)
    image = view.viewport().grab().toImage()

    def band(row: int) -> str:
        rect = view.visualRect(model.index(row, Column.TIME))
        return QColor(image.pixel(rect.left() + 1, rect.center().y())).name()

    assert band(0) == "#d55e00"
    assert band(1) == "#0072b2"
    assert band(2) not in ("#d55e00", "#0072b2")  # a key in no environment: no band

    # Without environments nothing changes: no role value, no band.
    model.set_environments(EnvironmentMap())
    assert model.index(0, 0).data(ENVIRONMENT_ROLE) is None
    qtmodeltester.check(model, force_py=True)


def _send(base_url: str, key: str, url: str) -> None:
    """An analytics.js-shaped track call from ``url``."""
    response = httpx.post(f"{base_url}/v1/t", timeout=10, json={
        "type": "track", "event": "Added to Cart", "userId": "81001", "writeKey": key,
        "messageId": str(uuid.uuid4()),
        "context": {"library": {"name": "analytics.js"}, "page": {"url": url}},
    })
    response.raise_for_status()


def test_the_status_bar_shows_the_sessions_environments(qtbot: Any, tmp_path: Path) -> None:
    db = tmp_path / "captures.sqlite3"
    bridge = CaptureBridge(interval_ms=20)
    capture = CaptureController(
        CaptureConfig(port=0, db_path=db, session_name="QA"), bridge)
    store = EventStore(db)
    store.name_write_key("prod-key", "web prod")
    window = MainWindow(store, capture=capture, bridge=bridge, state=UiState(),
                        audit_config=AuditConfig(environments=[STAGING, PRODUCTION]))
    qtbot.addWidget(window)
    assert window.start_capture(), window.banner.text()
    try:
        window.show()
        label = window.status.environment_label
        assert label.isVisible()
        assert window.capture is not None
        base_url = window.capture.base_url
        _send(base_url, "stg-key", "https://staging.shop.test/")
        qtbot.waitUntil(lambda: "staging" in label.text(), timeout=5000)
        assert label.text() == '<span style="color: #0072B2">■</span> staging'.join(
            ["Environment: ", ""])
        # A production call in the same session: both, with a warning sign.
        _send(base_url, "prod-key", "https://staging.shop.test/")
        qtbot.waitUntil(lambda: "production" in label.text(), timeout=5000)
        assert label.text().startswith("⚠ Environments: ")
        assert "several environments in one session" in label.toolTip()
        _send(base_url, "someone-else", "https://shop.test/")
        qtbot.waitUntil(lambda: "unlisted" in label.text(), timeout=5000)
        assert label.text().endswith("? 1 unlisted key")
        qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=5000)
        assert [window.model.index(r, 0).data(ENVIRONMENT_ROLE) for r in range(3)] == [
            "staging", "production", None]
    finally:
        window.close()


def test_without_environments_the_status_bar_says_nothing_of_them(
    qtbot: Any, store: EventStore, writer: GroupCommitWriter,
) -> None:
    session = store.create_session("plain")
    writer.write(make_request(session.id, [make_event("Added to Cart", write_key="k")]))
    window = MainWindow(store, state=UiState())
    qtbot.addWidget(window)
    window.show()
    window.open_session(session.id)
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=5000)
    assert window.status.environment_label.isHidden()
    assert window.model.index(0, 0).data(ENVIRONMENT_ROLE) is None
