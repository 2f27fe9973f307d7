"""The "Edit" tab of the detail pane: an event's JSON, re-validated live as it is typed.

The original stays untouched in the store. Save stores the edited payload as the event's
correction (:class:`~inspector.core.fixes.CorrectionStore`), "Revert to original" drops it.
While typing, a debounced timer parses the text (``check_edit``: errors come with a line and a
column), runs the capture-time checks and the loaded plan on it (``validate_payload``) and shows
the resulting status chip, the violations and the diff against the original.
"""

from __future__ import annotations

from typing import Any

import orjson
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from inspector.core.fixes import CorrectionStore, EditCheck, check_edit, json_diff
from inspector.core.model import EventRecord, Status, Violation
from inspector.gui.models.detail import ViolationsModel
from inspector.gui.models.fixes import DiffModel
from inspector.gui.plans import Validator, validate_payload
from inspector.gui.theme import STATUS_GLYPHS, STATUS_LABELS, status_color
from inspector.gui.widgets._util import compact_table, named

__all__ = ["EventEditor", "StatusChip"]

#: Quiet time after the last keystroke before the text is parsed and validated.
DEBOUNCE_MS = 250


def _table(name: str) -> QTableView:
    return compact_table(named(QTableView(), name))


class StatusChip(QLabel):
    """A rounded label in the status colour, with the status glyph and name (never colour only)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.status: Status | None = None
        self.set_status(None)

    def set_status(self, status: Status | None, violations: int = 0) -> None:
        """Show ``status`` (``None``: the JSON does not parse)."""
        self.status = status
        if status is None:
            text, color = "✕ JSON error", "#444444"
        else:
            text = f"{STATUS_GLYPHS[status]} {STATUS_LABELS[status]}"
            if violations:
                text += f" · {violations}"
            color = status_color(status).name()
        self.setText(text)
        self.setStyleSheet(
            f"QLabel {{ background: {color}; color: white; font-weight: bold; "
            "border-radius: 9px; padding: 2px 10px; }"
        )


class EventEditor(QWidget):
    """Edit one event's payload; save it as a correction or revert to the original."""

    #: A correction was saved (True) or dropped (False) for this event id.
    sig_correction_changed = Signal(int, bool)

    def __init__(
        self, corrections: CorrectionStore | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.corrections = corrections
        self.validator: Validator | None = None
        self._record: EventRecord | None = None
        self._original: dict[str, Any] = {}
        self._saved: dict[str, Any] = {}
        self._loading = False
        #: The last check of the text (``None`` before any event is loaded).
        self.check: EditCheck | None = None
        self.violations_found: list[Violation] = []

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.check_now)

        self.chip = named(StatusChip(), "editStatusChip")
        self.state_label = named(QLabel(), "editState")
        self.state_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label = named(QLabel(), "editError")
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #D55E00; font-weight: bold;")
        self.error_label.hide()

        self.text = named(QPlainTextEdit(), "editText")
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setTabChangesFocus(False)
        self.text.textChanged.connect(self._on_text_changed)

        self.violations = ViolationsModel(self)
        self.violations_view = _table("editViolations")
        self.violations_view.setModel(self.violations)
        self.diff = DiffModel(self)
        self.diff_view = _table("editDiff")
        self.diff_view.setModel(self.diff)
        header = self.diff_view.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(1, 180)
        self.below = named(QTabWidget(), "editBelow")
        self.below.addTab(self.violations_view, "Violations")
        self.below.addTab(self.diff_view, "Diff with original")

        self.save_button = named(QPushButton("Save correction"), "editSave")
        self.save_button.setToolTip("Store this version beside the original (Ctrl+S)")
        self.save_button.setShortcut("Ctrl+S")
        self.save_button.clicked.connect(self.save)
        self.discard_button = named(QPushButton("Discard changes"), "editDiscard")
        self.discard_button.clicked.connect(self.discard)
        self.revert_button = named(QPushButton("Revert to original"), "editRevert")
        self.revert_button.setToolTip("Drop the stored correction")
        self.revert_button.clicked.connect(self.revert)

        top = QHBoxLayout()
        top.addWidget(self.chip)
        top.addWidget(self.state_label, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.discard_button)
        buttons.addStretch(1)
        buttons.addWidget(self.revert_button)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.text)
        split.addWidget(self.below)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.error_label)
        layout.addWidget(split, 1)
        layout.addLayout(buttons)
        self.set_event(None)

    # ---- public API

    @property
    def record(self) -> EventRecord | None:
        """The event being edited."""
        return self._record

    @property
    def status(self) -> Status | None:
        """The status of the text as last checked (``None``: it does not parse)."""
        return self.chip.status

    @property
    def dirty(self) -> bool:
        """Whether the text differs from what is stored (the correction, else the original)."""
        check = self.check
        # An event stored without a payload (unparsable JSON) is shown read-only: nothing to save.
        if check is None or self._record is None or self._record.payload is None:
            return False
        if check.payload is None:
            return True
        return bool(json_diff(self._saved, check.payload))

    def has_unsaved_edit(self) -> bool:
        """Whether the text holds an edit that is not stored (checks pending keystrokes)."""
        if self._timer.isActive():
            self.check_now()
        return self.dirty

    def confirm_leave(self) -> bool:
        """Before the editor shows another event: with an unsaved edit, ask whether to save
        it, discard it, or cancel; ``False`` to stay on this one (cancel, or a save of text
        that does not parse)."""
        if not self.has_unsaved_edit():
            return True
        buttons = QMessageBox.StandardButton
        record = self._record
        name = (record.name or record.type or "this event") if record else "this event"
        answer = QMessageBox.question(
            self, "Unsaved edit",
            f"The edit of {name} is not saved. Save it as a correction?",
            buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save,
        )
        if answer == buttons.Save:
            return self.save()  # the JSON error stays shown when it does not parse
        if answer == buttons.Discard:
            self.discard()
            return True
        return False

    @property
    def corrected(self) -> bool:
        """Whether the event has a stored correction."""
        return self._record is not None and bool(json_diff(self._original, self._saved))

    def set_validator(self, validator: Validator | None) -> None:
        """Validate with the loaded plan from now on (and re-check the text)."""
        self.validator = validator
        if self._record is not None:
            self.check_now()

    def set_event(self, record: EventRecord | None) -> None:
        """Edit ``record`` (its correction when it has one); ``None`` shows nothing."""
        self._timer.stop()
        self._record = record
        self._original = record.payload if record and record.payload is not None else {}
        correction = (
            self.corrections.get(record.id) if record is not None and self.corrections else None
        )
        self._saved = correction.corrected if correction is not None else self._original
        self._loading = True
        self.text.setPlainText(
            orjson.dumps(self._saved, option=orjson.OPT_INDENT_2).decode() if record else ""
        )
        self._loading = False
        self.text.setReadOnly(record is None or record.payload is None)
        if record is None:
            self.check = None
            self.chip.set_status(Status.NOT_VALIDATED)
            self.violations.set_violations([], str(Status.NOT_VALIDATED))
            self.diff.set_entries([])
            self.error_label.hide()
            self.state_label.setText("Select an event to edit it")
            self._update_buttons()
            return
        self.check_now()

    def set_text(self, text: str) -> None:
        """Replace the text as if typed (tests, paste)."""
        self.text.setPlainText(text)

    def check_now(self) -> None:
        """Parse and validate the text now (normally run by the debounce timer)."""
        self._timer.stop()
        if self._record is None:
            return
        check = check_edit(self._original, self.text.toPlainText())
        self.check = check
        if check.payload is None:
            where = f"line {check.line}, column {check.column}: " if check.line else ""
            self.error_label.setText(f"{where}{check.error}")
            self.error_label.show()
            self.chip.set_status(None)
            self.violations.set_violations([], str(Status.MALFORMED))
        else:
            self.error_label.hide()
            status, violations = validate_payload(check.payload, self.validator)
            self.violations_found = violations
            self.chip.set_status(status, len(violations))
            self.violations.set_violations(violations, str(status))
            self.diff.set_entries(check.diff)
            self.below.setTabText(1, f"Diff with original ({len(check.diff)})")
        self._update_buttons()

    def save(self) -> bool:
        """Store the edited payload as the event's correction."""
        self.check_now()
        check = self.check
        if self._record is None or check is None or check.payload is None:
            return False
        if self.corrections is None:
            return False
        self.corrections.save(self._record.id, check.payload, source="hand edit")
        self._saved = check.payload
        self._update_buttons()
        self.sig_correction_changed.emit(self._record.id, self.corrected)
        return True

    def discard(self) -> None:
        """Put the stored version back in the editor."""
        if self._record is not None:
            self.set_event(self._record)

    def revert(self) -> None:
        """Drop the correction: the event is its original again."""
        if self._record is None:
            return
        if self.corrections is not None:
            self.corrections.delete(self._record.id)
        self._saved = self._original
        self.set_event(self._record)
        self.sig_correction_changed.emit(self._record.id, False)

    def goto_error(self) -> None:
        """Put the cursor where the JSON breaks."""
        check = self.check
        if check is None or check.line is None:
            return
        block = self.text.document().findBlockByNumber(check.line - 1)
        cursor = QTextCursor(block)
        cursor.movePosition(QTextCursor.MoveOperation.Right, n=max(0, (check.column or 1) - 1))
        self.text.setTextCursor(cursor)
        self.text.setFocus()

    # ---- internals

    def _on_text_changed(self) -> None:
        if not self._loading:
            self._timer.start()
            self.state_label.setText("Checking…")

    def _update_buttons(self) -> None:
        has_event = self._record is not None and self._record.payload is not None
        ok = self.check is not None and self.check.payload is not None
        dirty = self.dirty
        self.save_button.setEnabled(has_event and ok and dirty and self.corrections is not None)
        self.discard_button.setEnabled(has_event and dirty)
        self.revert_button.setEnabled(has_event and self.corrected)
        if not has_event:
            return
        parts = []
        if self.corrected:
            parts.append("✎ corrected (the original is kept)")
        else:
            parts.append("original")
        if dirty:
            parts.append("unsaved changes")
        self.state_label.setText(" — ".join(parts))
