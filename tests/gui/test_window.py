"""The window end to end: real HTTP into the running endpoint, through the bridge, to the UI."""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLabel, QMessageBox

from inspector.core.demo import DEMO_CALLS, send_demo_traffic
from inspector.gui.main_window import MainWindow
from inspector.gui.models.event_table import Column
from inspector.gui.state import UiState
from inspector.gui.theme import status_color
from tests.gui.conftest import make_capture_window
from tests.gui.fakes import write_plan


@pytest.fixture
def window(capture_window: MainWindow) -> MainWindow:
    return capture_window


def _row_named(window: MainWindow, name: str, nth: int = 0) -> int:
    rows = [r for r in range(window.model.rowCount())
            if window.model.index(r, Column.NAME).data() == name]
    return rows[nth]


def _load_plan(window: MainWindow, qtbot: Any, path: Path) -> None:
    """Load a plan and wait for the capture child's re-validation to come back."""
    with qtbot.waitSignal(window.sig_revalidated, timeout=10000):
        assert window.load_plan_file(path), window.banner.text()


def _demo(window: MainWindow, qtbot: Any) -> None:
    assert window.capture is not None
    url = window.capture.base_url
    assert url is not None
    assert send_demo_traffic(url) == DEMO_CALLS
    qtbot.waitUntil(lambda: window.model.rowCount() == DEMO_CALLS, timeout=5000)


def test_http_events_appear_coloured_and_violations_highlight_the_field(
    window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    _load_plan(window, qtbot, write_plan(tmp_path / "plan.json"))
    _demo(window, qtbot)
    model = window.model
    viewed = _row_named(window, "Product Viewed")
    status = model.index(viewed, Column.STATUS)
    assert status.data() == "invalid · 1"
    assert status.data(Qt.ItemDataRole.ForegroundRole).color() == status_color("invalid")
    unplanned = model.index(_row_named(window, "Completed Order"), Column.STATUS)
    assert unplanned.data(Qt.ItemDataRole.ForegroundRole).color() == status_color("unplanned")
    ok = model.index(_row_named(window, "Checkout Started"), Column.STATUS)
    assert ok.data(Qt.ItemDataRole.ForegroundRole).color() == status_color("valid")

    window.table.selectRow(viewed)
    detail = window.detail
    assert detail.record is not None
    assert detail.record.name == "Product Viewed"
    assert detail.violations.rowCount() == 1
    assert detail.violations.index(0, 1).data() == "properties.price"
    assert detail.violations.index(0, 2).data() == "Invalid type. Expected: number, given: string"
    price_line = detail.text.toPlainText().splitlines().index('    "price": "12.5",')
    highlighted = detail.highlighted_lines()
    assert set(highlighted) == {price_line}
    assert highlighted[price_line].rgb() == status_color("invalid").rgb()

    # The problem entry reads whole: kind, field, message, what to send.
    [entry] = detail.problems.entries
    assert entry.chip.text() == "✕ Invalid Type"
    assert entry.field.text() == "properties.price"
    assert entry.message.text() == "Invalid type. Expected: number, given: string"
    assert entry.advice.text() == "→ send a number"
    # Clicking it jumps to the field in the tree and in the text.
    with qtbot.waitSignal(detail.sig_field_focused, timeout=2000) as blocker:
        qtbot.mouseClick(entry, Qt.MouseButton.LeftButton)
    assert blocker.args == ["properties.price"]
    assert detail.tree.currentItem() is detail.tree_item("properties.price")
    assert detail.text.textCursor().blockNumber() == price_line

    # The raw request came over real HTTP, with the key in the body (analytics.js style).
    assert "POST /v1/t" in detail.raw.toPlainText()
    assert "came from: body" in detail.raw.toPlainText()


def test_a_truncated_rejected_body_says_so_in_the_raw_request(
    window: MainWindow, qtbot: Any
) -> None:
    assert window.capture is not None
    url = window.capture.base_url
    assert url is not None
    body = b'{"batch": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    assert httpx.post(f"{url}/v1/batch", content=body).status_code == 400
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=5000)
    window.table.selectRow(0)
    raw = window.detail.raw.toPlainText()
    assert (f"Body truncated: the first 65,536 of {len(body):,} bytes are kept (SHA-256 of the "
            f"whole body: {hashlib.sha256(body).hexdigest()})") in raw
    assert not window.editor.has_unsaved_edit()


