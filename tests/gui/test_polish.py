"""The window's crashes, silent failures and wrong texts from issue 11, each pinned down."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox

from inspector.core.demo import DEMO_CALLS, send_demo_traffic
from inspector.core.model import Severity, Source, Status, Violation
from inspector.core.store import EventStore, GroupCommitWriter
from inspector.gui.app import build_window, open_store
from inspector.gui.main_window import MainWindow
from inspector.gui.models.event_table import Column
from inspector.gui.state import UiState
from tests.gui.conftest import make_event, make_request

PRICE = Violation("Invalid Type", "properties.price",
                  "Invalid type. Expected: number, given: string", source=Source.PLAN)
ORDER_ID = Violation("Required", "properties.order_id", "properties.order_id is required",
                     source=Source.PLAN)
EXTRA = Violation("Unplanned Property", "properties.coupon",
                  "properties.coupon is not in the tracking plan (unplanned property)",
                  Severity.WARNING, source=Source.PLAN)


def _session(store: EventStore, writer: GroupCommitWriter, name: str = "polish") -> int:
    session = store.create_session(name)
    writer.write(make_request(session.id, [
        make_event("Product Viewed", status=Status.INVALID, violations=[PRICE],
                   properties={"product_id": "P-A", "price": "12.5"}),
        make_event("Order Completed", status=Status.INVALID, violations=[ORDER_ID]),
        make_event("Checkout Started", status=Status.VALID, violations=[EXTRA],
                   properties={"coupon": "X"}),
    ]))
    return session.id


@pytest.fixture
def window(qtbot: Any, store: EventStore, writer: GroupCommitWriter) -> MainWindow:
    """A window without capture over a session of three events (counts read, idle)."""
    session_id = _session(store, writer)
    win = MainWindow(store, state=UiState())
    qtbot.addWidget(win)
    win.open_session(session_id)
    qtbot.waitUntil(lambda: not win.busy, timeout=5000)
    return win


def _row(window: MainWindow, name: str) -> int:
    return next(r for r in range(window.model.rowCount())
                if window.model.index(r, Column.NAME).data() == name)


def _answer(monkeypatch: pytest.MonkeyPatch, answer: QMessageBox.StandardButton) -> list[str]:
    asked: list[str] = []

    def question(_parent: Any, _title: str, text: str, *_a: Any, **_k: Any) -> Any:
        asked.append(text)
        return answer

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return asked


# ---- crashes and silent failures


def test_a_database_path_under_a_file_asks_for_another_and_uses_it(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    good = tmp_path / "elsewhere" / "captures.sqlite3"
    shown: list[str] = []

    def exec_choosing_another(box: QMessageBox) -> int:
        shown.append(box.text())
        next(b for b in box.buttons() if b.text() == "Choose another file…").click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", exec_choosing_another)
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(good), "")))
    args = argparse.Namespace(db=str(blocker / "captures.sqlite3"), host="127.0.0.1", port=0,
                              session=None, plan=None, demo=False)
    window = build_window(args)
    assert window is not None
    qtbot.addWidget(window)
    try:
        assert shown == [f"The capture database {blocker / 'captures.sqlite3'} cannot be used:\n"
                         f"{blocker} is a file, so no folder can be made inside it"]
        assert window.store.path == good
        assert window.capture is not None
        assert window.capture.running, window.banner.text()
    finally:
        window.close()


def test_giving_up_on_the_database_opens_no_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setattr(QMessageBox, "exec", lambda box: next(
        b for b in box.buttons() if b.text() == "Quit").click())
    assert open_store(blocker / "x.sqlite3") is None


def test_an_unsaved_edit_prompts_before_another_row_is_shown(
    window: MainWindow, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = _row(window, "Product Viewed"), _row(window, "Order Completed")
    window.table.selectRow(first)
    shown = window.detail.record
    assert shown is not None
    edited = {**(shown.payload or {}), "properties": {"product_id": "P-A", "price": 12.5}}
    window.editor.set_text(orjson.dumps(edited).decode())

    asked = _answer(monkeypatch, QMessageBox.StandardButton.Cancel)
    window.table.selectRow(second)
    assert asked == ["The edit of Product Viewed is not saved. Save it as a correction?"]
    assert window.detail.record is not None
    assert window.detail.record.id == shown.id  # cancel keeps the edited event
    assert [i.row() for i in window.table.selectionModel().selectedRows()] == [first]
    assert window.editor.has_unsaved_edit()

    _answer(monkeypatch, QMessageBox.StandardButton.Save)
    window.table.selectRow(second)
    assert window.detail.record is not None
    assert window.detail.record.name == "Order Completed"
    correction = window.corrections.get(shown.id)
    assert correction is not None
    assert correction.corrected["properties"]["price"] == 12.5

    window.editor.set_text("{}")
    _answer(monkeypatch, QMessageBox.StandardButton.Discard)
    window.table.selectRow(first)
    assert window.detail.record is not None
    assert window.detail.record.id == shown.id
    assert window.corrections.get(window.model.event_id(second)) is None


def test_export_from_the_window_keeps_the_malformed_capture_and_counts_it(
    capture_window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    window = capture_window
    assert window.capture is not None
    url = window.capture.base_url
    assert url is not None
    assert send_demo_traffic(url) == DEMO_CALLS
    httpx.post(f"{url}/v1/t", content=b"{not json")
    qtbot.waitUntil(lambda: window.model.rowCount() == DEMO_CALLS + 1, timeout=5000)
    target = tmp_path / "all.ndjson"
    with qtbot.waitSignal(window.sig_exported, timeout=5000) as exported:
        window.export_view(target, "ndjson")
    assert exported.args == [DEMO_CALLS + 1]
    assert window.status.currentMessage() == (
        f"Exported {DEMO_CALLS + 1} events (1 malformed, as received) to {target}")
    assert target.read_text().splitlines()[-1] == "{not json"


def test_a_failing_tail_listener_reaches_the_banner_and_events_keep_coming(
    capture_window: MainWindow, qtbot: Any
) -> None:
    window = capture_window
    assert window.capture is not None
    tail = window.capture.tail
    assert tail is not None

    def broken(_events: object) -> None:
        raise ValueError("listener bug")

    tail.add_listener(broken)
    assert window.capture.base_url is not None
    send_demo_traffic(window.capture.base_url)
    qtbot.waitUntil(lambda: "listener bug" in window.banner.text(), timeout=5000)
    assert window.banner.text() == "Following new events failed: listener bug"
    qtbot.waitUntil(lambda: window.model.rowCount() == DEMO_CALLS, timeout=5000)


def test_a_background_task_failure_reaches_the_banner(window: MainWindow, qtbot: Any) -> None:
    window.tasks.submit(lambda: 1 // 0, lambda _result: None, what="Counting")
    qtbot.waitUntil(lambda: window.banner.text() != "", timeout=5000)
    assert window.banner.text() == "Counting failed: integer division or modulo by zero"


def test_re_validation_with_capture_stopped_runs_off_the_gui_thread(
    window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    from tests.gui.fakes import write_plan

    assert window.load_plan_file(write_plan(tmp_path / "plan.json"), revalidate_now=False)
    with qtbot.waitSignal(window.sig_revalidated, timeout=10000) as done:
        window.revalidate()
        assert window.busy  # answered later, on a worker
        assert not window.act_revalidate.isEnabled()
        assert window.status.busy_label.text() == "Re-validating…"
    assert done.args[0] >= 0
    qtbot.waitUntil(lambda: not window.busy, timeout=5000)  # then the counts, on a worker
    assert window.act_revalidate.isEnabled()


# ---- legibility and stale texts


def test_opening_a_session_counts_it_in_the_background_and_says_how_many(
    window: MainWindow, store: EventStore, writer: GroupCommitWriter, qtbot: Any
) -> None:
    other = _session(store, writer, "second")
    window.filter_bar.set_state({**window.filter_bar.state(), "status": "invalid"})
    qtbot.waitUntil(lambda: window.status.currentMessage() == "2 events match", timeout=5000)
    window.open_session(other)
    assert window.busy
    assert window.status.currentMessage() == ""  # no count from the previous view
    qtbot.waitUntil(lambda: not window.busy, timeout=5000)
    assert window.status.currentMessage() == "second: 3 events"
    assert sum(window.status.counts().values()) == 3


def test_a_filter_that_hides_the_shown_event_clears_the_detail_pane(
    window: MainWindow, qtbot: Any
) -> None:
    window.table.selectRow(_row(window, "Checkout Started"))
    assert window.detail.record is not None
    with qtbot.waitSignal(window.model.sig_query_applied, timeout=5000):
        window.filter_bar.set_state({**window.filter_bar.state(), "event": "Order Completed"})
    assert window.detail.record is None
    assert window.status.currentMessage() == "1 event matches"


def test_titles_and_advice_say_warning_and_what_to_send(window: MainWindow) -> None:
    window.table.selectRow(_row(window, "Checkout Started"))
    assert window.detail.title.text() == "track  Checkout Started  [valid — 1 warning]"
    window.table.selectRow(_row(window, "Order Completed"))
    assert window.detail.title.text() == "track  Order Completed  [invalid — 1 error]"
    [entry] = window.detail.problems.entries
    assert entry.advice.text() == "→ add `order_id` to `properties`"
    window.table.selectRow(_row(window, "Product Viewed"))
    assert window.detail.violations.index(0, 3).data() == "send a number"


def test_copy_actions_say_what_they_copied(window: MainWindow) -> None:
    window.table.selectRow(_row(window, "Product Viewed"))
    window.act_copy_json.trigger()
    assert window.status.currentMessage() == "Copied Product Viewed as JSON"
    assert '"price": "12.5"' in QGuiApplication.clipboard().text()
    window.act_copy_curl.trigger()
    assert window.status.currentMessage() == (
        "Copied a cURL command that re-sends it to http://127.0.0.1:8787")
    assert QGuiApplication.clipboard().text().startswith("curl -X POST")


def test_the_snippet_dialog_opens_once(window: MainWindow) -> None:
    window.status.set_endpoint("http://127.0.0.1:9999")
    first = window.status.show_snippet("analytics-python")
    second = window.status.show_snippet("analytics-node")
    assert first is second
    assert len(window.status.findChildren(QDialog, "snippetDialog")) == 1
    assert second.windowTitle() == "Point analytics-node at inspector"
    second.close()


def test_bulk_fix_starts_from_the_selected_events_problem(window: MainWindow) -> None:
    window.table.selectRow(_row(window, "Product Viewed"))
    window.open_bulk_fixes()
    dialog = window.bulk_fix_dialog
    try:
        assert dialog.op_combo.currentText() == "Coerce type"
        assert dialog.fields["scope"].currentText() == "properties"  # type: ignore[union-attr]
        assert dialog.fields["key"].text() == "price"  # type: ignore[union-attr]
        assert dialog.fields["to"].currentText() == "number"  # type: ignore[union-attr]
        assert dialog.only_event.text() == "Product Viewed"
    finally:
        dialog.close()


def test_an_older_session_says_plainly_where_new_events_go(
    capture_window: MainWindow, qtbot: Any
) -> None:
    window = capture_window
    first = window.session_id
    assert first is not None
    assert window.session_banner.isHidden()
    window.new_session()
    assert window.capture is not None
    current = window.capture.session
    assert current is not None
    window.open_session(first)
    assert not window.session_banner.isHidden()
    assert window.session_banner.text() == (
        f"Showing the older session 'QA'. New events go to {current.name!r} and are not "
        "shown here.")
    window.session_banner.action_button.click()
    assert window.session_id == current.id
    assert window.session_banner.isHidden()


def test_a_launch_reuses_an_empty_session(qtbot: Any, tmp_path: Path) -> None:
    db = tmp_path / "reuse.sqlite3"
    store = EventStore(db)
    empty = store.create_session("left empty")
    store.close()
    args = argparse.Namespace(db=str(db), host="127.0.0.1", port=0, session=None, plan=None,
                              demo=False)
    window = build_window(args)
    assert window is not None
    qtbot.addWidget(window)
    try:
        assert window.capture is not None
        assert window.capture.session is not None
        assert window.capture.session.id == empty.id
        assert [s.id for s in window.store.list_sessions()] == [empty.id]
    finally:
        window.close()


def test_the_window_fits_the_screen(qtbot: Any, store: EventStore) -> None:
    win = MainWindow(store, state=UiState())
    qtbot.addWidget(win)
    screen = win.screen().availableGeometry()
    assert win.width() <= screen.width()
    assert win.height() <= screen.height()


def test_every_panel_fits_a_1280x720_laptop(qtbot: Any, store: EventStore) -> None:
    # The window's minimum (every dock's, stacked) must leave room on a 1280x720 screen for a
    # title bar and a task bar: a notes list's default size hint once made it 794 px tall.
    win = MainWindow(store, state=UiState())
    qtbot.addWidget(win)
    hint = win.minimumSizeHint()
    assert hint.width() <= 1280
    assert hint.height() <= 720 - 48, hint


def test_selecting_a_cell_never_scrolls_the_table_sideways(window: MainWindow) -> None:
    window.resize(700, 500)
    window.table.resize(300, 300)
    bar = window.table.horizontalScrollBar()
    bar.setValue(0)
    last = window.model.columnCount() - 1
    window.table.setCurrentIndex(window.model.index(1, last))
    window.table.scrollTo(window.model.index(1, last))
    assert bar.value() == 0


def test_replay_progress_counts_the_selection_before_any_run(window: MainWindow) -> None:
    ids = [window.model.event_id(row) for row in range(window.model.rowCount())]
    window.table.selectAll()
    from inspector.gui.widgets.replay_dialog import ReplayDialog

    dialog = ReplayDialog(window.corrections, window.replay_db, query=window.model.query,
                          selection=ids, session_id=window.session_id, parent=window)
    try:
        assert dialog.progress_bar.format() == "0 / 3 events"
        assert dialog.preview_summary.wordWrap()
    finally:
        dialog.close()


def test_the_payload_trees_value_column_has_room(window: MainWindow) -> None:
    window.show()
    window.table.selectRow(_row(window, "Product Viewed"))
    tree = window.detail.tree
    assert tree.header().sectionSize(1) >= 60
    assert tree.header().stretchLastSection()


def test_problems_read_whole_at_the_default_size(window: MainWindow, qtbot: Any) -> None:
    window.resize(*window.DEFAULT_SIZE)
    window.show()
    qtbot.waitExposed(window)
    # The audit's results, then the findings naming the selected event (read on a worker),
    # each rebuild the event's entries: read the entry once those are in, or it is deleted
    # under the test now and then.
    qtbot.waitUntil(lambda: window.audit_view.results is not None and not window.tasks.busy,
                    timeout=5000)
    window.table.selectRow(_row(window, "Product Viewed"))
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=5000)

    def shown() -> bool:
        entries = window.detail.problems.entries
        return len(entries) == 1 and entries[0].isVisible()
    qtbot.waitUntil(shown, timeout=2000)  # shown once the layout runs
    [entry] = window.detail.problems.entries
    message = entry.message
    assert message.wordWrap()
    # The label shows its whole text: its width holds the text or it wraps onto more lines.
    needed = message.fontMetrics().horizontalAdvance(message.text())
    lines = max(1, message.height() // message.fontMetrics().lineSpacing())
    assert needed <= message.width() * lines
    assert not entry.visibleRegion().isEmpty()
    assert Qt.TextFormat.PlainText == message.textFormat()
