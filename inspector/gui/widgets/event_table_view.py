"""The live-tail table view: fixed row heights, and autoscroll only while pinned to the bottom."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from inspector.gui.models.event_table import Column, EventTableModel
from inspector.gui.widgets.row_delegate import EventRowDelegate

__all__ = ["EventTableView"]

#: Default column widths: every column fits in ~760 px, beside the detail pane.
COLUMN_WIDTHS = {Column.TIME: 92, Column.STATUS: 118, Column.TYPE: 64, Column.NAME: 170,
                 Column.USER_ID: 100, Column.ANONYMOUS_ID: 120, Column.SOURCE: 80}


class EventTableView(QTableView):
    """A table that follows new rows only while the user keeps it scrolled to the bottom."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("eventTable")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setWordWrap(False)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        # Per-row heights (ResizeToContents) cost a text layout per row on every change; a fixed
        # height keeps scrolling through 100k rows O(visible rows).
        vertical = self.verticalHeader()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 8)
        vertical.setVisible(False)
        horizontal = self.horizontalHeader()
        horizontal.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        horizontal.setStretchLastSection(True)
        horizontal.setHighlightSections(False)
        self._pinned = True
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self.placeholder = ""

    @property
    def pinned(self) -> bool:
        """Whether the view is at the bottom and follows new rows."""
        return self._pinned

    def setModel(self, model: QAbstractItemModel | None) -> None:
        super().setModel(model)
        if isinstance(model, EventTableModel):
            self._delegate = EventRowDelegate(model, self)
            self.setItemDelegate(self._delegate)
            model.sig_rows_appended.connect(self._on_rows_appended)
            model.modelReset.connect(self._on_reset)
            for column, width in COLUMN_WIDTHS.items():
                self.setColumnWidth(column, width)

    def columns_width(self) -> int:
        """The width that shows every column at its default size (with the scroll bar)."""
        header = self.horizontalHeader()
        last = len(COLUMN_WIDTHS) - 1
        columns = sum(header.sectionSize(c) for c in range(last)) + COLUMN_WIDTHS[last]
        return columns + self.verticalScrollBar().sizeHint().width() + 2 * self.frameWidth()

    def set_placeholder(self, text: str) -> None:
        """What the empty table says (how to get events into it)."""
        self.placeholder = text
        self.viewport().update()

    def paintEvent(self, event: QPaintEvent) -> None:
        delegate = getattr(self, "_delegate", None)
        if delegate is not None:
            delegate.prepare(self)
        super().paintEvent(event)
        model = self.model()
        if self.placeholder and model is not None and model.rowCount() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.viewport().rect().adjusted(24, 24, -24, -24),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self.placeholder)
            painter.end()

    def scrollTo(self, index: QModelIndex | QPersistentModelIndex,
                 hint: QAbstractItemView.ScrollHint = QAbstractItemView.ScrollHint.EnsureVisible
                 ) -> None:
        """Bring the row into view, never scrolling sideways: a row is selected whole, so
        clicking a wide cell used to scroll the table and hide the Time column."""
        horizontal = self.horizontalScrollBar().value()
        super().scrollTo(index, hint)
        self.horizontalScrollBar().setValue(horizontal)

    def _on_scrolled(self, value: int) -> None:
        self._pinned = value >= self.verticalScrollBar().maximum() - 2

    def _on_rows_appended(self, _count: int) -> None:
        if self._pinned:
            self.scrollToBottom()

    def _on_reset(self) -> None:
        self._pinned = True