def test_filters_narrow_the_table(window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    _load_plan(window, qtbot, write_plan(tmp_path / "plan.json"))
    _demo(window, qtbot)
    bar = window.filter_bar
    qtbot.keyClicks(bar.event_edit, "Order Completed")
    qtbot.waitUntil(lambda: window.model.rowCount() == 2, timeout=3000)
    bar.status_box.setCurrentIndex(bar.status_box.findData("invalid"))
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=3000)
    assert window.model.index(0, Column.STATUS).data() == "invalid · 1"
    bar.clear()
    qtbot.waitUntil(lambda: window.model.rowCount() == DEMO_CALLS, timeout=3000)
    bar.type_box.setCurrentIndex(bar.type_box.findData("page"))
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=3000)
    bar.clear()
    qtbot.keyClicks(bar.text_edit, "too_expensive")
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=3000)
    assert window.model.index(0, Column.NAME).data() == "Subscription Canceled"
    # The event-name completer offers what was seen.
    assert "Completed Order" in bar._names.stringList()
    # A filtered view keeps following live events that match it.
    assert window.capture is not None
    assert window.capture.base_url
    send_demo_traffic(window.capture.base_url)
    qtbot.waitUntil(lambda: window.model.rowCount() == 2, timeout=5000)


def test_saved_filters_persist(window: MainWindow, qtbot: Any) -> None:
    bar = window.filter_bar
    bar.status_box.setCurrentIndex(bar.status_box.findData("problems"))
    bar.save_current("Problems")
    assert UiState().saved_filters() == {"Problems": {"status": "problems"}}
    bar.clear()
    with qtbot.waitSignal(window.model.sig_query_applied, timeout=2000):
        bar.apply_saved("Problems")
    assert window.model.query.status == ["invalid", "unplanned", "malformed"]


def test_plan_loading_through_the_ui(
    window: MainWindow, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _demo(window, qtbot)  # captured before any plan: not validated
    assert window.model.index(0, Column.STATUS).data() == "not validated"
    plan = write_plan(tmp_path / "plan.json")
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(plan), "")))
    from PySide6.QtWidgets import QPushButton

    button = window.plan_panel.findChild(QPushButton, "loadPlanButton")
    with qtbot.waitSignals([window.sig_plan_loaded, window.sig_revalidated, window.sig_counted],
                           timeout=10000):  # the counts are read again on a worker
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    # Loading re-validated (in the capture child) the session already captured.
    row = _row_named(window, "Product Viewed")
    assert window.model.index(row, Column.STATUS).data() == "invalid · 1"
    panel = window.plan_panel.model
    names = [panel.index(r, 0).data() for r in range(panel.rowCount())]
    assert "Cart Viewed  (never seen)" in names
    assert "Completed Order  (unplanned)" in names
    order = next(r for r in range(panel.rowCount()) if panel.row_data(r).name == "Order Completed")
    assert (panel.index(order, 1).data(), panel.index(order, 2).data()) == ("2", "1")
    assert UiState().recent_plans() == [str(plan)]
    assert [a.text() for a in window.recent_menu.actions()] == [str(plan)]


