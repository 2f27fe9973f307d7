"""File > Compare sessions…: a baseline and a candidate session side by side.

The differences are grouped by call; selecting one shows an example payload of each side with
the differing path highlighted in the violations' colours. "Accept as new baseline" marks the
candidate in the store, and the next comparison starts from it. The comparison itself runs on
the window's :class:`~inspector.gui.tasks.TaskRunner`, never on the GUI thread.

Payload text is shown in ``QPlainTextEdit`` and labels are plain text: a payload holding
``<script>`` or ``<b>`` is displayed, never rendered.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QItemSelection, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFontDatabase, QTextCursor, QTextFormat
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTextEdit,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from inspector.core.compare import Comparison, Difference, Example, Side, SideInfo, compare
from inspector.core.pretty import PrettyJson, pretty_json
from inspector.core.store import EventStore, SessionInfo
from inspector.gui.models.compare import DifferencesModel, severity_brush
from inspector.gui.tasks import TaskRunner, describe
from inspector.gui.widgets._util import named

__all__ = ["CompareDialog", "PayloadPane", "highlight_field"]

#: The payload field a difference's path is shown at (its own path, unless listed here).
_FIELD_OF = {"source.class": "context.library", "source.name": "context.library"}
_EMAIL_FIELDS = ("traits.email", "context.traits.email", "properties.email")


def highlight_field(difference: Difference, payload: dict[str, Any]) -> str:
    """Where in ``payload`` to point for ``difference`` (dotted, first array element)."""
    if difference.path == "email":
        for field in _EMAIL_FIELDS:
            node: Any = payload
            for part in field.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if node is not None:
                return field
        return "traits"
    if difference.path is None:
        return "event" if difference.type == "track" else "type"
    return _FIELD_OF.get(difference.path, difference.path).replace("[]", ".0")


def _plain_label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


class PayloadPane(QWidget):
    """One side's example payload, pretty-printed, with one field's lines tinted."""

    def __init__(self, title: str, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = named(_plain_label(title), f"{name}Title")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self._heading = title
        self.text = named(QPlainTextEdit(), f"{name}Payload")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self._pretty: PrettyJson | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.text)

    def show_payload(self, example: Example | None, payload: dict[str, Any] | None,
                     field: str | None, brush: QBrush) -> None:
        """Show ``payload`` (of ``example``) with ``field``'s lines in ``brush``'s colour."""
        if payload is None or example is None:
            self.title.setText(f"{self._heading}: no example event")
            self.text.setPlainText("")
            self.text.setExtraSelections([])
            self._pretty = None
            return
        shown = example.message_id or f"event #{example.event_id}"
        self.title.setText(f"{self._heading}: {shown}")
        self._pretty = pretty_json(payload)
        self.text.setPlainText(self._pretty.text)
        span = self._pretty.span_for(field) if field else None
        selections: list[QTextEdit.ExtraSelection] = []
        if span is not None:
            tint = QColor(brush.color())
            tint.setAlpha(70)
            for line in range(span[0], span[1] + 1):
                selection = QTextEdit.ExtraSelection()
                selection.cursor = QTextCursor(self.text.document().findBlockByNumber(line))
                selection.format.setBackground(QBrush(tint))
                selection.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
                selections.append(selection)
            cursor = QTextCursor(self.text.document().findBlockByNumber(span[0]))
            self.text.setTextCursor(cursor)
            self.text.centerCursor()
        self.text.setExtraSelections(selections)

    def highlighted_lines(self) -> dict[int, QColor]:
        """Line number -> highlight colour (for tests)."""
        return {selection.cursor.block().blockNumber(): selection.format.background().color()
                for selection in self.text.extraSelections()}


def _side(store: EventStore, session: SessionInfo) -> Side:
    return Side(store, SideInfo(session.name, session.id, session.event_count),
                db_path=store.path)


class CompareDialog(QDialog):
    """Choose a baseline and a candidate session, compare them, read the differences."""

    #: A comparison is on screen (or failed: ``None``).
    sig_compared = Signal(object)

    def __init__(self, store: EventStore, tasks: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareDialog")
        self.setWindowTitle("Compare sessions")
        self.store = store
        self.tasks = tasks
        self.comparison: Comparison | None = None
        # Only the newest request's answer is shown (a slow one must not overwrite it).
        self._request = 0

        self.baseline = named(QComboBox(), "baselineCombo")
        self.candidate = named(QComboBox(), "candidateCombo")
        for combo in (self.baseline, self.candidate):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.compare_button = named(QPushButton("Compare"), "compareButton")
        self.compare_button.clicked.connect(self.run_compare)
        self.accept_button = named(QPushButton("Accept as new baseline"), "acceptBaseline")
        self.accept_button.setToolTip("Mark the candidate as the baseline the next comparison "
                                      "starts from")
        self.accept_button.clicked.connect(self.accept_candidate)
        self.accept_button.setEnabled(False)
        self.summary = named(_plain_label("Choose two sessions and compare them."),
                             "compareSummary")

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Baseline"))
        controls.addWidget(self.baseline)
        controls.addWidget(QLabel("Candidate"))
        controls.addWidget(self.candidate)
        controls.addWidget(self.compare_button)
        controls.addStretch(1)
        controls.addWidget(self.accept_button)

        self.model = DifferencesModel(self)
        self.view = named(QTreeView(), "differencesView")
        self.view.setModel(self.model)
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        header = self.view.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.view.setColumnWidth(0, 260)
        self.view.setColumnWidth(1, 200)
        self.view.selectionModel().selectionChanged.connect(self._on_selection)

        self.baseline_pane = PayloadPane("Baseline", "baseline")
        self.candidate_pane = PayloadPane("Candidate", "candidate")
        sides = QSplitter(Qt.Orientation.Horizontal)
        sides.addWidget(self.baseline_pane)
        sides.addWidget(self.candidate_pane)
        sides.setChildrenCollapsible(False)
        split = named(QSplitter(Qt.Orientation.Vertical), "compareSplitter")
        split.addWidget(self.view)
        split.addWidget(sides)
        split.setChildrenCollapsible(False)
        split.setSizes([240, 420])  # the payloads need the height more than the list

        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        self.resize(1180, 680)
        self.refresh_sessions()

    # ---- sessions

    def refresh_sessions(self) -> None:
        """Fill both lists; the baseline defaults to the accepted one (else the second
        newest session), the candidate to the newest other session."""
        sessions = self.store.list_sessions()
        accepted = self.store.accepted_baseline()
        for combo in (self.baseline, self.candidate):
            combo.blockSignals(True)
            combo.clear()
            for session in sessions:
                combo.addItem(f"{session.name} ({session.event_count:,} events)", session.id)
            combo.blockSignals(False)
        ids = [session.id for session in sessions]
        if not ids:
            return
        baseline = accepted.id if accepted is not None else ids[min(1, len(ids) - 1)]
        candidate = next((i for i in ids if i != baseline), baseline)
        self.baseline.setCurrentIndex(ids.index(baseline))
        self.candidate.setCurrentIndex(ids.index(candidate))

    def _chosen(self, combo: QComboBox) -> SessionInfo | None:
        session_id = combo.currentData()
        return self.store.session_by_id(int(session_id)) if session_id is not None else None

    # ---- comparing

    def run_compare(self) -> None:
        """Compare the chosen sessions on a worker; the result arrives on the GUI thread."""
        baseline, candidate = self._chosen(self.baseline), self._chosen(self.candidate)
        if baseline is None or candidate is None:
            self.summary.setText("Choose a baseline and a candidate session.")
            return
        self._request += 1
        request = self._request
        store = self.store
        self.summary.setText(f"Comparing {candidate.name} with {baseline.name}…")
        self.compare_button.setEnabled(False)
        self.tasks.submit(
            lambda: compare(_side(store, baseline), _side(store, candidate)),
            lambda comparison: self._on_compared(request, comparison),
            on_error=lambda error: self._on_failed(request, error),
            what="Comparing sessions")

    def _on_compared(self, request: int, comparison: Comparison) -> None:
        if request != self._request:
            return
        self.compare_button.setEnabled(True)
        self.comparison = comparison
        self.model.set_comparison(comparison)
        self.view.expandAll()
        counts = comparison.counts()
        said = ", ".join(f"{n} {name}{'s' if n != 1 else ''}" for name, n in counts.items()
                         if n)
        self.summary.setText(
            f"{comparison.candidate.name} against {comparison.baseline.name}: "
            + (said if comparison.differences else "no differences"))
        self.accept_button.setEnabled(comparison.candidate.session_id
                                      != comparison.baseline.session_id)
        if self.model.rowCount():
            self.view.setCurrentIndex(self.model.index(0, 0, self.model.index(0, 0)))
        else:
            self._show(None)
        self.sig_compared.emit(comparison)

    def _on_failed(self, request: int, error: BaseException) -> None:
        if request != self._request:
            return
        self.compare_button.setEnabled(True)
        self.summary.setText(f"The comparison failed: {describe(error)}")
        self.sig_compared.emit(None)

    def accept_candidate(self) -> None:
        """Mark the compared candidate as the new baseline."""
        if self.comparison is None:
            return
        candidate = self.comparison.candidate
        self.store.accept_baseline(candidate.session_id)
        self.refresh_sessions()
        self.accept_button.setEnabled(False)
        self.summary.setText(f"{candidate.name} is the baseline of the next comparisons.")

    # ---- the selected difference

    def _on_selection(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = selected.indexes()
        self._show(self.model.difference(indexes[0]) if indexes else None)

    def select(self, index: QModelIndex) -> None:
        """Select ``index`` (a difference row) as a click would."""
        self.view.setCurrentIndex(index)

    def _show(self, difference: Difference | None) -> None:
        brush = severity_brush(difference.severity) if difference else QBrush()
        for pane, examples in (
                (self.baseline_pane, difference.baseline_examples if difference else ()),
                (self.candidate_pane, difference.candidate_examples if difference else ())):
            example = examples[0] if examples else None
            record = self.store.get_event(example.event_id) if example else None
            payload = record.payload if record is not None else None
            field = highlight_field(difference, payload) if difference and payload else None
            pane.show_payload(example, payload, field, brush)
