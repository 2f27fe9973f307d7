"""Status colours, glyphs and chips, shared by every widget that shows a validation status.

The five colours come from the Okabe-Ito palette, which stays distinguishable under the common
colour-vision deficiencies, and are mid-tones that read on light and dark backgrounds. Colour is
never the only signal: each status also has its own chip shape and glyph, and its name as text.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QPainter, QPainterPath, QPixmap, QPolygonF

from inspector.core.model import Severity, Status

__all__ = [
    "STATUS_COLORS",
    "STATUS_GLYPHS",
    "STATUS_LABELS",
    "severity_color",
    "status_brush",
    "status_color",
    "status_icon",
]

STATUS_COLORS: dict[Status, str] = {
    Status.VALID: "#009E73",  # bluish green
    Status.INVALID: "#D55E00",  # vermillion
    Status.UNPLANNED: "#E69F00",  # orange
    Status.MALFORMED: "#CC79A7",  # reddish purple
    Status.NOT_VALIDATED: "#8C8C8C",  # grey
}

#: A glyph per status, so the chip reads without colour.
STATUS_GLYPHS: dict[Status, str] = {
    Status.VALID: "✓",
    Status.INVALID: "✕",
    Status.UNPLANNED: "?",
    Status.MALFORMED: "!",
    Status.NOT_VALIDATED: "–",
}

STATUS_LABELS: dict[Status, str] = {
    Status.VALID: "valid",
    Status.INVALID: "invalid",
    Status.UNPLANNED: "unplanned",
    Status.MALFORMED: "malformed",
    Status.NOT_VALIDATED: "not validated",
}


def _status(value: str | Status) -> Status:
    try:
        return Status(value)
    except ValueError:
        return Status.NOT_VALIDATED


@cache
def status_color(value: str | Status) -> QColor:
    """The colour of a status."""
    return QColor(STATUS_COLORS[_status(value)])


@cache
def status_brush(value: str | Status) -> QBrush:
    """A brush of the status colour, cached so ``data()`` never allocates."""
    return QBrush(status_color(value))


def severity_color(severity: str, status: str | Status) -> QColor:
    """Errors take the event's status colour; warnings are always the unplanned orange."""
    if severity == Severity.WARNING:
        return status_color(Status.UNPLANNED)
    if _status(status) == Status.VALID:
        return status_color(Status.INVALID)
    return status_color(status)


@cache
def status_icon(value: str | Status, size: int = 16) -> QIcon:
    """A chip whose shape differs per status: circle, square, triangle, diamond, ring."""
    status = _status(value)
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