def test_plan_drop_and_unreadable_plan_message(window: MainWindow, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(broken))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    assert "Plan not loaded" in window.banner.text()
    assert window.plan is None
    mime.setUrls([QUrl.fromLocalFile(str(write_plan(tmp_path / "ok.json")))])
    window.dropEvent(QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                                Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
    assert window.plan is not None
    assert window.banner.text() == ""


def test_real_plan_loader_reports_problems_clearly(tmp_path: Path) -> None:
    from inspector.gui.plans import PlanLoadError, load_plan

    with pytest.raises(PlanLoadError, match="No such file"):
        load_plan(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("[1,")
    with pytest.raises(PlanLoadError, match="invalid JSON"):
        load_plan(tmp_path / "bad.json")
    if hasattr(os, "mkfifo"):  # picked in the dialog, a FIFO would block the GUI thread
        os.mkfifo(tmp_path / "fifo.json")
        with pytest.raises(PlanLoadError, match="not a regular file"):
            load_plan(tmp_path / "fifo.json")


def test_session_switching_and_export_through_the_ui(
    window: MainWindow, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _demo(window, qtbot)
    first = window.session_id
    window.act_new_session.trigger()
    assert window.session_id != first
    assert window.model.rowCount() == 0
    assert window.capture is not None
    assert window.capture.session is not None
    assert window.capture.session.id == window.session_id  # capture follows the new session
    panel = window.sessions_panel
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=2000)  # refreshed after paint
    assert first is not None
    panel.select_session(first)
    from PySide6.QtWidgets import QPushButton

    with qtbot.waitSignal(window.sig_session_changed, timeout=2000):
        qtbot.mouseClick(panel.findChild(QPushButton, "openSessionButton"),
                         Qt.MouseButton.LeftButton)
    assert window.session_id == first
    assert window.model.rowCount() == DEMO_CALLS
    # Export the selected session as NDJSON via the panel's button and the file dialog.
    target = tmp_path / "out"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(target), "NDJSON (*.ndjson)")))
    with qtbot.waitSignal(window.sig_exported, timeout=5000) as exported:  # on a worker
        qtbot.mouseClick(panel.findChild(QPushButton, "exportSessionButton"),
                         Qt.MouseButton.LeftButton)
    assert exported.args == [DEMO_CALLS]
    assert window.status.currentMessage() == (
        f"Exported {DEMO_CALLS} events to {tmp_path / 'out.ndjson'}")
    assert not window.status.busy.isVisible()
    lines = (tmp_path / "out.ndjson").read_bytes().splitlines()
    assert len(lines) == DEMO_CALLS
    assert orjson.loads(lines[0])["type"] == "page"
    # Rename and delete.
    window.rename_session(first, "Checkout run 1")
    assert window.store.session_by_id(first).name == "Checkout run 1"  # type: ignore[union-attr]
    asked: list[str] = []

    def yes(_parent: Any, _title: str, text: str, *_a: Any, **_k: Any) -> Any:
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", staticmethod(yes))
    qtbot.mouseClick(panel.findChild(QPushButton, "deleteSessionButton"),
                     Qt.MouseButton.LeftButton)
    # The confirmation names the session and what goes with it.
    assert asked == [f"Delete the session 'Checkout run 1' and its {DEMO_CALLS} events? "
                     "This cannot be undone."]
    assert window.store.session_by_id(first) is None
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=2000)


def test_port_in_use_is_a_message_not_a_crash(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    try:
        win = make_capture_window(qtbot, tmp_path, port=blocker.getsockname()[1])
        assert not win.start_capture()
        assert "already in use" in win.banner.text()
        assert win.act_start.isEnabled()
        # Choosing another port in the Port dialog starts capture there (it used to only
        # store the port, and the banner stayed).
        monkeypatch.setattr(QInputDialog, "getInt", staticmethod(lambda *a, **k: (0, True)))
        win.act_port.trigger()
        assert win.capture is not None
        assert win.capture.running
        assert win.banner.text() == ""
        win.close()
    finally:
        blocker.close()


def test_markup_in_events_is_shown_as_text(window: MainWindow, qtbot: Any) -> None:
    import httpx

    assert window.capture is not None
    assert window.capture.base_url
    httpx.post(f"{window.capture.base_url}/v1/track",
               json={"userId": "<b>u</b>", "event": "<img src=x onerror=alert(1)>",
                     "properties": {"html": "<b>bold</b>"}},
               auth=("wk", ""))
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=5000)
    assert window.model.index(0, Column.NAME).data() == "<img src=x onerror=alert(1)>"
    window.table.selectRow(0)
    assert "<img src=x onerror=alert(1)>" in window.detail.title.text()
    for label in window.detail.findChildren(QLabel):
        assert label.textFormat() == Qt.TextFormat.PlainText, label.objectName()
    assert '"<b>bold</b>"' in window.detail.text.toPlainText()


