"""The comparison view's model: differences grouped by call (``track Order Completed``).

Set wholesale from a :class:`~inspector.core.compare.Comparison` computed off the GUI thread;
``data()`` only reads what was formatted when it was set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from inspector.core.audit import FindingSeverity
from inspector.core.compare import Comparison, Difference, Severity
from inspector.gui.models.audit import FINDING_COLORS, FINDING_GLYPHS

__all__ = ["DifferencesModel", "severity_brush"]

_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


def severity_brush(severity: Severity) -> QBrush:
    """The colour a severity is drawn in: the violations' and findings' palette."""
    return QBrush(QColor(FINDING_COLORS[FindingSeverity(str(severity))]))


@dataclass(eq=False)
class _Group:
    """One call and its differences."""

    label: str
    row: int
    differences: list[Difference] = field(default_factory=list)
    cells: tuple[str, str, str] = ("", "", "")
    worst: Severity = Severity.INFO


class DifferencesModel(QAbstractItemModel):
    """Calls (top level) and their differences (children): severity, kind and path, message.

    A group's internal pointer is ``None``; a difference's is its group.
    """

    headers = ("Difference", "Path", "Message")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._groups: list[_Group] = []

    def set_comparison(self, comparison: Comparison | None) -> None:
        """Show ``comparison``'s differences (``None``: nothing)."""
        self.beginResetModel()
        groups: dict[str, _Group] = {}
        for difference in comparison.differences if comparison else ():
            group = groups.get(difference.event_label)
            if group is None:
                group = groups[difference.event_label] = _Group(difference.event_label,
                                                                len(groups))
            group.differences.append(difference)
        for group in groups.values():
            severities = [d.severity for d in group.differences]
            group.worst = min(severities, key=list(Severity).index)
            counts = ", ".join(f"{severities.count(s)} {s}" for s in Severity if s in severities)
            group.cells = (group.label, "", counts)
        self._groups = list(groups.values())
        self.endResetModel()

    def difference(self, index: _Index) -> Difference | None:
        """The difference at ``index`` (``None`` on a group row)."""
        group = index.internalPointer() if index.isValid() else None
        if not isinstance(group, _Group):
            return None
        return group.differences[index.row()]

    def group_label(self, index: _Index) -> str | None:
        """The call a group row stands for (``None`` on a difference row)."""
        if not index.isValid() or index.internalPointer() is not None:
            return None
        return self._groups[index.row()].label

    # ---- QAbstractItemModel

    def index(self, row: int, column: int, parent: _Index = _ROOT) -> QModelIndex:
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, None)
        return self.createIndex(row, column, self._groups[parent.row()])

    def parent(self, index: _Index = _ROOT) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        group = index.internalPointer()
        if not isinstance(group, _Group):
            return QModelIndex()
        return self.createIndex(group.row, 0, None)

    def rowCount(self, parent: _Index = _ROOT) -> int:
        if not parent.isValid():
            return len(self._groups)
        if parent.column() != 0 or parent.internalPointer() is not None:
            return 0
        return len(self._groups[parent.row()].differences)

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return len(self.headers)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal
                and 0 <= section < len(self.headers)):
            return self.headers[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        difference = self.difference(index)
        column = index.column()
        if difference is None:
            group = self._groups[index.row()]
            if role == Qt.ItemDataRole.DisplayRole:
                return group.cells[column]
            if role == Qt.ItemDataRole.ForegroundRole and column == 0:
                return severity_brush(group.worst)
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            glyph = FINDING_GLYPHS[FindingSeverity(str(difference.severity))]
            return (f"{glyph} {difference.kind}", difference.path or "",
                    difference.message)[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return difference.message
        if role == Qt.ItemDataRole.ForegroundRole and column == 0:
            return severity_brush(difference.severity)
        return None
