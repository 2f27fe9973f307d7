"""Status colours, glyphs and chips, shared by every widget that shows a validation status.

The colours, glyphs and labels themselves are plain values in :mod:`inspector.core.palette`
(the QA reports print with them too); this module makes Qt colours, brushes and chips of them.
Colour is never the only signal: each status also has its own chip shape and glyph, and its
name as text.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QPainter, QPainterPath, QPixmap, QPolygonF

from inspector.core.model import Status
from inspector.core.palette import (
    STATUS_COLORS,
    STATUS_GLYPHS,
    STATUS_LABELS,
    as_status,
    severity_hex,
)

__all__ = [
    "STATUS_COLORS",
    "STATUS_GLYPHS",
    "STATUS_LABELS",
    "severity_color",
    "status_brush",
    "status_color",
    "status_icon",
]

@cache
def status_color(value: str | Status) -> QColor:
    """The colour of a status."""
    return QColor(STATUS_COLORS[as_status(value)])


@cache
def status_brush(value: str | Status) -> QBrush:
    """A brush of the status colour, cached so ``data()`` never allocates."""
    return QBrush(status_color(value))


def severity_color(severity: str, status: str | Status) -> QColor:
    """Errors take the event's status colour; warnings are always the unplanned orange."""
    return QColor(severity_hex(severity, status))


@cache
def status_icon(value: str | Status, size: int = 16) -> QIcon:
    """A chip whose shape differs per status: circle, square, triangle, diamond, ring."""
    status = as_status(value)
    pixmap = QPixmap(size * 2, size * 2)  # drawn at 2x so it stays crisp on HiDPI screens
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    color = status_color(status)
    s = float(size * 2)
    margin = s * 0.06
    box = QRectF(margin, margin, s - 2 * margin, s - 2 * margin)
    path = QPainterPath()
    if status is Status.VALID:
        path.addEllipse(box)
    elif status is Status.INVALID:
        path.addRoundedRect(box, s * 0.12, s * 0.12)
    elif status is Status.UNPLANNED:
        path.addPolygon(
            QPolygonF([QPointF(s / 2, margin), QPointF(s - margin, s - margin),
                       QPointF(margin, s - margin)])
        )
        path.closeSubpath()
    elif status is Status.MALFORMED:
        path.addPolygon(
            QPolygonF([QPointF(s / 2, margin), QPointF(s - margin, s / 2),
                       QPointF(s / 2, s - margin), QPointF(margin, s / 2)])
        )
        path.closeSubpath()
    else:
        path.addEllipse(box)
    if status is Status.NOT_VALIDATED:
        painter.setPen(color)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        pen = painter.pen()
        pen.setWidthF(s * 0.12)
        painter.setPen(pen)
        painter.drawEllipse(box.adjusted(s * 0.08, s * 0.08, -s * 0.08, -s * 0.08))
    else:
        painter.fillPath(path, color)
        painter.setPen(QColor("white"))
        font = QFont()
        font.setBold(True)
        font.setPixelSize(int(s * 0.55))
        painter.setFont(font)
        glyph_box = box.adjusted(0, s * 0.12, 0, 0) if status is Status.UNPLANNED else box
        painter.drawText(glyph_box, Qt.AlignmentFlag.AlignCenter, STATUS_GLYPHS[status])
    painter.end()
    pixmap.setDevicePixelRatio(2.0)
    return QIcon(pixmap)
