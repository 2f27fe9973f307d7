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

from inspector.core.audit import Finding
from inspector.core.model import Severity
from inspector.gui.models.audit import FINDING_COLORS, FINDING_GLYPHS
from inspector.gui.models.detail import Column, ViolationsModel
from inspector.gui.widgets._util import named

__all__ = ["FindingEntry", "ProblemEntry", "ProblemList"]

#: Entries built for one event at most; the rest are counted (an event rarely has more).
MAX_ENTRIES = 50


def _label(text: str, name: str, *, wrap: bool = True) -> QLabel:
    label = named(QLabel(text), name)
    label.setTextFormat(Qt.TextFormat.PlainText)  # payload text is never rendered
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _lay_out(entry: QFrame, chip: QLabel, what: QLabel, *below: QLabel) -> None:
    """An entry's layout: the chip and what it is about on one line, the text below."""
    top = QHBoxLayout()
    top.setContentsMargins(0, 0, 0, 0)
    top.addWidget(chip)
    top.addWidget(what, 1)
    layout = QVBoxLayout(entry)
    layout.setContentsMargins(6, 4, 6, 4)
    layout.setSpacing(2)
    layout.addLayout(top)
    for label in below:
        layout.addWidget(label)


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
        _lay_out(self, self.chip, self.field, self.message, self.advice)
        self.setStyleSheet(f"#problemEntry {{ border-left: 3px solid {color}; }}")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Show this field in the payload")

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.sig_clicked.emit(self.row)
        super().mousePressEvent(event)


class FindingEntry(QFrame):
    """One audit finding about the event: a severity chip and the check, then the message."""

    def __init__(self, finding: Finding, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("findingEntry")
        self.finding = finding
        color = FINDING_COLORS[finding.severity]
        self.chip = _label(f"{FINDING_GLYPHS[finding.severity]} audit {finding.severity}",
                           "findingSeverity", wrap=False)
        self.chip.setStyleSheet(
            f"background: {color}; color: white; font-weight: bold; border-radius: 3px;"
            " padding: 1px 6px;"
        )
        self.check = _label(finding.check, "findingCheck")
        self.check.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.message = _label(finding.message, "findingMessage")
        _lay_out(self, self.chip, self.check, self.message)
        self.setStyleSheet(f"#findingEntry {{ border-left: 3px dashed {color}; }}")


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
        self.finding_entries: list[FindingEntry] = []
        self._findings: list[Finding] = []
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

    def set_findings(self, findings: list[Finding], *, rebuild: bool = True) -> None:
        """The audit findings that name the event (listed after its violations);
        ``rebuild=False`` when the violations are about to be reset anyway."""
        self._findings = list(findings)
        if rebuild:
            self._rebuild()

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
        self.finding_entries = []
        for finding in self._findings[:MAX_ENTRIES]:
            finding_entry = FindingEntry(finding)
            self.finding_entries.append(finding_entry)
            self._layout.addWidget(finding_entry)
        self.empty.setVisible(rows == 0 and not self._findings)
        self._layout.addWidget(self.empty)
        self._layout.addStretch(1)
