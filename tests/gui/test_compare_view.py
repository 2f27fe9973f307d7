"""File > Compare sessions…: two sessions captured over real HTTP compared in the window,
driven through its controls; the differences model checked with qtmodeltester."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt

from inspector.core.compare import Kind
from inspector.core.store import EventStore
from inspector.gui.main_window import MainWindow
from inspector.gui.models.compare import DifferencesModel, severity_brush
from inspector.gui.state import UiState
from inspector.gui.widgets.compare_dialog import CompareDialog
from tests.support.compare_traffic import regressed_db

__all__ = ["regressed_db"]  # the fixture, imported to be found


@pytest.fixture
def window(regressed_db: Path, tmp_path: Path, qtbot: Any) -> Iterator[MainWindow]:
    """A window over a copy of the production/staging database (the test writes to it)."""
    copy = tmp_path / "captures.sqlite3"
    source, target = sqlite3.connect(regressed_db), sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.close()
    win = MainWindow(EventStore(copy), state=UiState())
    qtbot.addWidget(win)
    yield win
    win.close()


def _open(window: MainWindow, qtbot: Any) -> CompareDialog:
    window.act_compare.trigger()
    dialog = window.compare_dialog
    qtbot.waitExposed(dialog)
    return dialog


def _compared(dialog: CompareDialog, qtbot: Any) -> None:
    with qtbot.waitSignal(dialog.sig_compared, timeout=20000):
        qtbot.mouseClick(dialog.compare_button, Qt.MouseButton.LeftButton)


def _find(model: DifferencesModel, kind: Kind, path: str) -> QModelIndex:
    for group in range(model.rowCount()):
        parent = model.index(group, 0)
        for row in range(model.rowCount(parent)):
            index = model.index(row, 0, parent)
            difference = model.difference(index)
            if difference is not None and difference.kind is kind and difference.path == path:
                return index
    raise AssertionError((kind, path))


def test_compare_in_the_window_highlights_both_sides(window: MainWindow, qtbot: Any,
                                                     qtmodeltester: Any) -> None:
    dialog = _open(window, qtbot)
    qtmodeltester.check(dialog.model)  # empty
    assert dialog.baseline.currentText().startswith("production")
    assert dialog.candidate.currentText().startswith("staging")

    _compared(dialog, qtbot)

    qtmodeltester.check(dialog.model)
    assert dialog.summary.text().startswith("staging against production: 8 errors")
    groups = [dialog.model.index(row, 0).data() for row in range(dialog.model.rowCount())]
    assert "track Order Completed" in groups
    coupon = _find(dialog.model, Kind.MISSING_PROPERTY, "properties.coupon")
    assert coupon.parent().data() == "track Order Completed"
    assert dialog.model.index(coupon.row(), 2, coupon.parent()).data().startswith(
        "Order Completed no longer sends properties.coupon")

    dialog.select(coupon)

    difference = dialog.model.difference(coupon)
    assert difference is not None
    error = severity_brush(difference.severity).color()
    baseline_lines = dialog.baseline_pane.text.toPlainText().splitlines()
    marked = dialog.baseline_pane.highlighted_lines()
    assert [baseline_lines[line].strip() for line in marked] == ['"coupon": "SPRING"']
    assert all(colour.rgb() == error.rgb() for colour in marked.values())
    # The candidate has no coupon: its properties object is pointed at instead.
    candidate_lines = dialog.candidate_pane.text.toPlainText().splitlines()
    marked = dialog.candidate_pane.highlighted_lines()
    assert [candidate_lines[line].strip() for line in marked] == ['"properties": {']
    assert dialog.candidate_pane.title.text().startswith("Candidate: ajs-next-")

    total = _find(dialog.model, Kind.TYPE_CHANGED, "properties.total")
    dialog.select(total)
    candidate_lines = dialog.candidate_pane.text.toPlainText().splitlines()
    assert [candidate_lines[line].strip()
            for line in dialog.candidate_pane.highlighted_lines()] == ['"total": "25.00",']


def test_accept_as_new_baseline_is_kept_for_the_next_comparison(
        window: MainWindow, qtbot: Any) -> None:
    dialog = _open(window, qtbot)
    assert not dialog.accept_button.isEnabled()  # nothing compared yet
    _compared(dialog, qtbot)

    qtbot.mouseClick(dialog.accept_button, Qt.MouseButton.LeftButton)

    accepted = window.store.accepted_baseline()
    assert accepted is not None
    assert accepted.name == "staging"
    dialog.close()
    again = _open(window, qtbot)
    assert again is not dialog
    assert again.baseline.currentText().startswith("staging")
    assert again.candidate.currentText().startswith("production")


def test_identical_sessions_show_no_differences(window: MainWindow, qtbot: Any,
                                                qtmodeltester: Any) -> None:
    dialog = _open(window, qtbot)
    dialog.candidate.setCurrentIndex(dialog.baseline.currentIndex())
    _compared(dialog, qtbot)
    assert dialog.summary.text() == "production against production: no differences"
    assert dialog.model.rowCount() == 0
    qtmodeltester.check(dialog.model)
    assert dialog.baseline_pane.text.toPlainText() == ""
