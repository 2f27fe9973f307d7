"""Fix: the live JSON editor in the detail pane, the corrected mark, bulk fixes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from PySide6.QtCore import Qt

from inspector.core.fixes import CorrectionStore
from inspector.core.model import Source, Status, Violation
from inspector.core.store import EventStore, GroupCommitWriter
from inspector.gui.main_window import MainWindow
from inspector.gui.models.event_table import CORRECTED_MARK, Column
from inspector.gui.models.fixes import DiffModel, FixPreviewModel
from inspector.gui.state import UiState
from tests.gui.conftest import make_event, make_request
from tests.gui.fakes import write_plan


def _fill(store: EventStore, writer: GroupCommitWriter) -> int:
    session = store.create_session("fixes")
    price = Violation("Invalid Type", "properties.price",
                      "Invalid type. Expected: number, given: string", source=Source.PLAN)
    events = [
        make_event("Product Viewed", status=Status.INVALID, violations=[price],
                   properties={"product_id": "P-A", "price": "12.5", "sku": "A"}),
        make_event("Product Viewed", status=Status.INVALID, violations=[price],
                   properties={"product_id": "P-B", "price": "3", "sku": "B"}),
        make_event("Checkout Started", properties={"price": 1}),
    ]
    writer.write(make_request(session.id, events))
    return session.id


@pytest.fixture
def window(qtbot: Any, store: EventStore, writer: GroupCommitWriter,
           tmp_path: Path) -> MainWindow:
    session_id = _fill(store, writer)
    win = MainWindow(store, state=UiState())
    qtbot.addWidget(win)
    assert win.load_plan_file(write_plan(tmp_path / "plan.json"), revalidate_now=False)
    win.open_session(session_id)
    return win


def test_live_edit_turns_an_invalid_event_valid_and_save_keeps_the_original(
    window: MainWindow, qtbot: Any, store: EventStore
) -> None:
    window.table.selectRow(0)
    window.edit_event()
    editor = window.editor
    assert window.detail.tabs.currentWidget() is editor
    assert editor.status is Status.INVALID
    assert editor.violations.rowCount() == 1
    assert not editor.save_button.isEnabled()
    record = editor.record
    assert record is not None

    payload = dict(record.payload or {})
    payload["properties"] = {"product_id": "P-A", "price": 12.5, "sku": "A"}
    # Broken JSON first: the chip says so, with the line and column, and Save is off.
    editor.text.setPlainText('{"type": "track",\n  "event": ')
    qtbot.waitUntil(lambda: editor.status is None, timeout=2000)
    assert "line 2" in editor.error_label.text()
    assert not editor.save_button.isEnabled()
    # Typing is debounced: the check runs once the text rests.
    editor.text.setPlainText(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode())
    assert editor.status is None
    qtbot.waitUntil(lambda: editor.status is Status.VALID, timeout=2000)
    assert editor.violations.rowCount() == 0
    assert editor.diff.rowCount() == 1
    assert editor.diff.cells(0)[:4] == ("~ changed", "properties.price", '"12.5"', "12.5")
    assert editor.save_button.isEnabled()

    with qtbot.waitSignal(editor.sig_correction_changed, timeout=1000) as blocker:
        editor.save_button.click()
    assert blocker.args == [record.id, True]
    corrections = CorrectionStore(store)
    stored = corrections.get(record.id)
    assert stored is not None
    assert stored.corrected["properties"]["price"] == 12.5
    assert stored.original["properties"]["price"] == "12.5"  # the original is untouched
    original = store.get_event(record.id)
    assert original is not None
    assert original.payload is not None
    assert original.payload["properties"]["price"] == "12.5"
    status_cell = window.model.index(0, Column.STATUS).data()
    assert status_cell.startswith(CORRECTED_MARK)
    assert not window.model.index(1, Column.STATUS).data().startswith(CORRECTED_MARK)
    assert "corrected" in window.detail.title.text()

    # Selecting it again opens the correction; revert drops it.
    window.table.selectRow(1)
    window.table.selectRow(0)
    assert editor.corrected
    assert editor.status is Status.VALID
    editor.revert_button.click()
    assert corrections.get(record.id) is None
    assert editor.status is Status.INVALID
    assert not window.model.index(0, Column.STATUS).data().startswith(CORRECTED_MARK)


def test_corrected_marks_survive_reopening_the_session(
    window: MainWindow, store: EventStore
) -> None:
    first = window.model.event_id(0)
    CorrectionStore(store).save(first, {"type": "track", "event": "Product Viewed"})
    assert window.session_id is not None
    window.open_session(window.session_id)
    assert window.model.index(0, Column.STATUS).data().startswith(CORRECTED_MARK)
    assert window.model.index(0, Column.STATUS).data(Qt.ItemDataRole.DisplayRole) == (
        window.model.row_at(0).cells[Column.STATUS]  # type: ignore[union-attr]
    )


def test_fix_models_pass_the_model_tester(qtmodeltester: Any) -> None:
    from inspector.core.fixes import FixPreview, json_diff

    diff = DiffModel()
    entries = json_diff({"a": 1, "b": "2"}, {"b": 2, "c": [1]})
    diff.set_entries(entries)
    qtmodeltester.check(diff)
    assert [diff.cells(row)[0] for row in range(3)] == ["− removed", "~ changed", "+ added"]
    previews = FixPreviewModel()
    previews.set_previews([FixPreview(1, {"type": "track"}, {"type": "track", "x": 1},
                                      json_diff({}, {"x": 1}), ["bad"])])
    qtmodeltester.check(previews)
    assert previews.cells(0) == ("1", "track", "+x", "bad")


def test_bulk_fix_preview_then_apply_over_the_current_filter(
    window: MainWindow, qtbot: Any, store: EventStore
) -> None:
    from inspector.gui.widgets.bulk_fix_dialog import BulkFixDialog

    window.filter_bar.set_state({**window.filter_bar.state(), "event": "Product Viewed"})
    qtbot.waitUntil(lambda: window.model.rowCount() == 2 and not window.model.querying,
                    timeout=3000)
    window.table.clearSelection()
    window.open_bulk_fixes()
    dialog = window.bulk_fix_dialog
    assert isinstance(dialog, BulkFixDialog)
    assert dialog.scope_filter.isChecked()
    assert not dialog.scope_selection.isEnabled()

    dialog.op_combo.setCurrentText("Coerce type")
    assert dialog.fields["key"].isVisible()
    assert not dialog.fields["to_name"].isVisible()
    dialog.fields["key"].setText("price")  # type: ignore[union-attr]
    dialog.add_button.click()
    dialog.op_combo.setCurrentText("Rename property / trait key")
    dialog.fields["from_key"].setText("sku")  # type: ignore[union-attr]
    dialog.add_button.click()
    assert "To key is empty" in dialog.form_error.text()  # nothing added
    dialog.fields["to_key"].setText("product_sku")  # type: ignore[union-attr]
    dialog.add_button.click()
    assert dialog.fix_list.count() == 2
    assert not dialog.apply_button.isEnabled()  # preview first

    dialog.preview_button.click()
    assert dialog.affected == 2  # "Checkout Started" is outside the filter
    assert dialog.summary.text().startswith("2 events would change")
    assert dialog.preview_model.rowCount() == 2
    assert "~properties.price" in dialog.preview_model.cells(0)[2]
    assert '"price": 12.5' in dialog.after_text.toPlainText()
    assert '"price": "12.5"' in dialog.before_text.toPlainText()
    corrections = CorrectionStore(store)
    assert corrections.corrected_ids(window.session_id or 0) == set()  # preview wrote nothing

    # Saved as a set, then loaded again in a fresh dialog.
    dialog.save_fix_set("prices")
    assert corrections.list_fix_sets() == ["prices"]

    with qtbot.waitSignal(dialog.sig_applied, timeout=2000) as blocker:
        dialog.apply_button.click()
    assert blocker.args == [2]
    ids = [window.model.event_id(row) for row in range(2)]
    for event_id in ids:
        stored = corrections.get(event_id)
        assert stored is not None
        assert isinstance(stored.corrected["properties"]["price"], int | float)
        assert "product_sku" in stored.corrected["properties"]
    assert all(window.model.index(row, Column.STATUS).data().startswith(CORRECTED_MARK)
               for row in range(2))
    assert not dialog.apply_button.isEnabled()
    dialog.close()

    fresh = BulkFixDialog(corrections, window.model.query, ids[:1])
    qtbot.addWidget(fresh)
    assert fresh.scope_selection.isChecked()
    assert fresh.load_fix_set("prices")
    assert fresh.fix_list.count() == 2
    assert fresh.run_preview() == 0  # already fixed: stacking the same set changes nothing


def test_fix_and_replay_actions_are_in_the_menus_with_shortcuts(window: MainWindow) -> None:
    from inspector.gui.widgets.destinations_dialog import DestinationsDialog
    from inspector.gui.widgets.replay_dialog import ReplayDialog

    assert window.act_edit.shortcut().toString() == "F2"
    assert window.act_replay.shortcut().toString() == "Ctrl+Alt+R"
    assert window.act_bulk_fix.shortcut().toString() == "Ctrl+Shift+B"
    menus = {action.text(): action.menu() for action in window.menuBar().actions()}
    assert window.act_replay in menus["&Replay"].actions()  # type: ignore[union-attr]
    assert window.act_edit in menus["&Edit"].actions()  # type: ignore[union-attr]
    shortcuts = [a.shortcut().toString() for a in window.actions() if not a.shortcut().isEmpty()]
    assert len(shortcuts) == len(set(shortcuts))  # no clashes
    window.table.selectRow(1)
    window.act_replay.trigger()
    replay = window.replay_dialog
    assert isinstance(replay, ReplayDialog)
    assert replay.scope_selection.isChecked()
    assert replay.selection == [window.model.event_id(1)]
    replay.close()
    window.act_destinations.trigger()
    assert isinstance(window.destinations_dialog, DestinationsDialog)
    window.destinations_dialog.close()
