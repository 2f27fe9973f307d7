"""The selected event's violations as a problems list, the way an IDE shows them.

One entry per violation: a kind chip in the status colours (with the severity's glyph, so
colour is never the only signal), the field in a fixed font, the whole message wrapped (never
cut off), and the advice from :func:`inspector.core.plan.suggest.advice` ("send a number",
"add `order_id` to `properties`", "did you mean …?"). Clicking an entry focuses its field in
the payload. It reads a :class:`~inspector.gui.models.detail.ViolationsModel`, which stays the
one source of the rows (and what tests inspect).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QMouseEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from inspector.core.model import Severity
from inspector.gui.models.detail import Column, ViolationsModel
from inspector.gui.widgets._util import named

__all__ = ["ProblemEntry", "ProblemList"]

#: Entries built for one event at most; the rest are counted (an event rarely has more).
MAX_ENTRIES = 50


def _label(text: str, name: str, *, wrap: bool = True) -> QLabel:
    label = named(QLabel(text), name)
    label.setTextFormat(Qt.TextFormat.PlainText)  # payload text is never rendered
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class ProblemEntry(QFrame):
    """One violation: chip and field on the first line, the message, then the advice."""

    sig_clicked = Signal(int)

    def __init__(self, row: int, model: ViolationsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("problemEntry")
        self.row = row
        violation = model.violation(row)
        color = model.color(row).color().name()
        glyph = "!" if violation.severity == Severity.WARNING else "✕"
        self.chip = _label(f"{glyph} {violation.kind}", "problemKind", wrap=False)
        self.chip.setStyleSheet(
            f"background: {color}; color: white; font-weight: bold; border-radius: 3px;"
            " padding: 1px 6px;"
        )
        self.field = _label(model.index(row, Column.FIELD).data(), "problemField")
        self.field.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.message = _label(violation.message, "problemMessage")
        advice = model.index(row, Column.SUGGESTION).data()
        self.advice = _label(f"→ {advice}" if advice else "", "problemAdvice")
        self.advice.setVisible(bool(advice))
        font = self.advice.font()
        font.setItalic(True)
        self.advice.setFont(font)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.chip)
        top.addWidget(self.field, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.advice)
        self.setStyleSheet(f"#problemEntry {{ border-left: 3px solid {color}; }}")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Show this field in the payload")

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.sig_clicked.emit(self.row)
        super().mousePressEvent(event)


class ProblemList(QScrollArea):
    """Every violation of one event, each entry fully readable; scrolls when there are many."""

    #: An entry was clicked: its row in the model.
    sig_problem_clicked = Signal(int)

    def __init__(self, model: ViolationsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("problemList")
        self.model = model
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._body = QWidget()
        self._layout = QVBoxLayout(self._body)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self.empty = _label("", "problemsEmpty")
        self.entries: list[ProblemEntry] = []
        self.setWidget(self._body)
        model.modelReset.connect(self._rebuild)
        self._rebuild()

    def content_height(self) -> int:
        """The height every entry needs at the list's current width."""
        width = self.viewport().width()
        layout = self._layout
        if layout.hasHeightForWidth():
            return int(layout.totalHeightForWidth(width))
        return int(self._body.sizeHint().height())

    def set_empty_text(self, text: str) -> None:
        """What the list says when the event has no violation."""
        self.empty.setText(text)

    def _rebuild(self) -> None:
        while self._layout.count():
            item = self._layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None and widget is not self.empty:
                widget.deleteLater()
        self.entries = []
        rows = self.model.rowCount()
        for row in range(min(rows, MAX_ENTRIES)):
            entry = ProblemEntry(row, self.model)
            entry.sig_clicked.connect(self.sig_problem_clicked)
            self.entries.append(entry)
            self._layout.addWidget(entry)
        if rows > MAX_ENTRIES:
            self._layout.addWidget(_label(f"… and {rows - MAX_ENTRIES} more", "problemsMore"))
        self.empty.setVisible(rows == 0)
        self._layout.addWidget(self.empty)
        self._layout.addStretch(1)
