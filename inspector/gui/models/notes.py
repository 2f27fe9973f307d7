"""The notes on the event shown, for the detail pane's notes block."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from inspector.core.model import Status
from inspector.core.notes import Note, NoteMark
from inspector.gui.theme import status_brush

__all__ = ["NotesModel"]

_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
_MARKS = {NoteMark.PASS: "✓ PASS", NoteMark.FAIL: "✕ FAIL"}
_MARK_STATUS = {NoteMark.PASS: Status.VALID, NoteMark.FAIL: Status.INVALID}

#: The note's id, for the panel's edit and delete.
NOTE_ID_ROLE = Qt.ItemDataRole.UserRole + 1


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M")


class NotesModel(QAbstractListModel):
    """One row per note, oldest first: its mark and text (shown as plain text)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._notes: list[Note] = []

    def set_notes(self, notes: list[Note]) -> None:
        """Show ``notes`` instead."""
        self.beginResetModel()
        self._notes = list(notes)
        self.endResetModel()

    def note(self, row: int) -> Note:
        """The note on ``row``."""
        return self._notes[row]

    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._notes)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._notes):
            return None
        note = self._notes[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            mark = f"{_MARKS[note.mark]}  " if note.mark is not None else ""
            return f"{mark}{' '.join(note.text.split())}"
        if role == Qt.ItemDataRole.ToolTipRole:
            edited = f", edited {_when(note.updated_at)}" if note.edited else ""
            # Tooltips guess rich text from the string: give them markup, the note escaped.
            return (f"<p style='white-space:pre-wrap'>{html.escape(note.text)}</p>"
                    f"<p>Written {_when(note.created_at)}{edited}</p>")
        if role == Qt.ItemDataRole.ForegroundRole and note.mark is not None:
            return status_brush(_MARK_STATUS[note.mark])
        if role == NOTE_ID_ROLE:
            return note.id
        return None