def test_copy_json_and_curl(window: MainWindow, qtbot: Any) -> None:
    from PySide6.QtGui import QGuiApplication

    _demo(window, qtbot)
    window.table.selectRow(_row_named(window, "Order Completed"))
    window.act_copy_json.trigger()
    assert orjson.loads(QGuiApplication.clipboard().text())["event"] == "Order Completed"
    window.act_copy_curl.trigger()
    curl = QGuiApplication.clipboard().text()
    assert curl.startswith("curl -X POST")
    assert window.capture is not None
    assert window.capture.base_url
    assert f"{window.capture.base_url}/v1/track" in curl


def test_demo_action_and_window_state_persist(
    window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    with qtbot.waitSignal(window.sig_demo_finished, timeout=10000) as blocker:
        window.act_demo.trigger()
    assert blocker.args == [DEMO_CALLS]
    qtbot.waitUntil(lambda: window.model.rowCount() == DEMO_CALLS, timeout=5000)
    window.table.setColumnWidth(Column.NAME, 311)
    window.save_state()
    again = MainWindow(window.store, state=UiState())
    qtbot.addWidget(again)
    assert again.table.columnWidth(Column.NAME) == 311


def test_autoscroll_only_when_pinned(window: MainWindow, qtbot: Any) -> None:
    window.resize(900, 400)
    window.show()
    qtbot.waitExposed(window)
    assert window.capture is not None
    assert window.capture.base_url
    for _ in range(4):
        send_demo_traffic(window.capture.base_url)
    qtbot.waitUntil(lambda: window.model.rowCount() == 4 * DEMO_CALLS, timeout=5000)
    bar = window.table.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum(), timeout=3000)
    bar.setValue(0)
    assert not window.table.pinned
    send_demo_traffic(window.capture.base_url)
    qtbot.waitUntil(lambda: window.model.rowCount() == 5 * DEMO_CALLS, timeout=5000)
    assert bar.value() == 0
    bar.setValue(bar.maximum())
    assert window.table.pinned
    send_demo_traffic(window.capture.base_url)
    qtbot.waitUntil(lambda: window.model.rowCount() == 6 * DEMO_CALLS, timeout=5000)
    qtbot.waitUntil(lambda: bar.value() == bar.maximum(), timeout=3000)


