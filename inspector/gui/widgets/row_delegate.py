"""A delegate that paints event-table cells itself, from cached text and cached status chips.

The default path asks the model for eight roles per cell, and even with those folded into one
``initStyleOption`` call, Qt's item style lays each cell's text out again on every repaint
(``QTextLayout``, eliding, shaping): ~12 ms of CPU per repaint of a 32-row viewport, which is
where the window spent its time under live traffic. Here one Python call per cell fills the
background and draws a :class:`QStaticText` (laid out once per distinct text and width, elided
when too wide, plain text only) and, in the status column, a cached chip pixmap: ~3-4 ms per
repaint. Colours, selection and focus are read from the view once per paint (:meth:`prepare`),
not per cell: PySide's flag enums cost microseconds per ``&``, and a repaint has ~220 cells.
The Time cell starts with a narrow band in the colour of the row's environment (when the
audit configuration defines environments).
"""

from __future__ import annotations

from typing import cast

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPixmap, QStaticText
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from inspector.gui.models.event_table import Column, EventTableModel
from inspector.gui.theme import status_color, status_icon

__all__ = ["EventRowDelegate"]

_ROLE = QPalette.ColorRole
#: Horizontal padding inside a cell (Qt's item style uses 3-4 px).
_PAD = 4
_ICON = 14
#: Width of the environment band at the start of the Time cell.
_BAND = 4
#: Distinct (text, width) pairs kept laid out; the cache is simply cleared when full.
_CACHE_SIZE = 8192


class EventRowDelegate(QStyledItemDelegate):
    """Paints event-table cells from :class:`EventTableModel` rows directly."""

    def __init__(self, model: EventTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._texts: dict[tuple[str, int], QStaticText] = {}
        self._chips: dict[str, QPixmap] = {}
        self._bands: dict[str, QColor] = {}
        self._font = QFont()
        self._metrics = QFontMetrics(self._font)
        self._line = self._metrics.height()
        self._text = self._highlighted = self._highlight = self._alternate = QColor()
        self._alternating = True
        self._selected: list[tuple[int, int, int, int]] = []
        self._focus: tuple[int, int] | None = None
        self.prepare_colors(QPalette(), QFont(), active=True, enabled=True)

    def prepare(self, view: QAbstractItemView) -> None:
        """Read colours, font, selection and focus from ``view`` once per repaint (before the
        cells paint), so that a cell needs no palette copies and no flag arithmetic."""
        self.prepare_colors(view.palette(), view.font(), active=view.isActiveWindow(),
                            enabled=view.isEnabled())
        self._alternating = view.alternatingRowColors()
        selection = view.selectionModel()
        self._selected = [] if selection is None else [
            (item.top(), item.bottom(), item.left(), item.right())
            for item in selection.selection().toList()
        ]
        current = view.currentIndex()
        self._focus = (
            (current.row(), current.column())
            if current.isValid() and (view.hasFocus() or view.viewport().hasFocus())
            else None
        )

    def prepare_colors(self, palette: QPalette, font: QFont, *, active: bool,
                       enabled: bool) -> None:
        """Cache the colours of ``palette``'s current group and the cell font."""
        group = (QPalette.ColorGroup.Active if active else QPalette.ColorGroup.Inactive) \
            if enabled else QPalette.ColorGroup.Disabled
        self._text = palette.color(group, _ROLE.Text)
        self._highlighted = palette.color(group, _ROLE.HighlightedText)
        self._highlight = palette.color(group, _ROLE.Highlight)
        self._alternate = palette.color(group, _ROLE.AlternateBase)
        if font != self._font:
            self._font = QFont(font)
            self._metrics = QFontMetrics(font)
            self._line = self._metrics.height()
            self._texts.clear()

    def static_text(self, text: str, width: int) -> QStaticText:
        """``text`` laid out to fit ``width`` pixels (elided at the right), as plain text."""
        key = (text, width)
        static = self._texts.get(key)
        if static is None:
            if len(self._texts) >= _CACHE_SIZE:
                self._texts.clear()
            metrics = self._metrics
            shown = text
            if metrics.horizontalAdvance(text) > width:
                shown = metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)
            static = QStaticText(shown)
            static.setTextFormat(Qt.TextFormat.PlainText)  # payload text is never markup
            self._texts[key] = static
        return static

    def _chip(self, status: str) -> QPixmap:
        chip = self._chips.get(status)
        if chip is None:
            chip = status_icon(status).pixmap(_ICON, _ICON)
            self._chips[status] = chip
        return chip

    def _band(self, environment: str) -> QColor:
        name = self._model.environment_colors.get(environment, "#999999")
        color = self._bands.get(name)
        if color is None:
            color = self._bands[name] = QColor(name)
        return color

    def _is_selected(self, row: int, column: int) -> bool:
        return any(top <= row <= bottom and left <= column <= right
                   for top, bottom, left, right in self._selected)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        number = index.row()
        row = self._model.row_at(number)
        if row is None:
            super().paint(painter, option, index)
            return
        column = index.column()
        x, y, width, height = cast(tuple[int, int, int, int], option.rect.getRect())
        selected = bool(self._selected) and self._is_selected(number, column)
        if selected:
            painter.fillRect(x, y, width, height, self._highlight)
        elif number & 1 and self._alternating:
            painter.fillRect(x, y, width, height, self._alternate)
        left = x + _PAD
        width -= 2 * _PAD
        if column == Column.TIME and self._model.environment_colors:
            if row.environment is not None:
                painter.fillRect(x, y, _BAND, height, self._band(row.environment))
            left += _BAND - 1  # every row's time stays aligned, banded or not
            width -= _BAND - 1
        if column == Column.STATUS:
            painter.drawPixmap(left, y + (height - _ICON) // 2, self._chip(row.status))
            left += _ICON + _PAD
            width -= _ICON + _PAD
            painter.setPen(self._highlighted if selected else status_color(row.status))
        else:
            painter.setPen(self._highlighted if selected else self._text)
        text = row.cells[column]
        if text and width > 0:
            painter.drawStaticText(left, y + (height - self._line) // 2,
                                   self.static_text(text, width))
        if self._focus is not None and self._focus == (number, column):
            style = option.widget.style() if option.widget else None
            if style is not None:
                option.state |= QStyle.StateFlag.State_HasFocus
                style.drawPrimitive(QStyle.PrimitiveElement.PE_FrameFocusRect, option, painter,
                                    option.widget)
