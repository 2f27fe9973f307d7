"""The Flows panel's model: each flow of the run, and under it its steps.

Set wholesale from results evaluated off the GUI thread; ``data()`` only reads them. Columns:
the step (or flow) with a status glyph, its status, and the satisfying call or the reason it
failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from inspector.core.flows import FlowResult, StepResult

__all__ = ["STATUS_COLORS", "STATUS_GLYPHS", "FlowStepsModel"]

_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
_DISPLAY = Qt.ItemDataRole.DisplayRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_FOREGROUND = Qt.ItemDataRole.ForegroundRole

#: The window's status palette (Okabe-Ito) and a glyph each, so colour is never the only sign.
STATUS_COLORS = {"passed": "#009E73", "failed": "#D55E00", "pending": "#E69F00",
                 "skipped": "#7F7F7F", "incomplete": "#E69F00"}
STATUS_GLYPHS = {"passed": "✓", "failed": "✕", "pending": "…", "skipped": "–",
                 "incomplete": "…"}
_HEADERS = ("Step", "Status", "Call or reason")
#: Internal ids: 0 is a flow row; a step row is 1 + its flow's row.
_FLOW = 0


class FlowStepsModel(QAbstractItemModel):
    """Flows (top level) and their steps (children), three columns."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._results: list[FlowResult] = []

    def set_results(self, results: Sequence[FlowResult]) -> None:
        """Show a run's latest results (the same flows again: only the cells change)."""
        same_shape = [(r.flow, len(r.steps)) for r in results] == [
            (r.flow, len(r.steps)) for r in self._results]
        if same_shape and self._results:
            self._results = list(results)
            last = self.rowCount() - 1
            for row in range(self.rowCount()):
                flow = self.index(row, 0)
                steps = self.rowCount(flow)
                if steps:
                    self.dataChanged.emit(self.index(0, 0, flow),
                                          self.index(steps - 1, len(_HEADERS) - 1, flow))
            self.dataChanged.emit(self.index(0, 0), self.index(last, len(_HEADERS) - 1))
            return
        self.beginResetModel()
        self._results = list(results)
        self.endResetModel()

    @property
    def results(self) -> list[FlowResult]:
        """The results shown."""
        return list(self._results)

    def step(self, index: _Index) -> StepResult | None:
        """The step at ``index`` (``None`` for a flow row)."""
        if not index.isValid() or index.internalId() == _FLOW:
            return None
        return self._results[index.internalId() - 1].steps[index.row()]

    def flow(self, index: _Index) -> FlowResult | None:
        """The flow at ``index`` or the flow a step row belongs to."""
        if not index.isValid():
            return None
        if index.internalId() == _FLOW:
            return self._results[index.row()]
        return self._results[index.internalId() - 1]

    def event_ids(self, index: _Index) -> list[int]:
        """The calls a row names (a step's satisfying or closest calls)."""
        step = self.step(index)
        return [event_id for event_id, _ in step.events] if step is not None else []

    # ---- QAbstractItemModel

    def index(self, row: int, column: int, parent: _Index = _ROOT) -> QModelIndex:
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, _FLOW)
        return self.createIndex(row, column, parent.row() + 1)

    def parent(self, index: _Index = _ROOT) -> QModelIndex:  # type: ignore[override]
        if not index.isValid() or index.internalId() == _FLOW:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, _FLOW)

    def rowCount(self, parent: _Index = _ROOT) -> int:
        if not parent.isValid():
            return len(self._results)
        if parent.internalId() == _FLOW and parent.column() == 0:
            return len(self._results[parent.row()].steps)
        return 0

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return len(_HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = _DISPLAY) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == _DISPLAY and \
                0 <= section < len(_HEADERS):
            return _HEADERS[section]
        return None

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        if not index.isValid():
            return None
        step = self.step(index)
        if step is None:
            flow = self._results[index.row()]
            status = str(flow.status)
            texts = (f"{STATUS_GLYPHS[status]} {flow.flow}", status, flow.description or "")
        else:
            status = str(step.status)
            detail = step.reason or ", ".join(
                str(message_id) for message_id in step.message_ids[:3])
            name = f"{step.name} (optional)" if step.optional else step.name
            texts = (f"{STATUS_GLYPHS[status]} {name}", status, detail)
        column = index.column()
        if role == _DISPLAY:
            return texts[column]
        if role == _TOOLTIP:
            return texts[2] or texts[0]
        if role == _FOREGROUND and column in (0, 1):
            return QBrush(QColor(STATUS_COLORS[status]))
        return None