def test_bundled_plan_flags_exactly_the_planted_mistakes(
    qtbot: Any, tmp_path: Path
) -> None:
    """The real plan package and the bundled example plan, end to end over HTTP."""
    from inspector.core.resources import example_plan_path
    from inspector.gui.plans import load_plan

    win = make_capture_window(qtbot, tmp_path)
    win._plan_loader = load_plan
    assert win.start_capture()
    _load_plan(win, qtbot, example_plan_path())
    _demo(win, qtbot)
    problems = {
        (win.model.index(r, Column.NAME).data(), win.model.index(r, Column.STATUS).data())
        for r in range(win.model.rowCount())
        if not win.model.index(r, Column.STATUS).data().startswith("valid")
    }
    assert problems == {("Product Viewed", "invalid · 1"), ("Order Completed", "invalid · 1"),
                        ("Completed Order", "unplanned · 1")}
    win.table.selectRow(_row_named(win, "Completed Order"))
    # the suggestion
    assert win.detail.violations.index(0, 3).data() == "did you mean `Order Completed`?"
    panel = win.plan_panel.model

    def planned() -> list[tuple[str, int, int]]:
        rows = [panel.row_data(r) for r in range(panel.rowCount())]
        return [(n.name, n.seen, n.violated) for n in rows if n.planned]

    # The plan panel recounts live traffic at most every 2 s.
    qtbot.waitUntil(lambda: planned() == [
        # The iPhone's Product Viewed and Added to Cart are in the plan's terms.
        ("Product Viewed", 3, 1), ("Added to Cart", 3, 0), ("Checkout Started", 1, 0),
        ("Order Completed", 2, 1), ("Subscription Canceled", 1, 0)], timeout=5000)
    win.close()


def test_live_events_keep_plan_and_session_counts_without_sql(
    window: MainWindow, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _load_plan(window, qtbot, write_plan(tmp_path / "plan.json"))
    recounts: list[int] = []
    real_stats, real_sessions = window.store.event_stats, window.store.list_sessions
    monkeypatch.setattr(window.store, "event_stats",
                        lambda *a, **k: recounts.append(1) or real_stats(*a, **k))
    monkeypatch.setattr(window.store, "list_sessions",
                        lambda *a, **k: recounts.append(2) or real_sessions(*a, **k))
    _demo(window, qtbot)
    # Events committed before an SQL recount but drained after it are not counted twice.
    window.bridge.stop()
    assert window.capture is not None
    assert window.capture.base_url is not None
    assert send_demo_traffic(window.capture.base_url) == DEMO_CALLS
    qtbot.waitUntil(
        lambda: sum(window.store.status_counts(window.session_id).values()) == 2 * DEMO_CALLS,
        timeout=5000)
    window.refresh_plan_panel()
    window.refresh_sessions()
    recounts.clear()

    def drained(rows: int) -> bool:
        window.bridge.drain()
        return window.model.rowCount() == rows

    qtbot.waitUntil(lambda: drained(2 * DEMO_CALLS), timeout=5000)
    assert send_demo_traffic(window.capture.base_url) == DEMO_CALLS  # and live ones after it are
    qtbot.waitUntil(lambda: drained(3 * DEMO_CALLS), timeout=5000)
    expected = real_stats(window.session_id)
    panel = window.plan_panel.model

    def shown() -> dict[str, tuple[int, int]]:
        rows = (panel.row_data(r) for r in range(panel.rowCount()))
        return {row.name: (row.seen, row.violated) for row in rows if row.seen}

    qtbot.waitUntil(lambda: shown() == expected, timeout=5000)
    assert expected["Order Completed"] == (6, 3)
    sessions = window.sessions_panel.model
    assert window.session_id is not None
    row = sessions.row_of(window.session_id)
    assert row is not None
    qtbot.waitUntil(lambda: sessions.session(row).event_count == 3 * DEMO_CALLS, timeout=5000)
    assert sessions.index(row, 2).data() == str(3 * DEMO_CALLS)
    assert recounts == []  # counted from the live batches alone


def test_first_run_shows_every_table_column_beside_the_detail_pane(
    qtbot: Any, tmp_path: Path
) -> None:
    win = make_capture_window(qtbot, tmp_path)  # no saved state: first run
    win.resize(*win.DEFAULT_SIZE)  # the default size, as on a screen big enough for it
    win.show()
    qtbot.waitExposed(win)
    header = win.table.horizontalHeader()
    last = win.model.columnCount() - 1
    # The Source column (the last one) starts well inside the view.
    qtbot.waitUntil(lambda: header.sectionPosition(last) + 60 <= win.table.viewport().width(),
                    timeout=3000)
    assert win.splitter.sizes()[1] >= 360
    win.close()
