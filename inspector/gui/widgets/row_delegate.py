"""A delegate that fills each cell's style option from the model row in one Python call.

The default delegate asks the model for eight roles per cell (display, font, alignment,
colours, check state, decoration...), each a Python ``data()`` call; a 30-row viewport is about
1,300 calls per repaint. While the capture endpoint is busy on its thread, every one of those
calls must win the GIL back, which is what made repaints slow under load. Here each cell costs
one call.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem, QWidget

from inspector.gui.models.event_table import Column, EventTableModel
from inspector.gui.theme import status_color, status_icon

__all__ = ["EventRowDelegate"]

_FEATURE = QStyleOptionViewItem.ViewItemFeature
_ALIGN = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


class EventRowDelegate(QStyledItemDelegate):
    """Paints event-table cells from :class:`EventTableModel` rows directly."""

    def __init__(self, model: EventTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._icon_size = QSize(14, 14)

    def initStyleOption(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        row = self._model.row_at(index.row())
        if row is None:
            super().initStyleOption(option, index)
            return
        column = index.column()
        option.text = row.cells[column]
        option.displayAlignment = _ALIGN
        option.textElideMode = Qt.TextElideMode.ElideRight
        option.font = option.widget.font() if option.widget else option.font
        features = option.features | _FEATURE.HasDisplay
        if column == Column.STATUS:
            option.icon = status_icon(row.status)
            option.decorationSize = self._icon_size
            option.decorationAlignment = Qt.AlignmentFlag.AlignCenter
            features |= _FEATURE.HasDecoration
            option.palette.setColor(QPalette.ColorRole.Text, status_color(row.status))
        option.features = features
