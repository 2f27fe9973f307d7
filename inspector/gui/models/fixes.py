"""Models for fix and replay views: a correction's diff and a bulk fix's preview.

Like the event table, rows are formatted once when they are set; ``data()`` only indexes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from inspector.core.fixes import DiffEntry, DiffOp, FixPreview

__all__ = ["DIFF_COLORS", "DiffModel", "FixPreviewModel", "RowsModel", "compact_json"]

_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
_DISPLAY = Qt.ItemDataRole.DisplayRole
_FOREGROUND = Qt.ItemDataRole.ForegroundRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole

#: Okabe-Ito, as the statuses: added green, removed vermillion, changed blue.
DIFF_COLORS: dict[DiffOp, str] = {
    DiffOp.ADDED: "#009E73",
    DiffOp.REMOVED: "#D55E00",
    DiffOp.CHANGED: "#0072B2",
}
#: A glyph per kind of change, so colour is never the only signal.
DIFF_GLYPHS: dict[DiffOp, str] = {DiffOp.ADDED: "+", DiffOp.REMOVED: "−", DiffOp.CHANGED: "~"}

_MAX_CELL = 200


def compact_json(value: Any, limit: int = _MAX_CELL) -> str:
    """One-line JSON for a cell (``"12"`` and ``12`` look different), cut at ``limit``."""
    text = orjson.dumps(value, default=str).decode()
    return text if len(text) <= limit else text[: limit - 1] + "…"


class RowsModel(QAbstractTableModel):
    """A read-only table over preformatted rows, replaced wholesale with a reset."""

    headers: tuple[str, ...] = ()
    #: The column drawn in the row's brush (the others keep the palette's text colour).
    brush_column = 0

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._cells: list[tuple[str, ...]] = []
        self._brushes: list[QBrush | None] = []

    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._cells)

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.headers)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY
    ) -> Any:
        if (
            role == _DISPLAY
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.headers)
        ):
            return self.headers[section]
        return None

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        if not index.isValid():
            return None
        if role in (_DISPLAY, _TOOLTIP):
            return self._cells[index.row()][index.column()]
        if role == _FOREGROUND and index.column() == self.brush_column:
            return self._brushes[index.row()]
        return None

    def _set(self, cells: Sequence[tuple[str, ...]], brushes: list[QBrush | None]) -> None:
        self.beginResetModel()
        self._cells, self._brushes = list(cells), brushes
        self.endResetModel()

    def cells(self, row: int) -> tuple[str, ...]:
        """The formatted cells of ``row`` (for tests and copy)."""
        return self._cells[row]


class DiffModel(RowsModel):
    """Paths added, removed and changed between an original and its correction."""

    headers = ("Change", "Path", "Before", "After")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._entries: list[DiffEntry] = []
        self._op_brushes = {op: QBrush(QColor(color)) for op, color in DIFF_COLORS.items()}

    def set_entries(self, entries: Sequence[DiffEntry]) -> None:
        """Show ``entries`` (a :func:`~inspector.core.fixes.json_diff` result)."""
        self._entries = list(entries)
        cells = [
            (
                f"{DIFF_GLYPHS[entry.op]} {entry.op}",
                entry.path or "(event)",
                "" if entry.op is DiffOp.ADDED else compact_json(entry.old),
                "" if entry.op is DiffOp.REMOVED else compact_json(entry.new),
            )
            for entry in self._entries
        ]
        self._set(cells, [self._op_brushes[entry.op] for entry in self._entries])

    def entry(self, row: int) -> DiffEntry:
        """The diff entry in ``row``."""
        return self._entries[row]


def _event_name(payload: dict[str, Any]) -> str:
    name = payload.get("event") if payload.get("type") == "track" else payload.get("name")
    return f"{payload.get('type') or '?'} {name or ''}".strip()


class FixPreviewModel(RowsModel):
    """Events a bulk fix would change: one row per event, with a summary of its diff."""

    headers = ("Event id", "Event", "Changes", "Problems")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._previews: list[FixPreview] = []
        self._problem = QBrush(QColor(DIFF_COLORS[DiffOp.REMOVED]))

    def set_previews(self, previews: Sequence[FixPreview]) -> None:
        """Show ``previews`` (the first ones, when there are many: the count is shown apart)."""
        self._previews = list(previews)
        cells = []
        for preview in self._previews:
            changes = "; ".join(
                f"{DIFF_GLYPHS[entry.op]}{entry.path}" for entry in preview.diff[:6]
            )
            if len(preview.diff) > 6:
                changes += f"; … {len(preview.diff) - 6} more"
            cells.append((
                str(preview.event_id),
                _event_name(preview.after),
                changes or "(no change)",
                "; ".join(preview.problems),
            ))
        brushes: list[QBrush | None] = [
            self._problem if preview.problems else None for preview in self._previews
        ]
        self._set(cells, brushes)

    def preview(self, row: int) -> FixPreview:
        """The preview in ``row``."""
        return self._previews[row]
