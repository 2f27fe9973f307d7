"""Notes in the window (the detail pane's notes block, the table's context menu) and File >
Export report."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog, QPushButton

from inspector.core.model import Source, Status, Violation
from inspector.core.notes import Note, NoteMark, NoteStore, NoteTarget
from inspector.core.store import EventStore, GroupCommitWriter
from inspector.gui.main_window import MainWindow
from inspector.gui.models.notes import NOTE_ID_ROLE, NotesModel
from inspector.gui.state import UiState
from tests.gui.conftest import make_event, make_request
from tests.gui.conftest import write_note as _write

HOSTILE = "<b>bold</b> <script>alert(1)</script>"


@pytest.fixture
def window(qtbot: Any, store: EventStore, writer: GroupCommitWriter) -> MainWindow:
    session = store.create_session("notes")
    price = Violation("Invalid Type", "properties.price",
                      "Invalid type. Expected: number, given: string", source=Source.PLAN)
    writer.write(make_request(session.id, [
        make_event("Product Viewed", status=Status.INVALID, violations=[price],
                   properties={"price": "12.5"}),
        make_event("Checkout Started", properties={"cart_id": "c-1"}),
    ]))
    win = MainWindow(store, state=UiState())
    qtbot.addWidget(win)
    win.open_session(session.id)
    qtbot.waitUntil(lambda: win.model.rowCount() == 2, timeout=5000)
    return win


def _button(window: MainWindow, name: str) -> QPushButton:
    button = window.detail.findChild(QPushButton, name)
    assert button is not None
    return button


def test_notes_model_passes_the_model_tester(qtmodeltester: Any) -> None:
    model = NotesModel()
    model.set_notes([
        Note(1, 1, NoteTarget.EVENT, "5", "cart_id missing", NoteMark.FAIL, 1.0, 1.0),
        Note(2, 1, NoteTarget.EVENT, "5", "fixed in 2.3", None, 2.0, 3.0),
    ])
    qtmodeltester.check(model)
    assert model.index(0, 0).data() == "✕ FAIL  cart_id missing"
    assert model.index(1, 0).data(NOTE_ID_ROLE) == 2
    assert "edited" in model.index(1, 0).data(Qt.ItemDataRole.ToolTipRole)


def test_add_edit_delete_a_note_from_the_detail_pane(
    window: MainWindow, qtbot: Any, store: EventStore,
) -> None:
    add = _button(window, "addNoteButton")
    assert not add.isEnabled()  # no event selected yet
    window.table.selectRow(0)
    record = window.detail.record
    assert record is not None
    assert add.isEnabled()
    panel = window.detail.notes
    with qtbot.waitSignal(panel.sig_notes_changed, timeout=2000):
        qtbot.mouseClick(add, Qt.MouseButton.LeftButton)
        _write(panel.dialog, HOSTILE, "fail")
    [note] = NoteStore(store).for_event(record.session_id, record.id)
    assert (note.text, note.mark) == (HOSTILE, NoteMark.FAIL)
    assert panel.model.index(0, 0).data() == f"✕ FAIL  {HOSTILE}"  # plain text in a list
    assert panel.title.text() == "Notes (1)"
    assert not panel.list.isHidden()

    # Another event shows its own (no) notes; coming back shows the note again.
    window.table.selectRow(1)
    assert panel.model.rowCount() == 0
    assert panel.list.isHidden()
    window.table.selectRow(0)
    assert panel.model.rowCount() == 1

    panel.list.setCurrentIndex(panel.model.index(0, 0))
    with qtbot.waitSignal(panel.sig_notes_changed, timeout=2000):
        qtbot.mouseClick(_button(window, "editNoteButton"), Qt.MouseButton.LeftButton)
        assert panel.dialog is not None
        assert panel.dialog.text.toPlainText() == HOSTILE  # the dialog starts from the note
        _write(panel.dialog, "fixed in 2.3", None)
    [edited] = NoteStore(store).for_event(record.session_id, record.id)
    assert (edited.id, edited.text, edited.mark) == (note.id, "fixed in 2.3", None)

    panel.list.setCurrentIndex(panel.model.index(0, 0))
    qtbot.mouseClick(_button(window, "deleteNoteButton"), Qt.MouseButton.LeftButton)
    assert NoteStore(store).for_event(record.session_id, record.id) == []
    assert panel.model.rowCount() == 0


def test_an_empty_note_cannot_be_saved(window: MainWindow) -> None:
    window.table.selectRow(0)
    window.detail.notes.add_note()
    dialog = window.detail.notes.dialog
    assert dialog is not None
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()
    dialog.text.setPlainText("   ")
    assert not ok.isEnabled()
    dialog.text.setPlainText("x" * 10_001)
    assert not ok.isEnabled()
    assert "At most 10,000 characters" in dialog.problem.text()
    dialog.reject()


def test_the_table_context_menu_and_edit_menu_annotate_the_selected_row(
    window: MainWindow, qtbot: Any, store: EventStore,
) -> None:
    assert window.act_add_note in window.table.actions()
    assert window.table.contextMenuPolicy() == Qt.ContextMenuPolicy.ActionsContextMenu
    window.act_add_note.trigger()  # nothing selected: a hint, no dialog
    assert window.detail.notes.dialog is None
    assert window.status.currentMessage() == "Select an event first"
    window.table.selectRow(1)
    with qtbot.waitSignal(window.detail.notes.sig_notes_changed, timeout=2000):
        window.act_add_note.trigger()
        _write(window.detail.notes.dialog, "checkout looked right", "pass")
    record = window.detail.record
    assert record is not None
    assert [n.mark for n in NoteStore(store).for_event(record.session_id, record.id)] == [
        NoteMark.PASS]


@pytest.mark.parametrize(("label", "suffix"), [("HTML report (*.html)", ".html"),
                                               ("JUnit XML (*.xml)", ".xml")])
def test_file_export_report_writes_on_a_worker(
    window: MainWindow, qtbot: Any, store: EventStore, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, label: str, suffix: str,
) -> None:
    window.table.selectRow(0)
    record = window.detail.record
    assert record is not None
    NoteStore(store).add(record.session_id, "event", str(record.id), HOSTILE, "fail")
    target = tmp_path / "qa-report"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(target), label)))
    assert window.act_export_report in window.menuBar().actions()[0].menu().actions()
    with qtbot.waitSignal(window.sig_report_exported, timeout=10_000) as written:
        window.act_export_report.trigger()
        assert not window.act_export_report.isEnabled()  # one report at a time
    path = target.with_suffix(suffix)
    assert written.args == [str(path)]
    assert window.act_export_report.isEnabled()
    text = path.read_text(encoding="utf-8")
    if suffix == ".xml":
        assert ElementTree.fromstring(text).tag == "testsuites"
    else:
        assert "QA report: notes" in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert "<script" not in text
    assert window.status.currentMessage() == f"Wrote the QA report to {path}"


def test_a_report_that_cannot_be_written_says_why(
    window: MainWindow, qtbot: Any, tmp_path: Path,
) -> None:
    with qtbot.waitSignal(window.sig_report_exported, timeout=10_000) as written:
        window.export_report(tmp_path / "missing" / "report.html")
    assert written.args == [""]
    assert window.banner.text().startswith("The report was not written:")
