"""Bulk fixes over the selection or the current filter: build, preview, apply, save as a set.

Nothing is written until Apply, and Apply is only offered for the fixes and scope that were
previewed: changing either asks for a new preview first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from pydantic import ValidationError
from PySide6.QtCore import QItemSelection, Qt, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from inspector.core.fixes import (
    CorrectionStore,
    FixPreview,
    FixSet,
    fix_list_adapter,
)
from inspector.core.model import EventRecord, ViolationKind
from inspector.core.plan.suggest import advice
from inspector.core.store import EventQuery
from inspector.gui.models.fixes import DiffModel, FixPreviewModel
from inspector.gui.widgets._util import compact_table, named

__all__ = ["OPERATIONS", "BulkFixDialog", "describe_fix"]

#: Operation label → (``op`` value, fields the form shows).
OPERATIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Rename event": ("rename_event", ("from_name", "to_name")),
    "Rename property / trait key": ("rename_key", ("scope", "from_key", "to_key")),
    "Coerce type": ("coerce", ("scope", "key", "to")),
    "Set property / trait": ("set", ("scope", "key", "value")),
    "Delete property / trait": ("delete", ("scope", "key")),
    "Map userId": ("map_user_id", ("from_id", "to_id")),
}
_LABELS = {
    "from_name": "From name", "to_name": "To name", "scope": "In", "from_key": "From key",
    "to_key": "To key", "key": "Key", "to": "To type", "value": "Value (JSON)",
    "from_id": "From userId", "to_id": "To userId",
}
#: Previews kept for the table; the count covers every affected event.
MAX_PREVIEW_ROWS = 1000


def describe_fix(fix: Any) -> str:
    """One line for the fix list."""
    data = fix.model_dump()
    op = data.pop("op")
    only = data.pop("only_event", None)
    label = next(name for name, (value, _) in OPERATIONS.items() if value == op)
    args = ", ".join(f"{key}={orjson.dumps(value).decode()}" for key, value in data.items())
    return f"{label}: {args}" + (f"  (only {only!r})" if only else "")


def _suggested_fix(record: EventRecord) -> dict[str, str]:
    """The form values (``op`` and fields) for the fix ``record``'s first violation needs."""
    for violation in record.violations:
        kind = str(violation.kind)
        scope, _, key = violation.field.partition(".")
        if kind == ViolationKind.INVALID_TYPE and scope in ("properties", "traits", "context"):
            wanted = advice(violation).removeprefix("send ").split(" or ")[0]
            for to in ("number", "boolean"):
                if wanted.endswith(to) or (to == "number" and wanted.endswith("integer")):
                    return {"op": "coerce", "scope": scope, "key": key, "to": to}
        if kind == ViolationKind.UNPLANNED_EVENT and violation.suggestion and record.name:
            return {"op": "rename_event", "from_name": record.name,
                    "to_name": violation.suggestion}
        if (kind in (ViolationKind.UNPLANNED_PROPERTY, ViolationKind.UNPLANNED_TRAIT)
                and violation.suggestion and scope in ("properties", "traits", "context")):
            return {"op": "rename_key", "scope": scope, "from_key": key,
                    "to_key": violation.suggestion}
    return {"op": "rename_event", "from_name": record.name or ""}


class BulkFixDialog(QDialog):
    """Choose fixes, preview them over a scope, apply them; save and load named fix sets."""

    #: Fixes were applied: how many events changed.
    sig_applied = Signal(int)

    def __init__(
        self,
        corrections: CorrectionStore,
        query: EventQuery,
        selection: Sequence[int] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Bulk fixes")
        self.setObjectName("bulkFixDialog")
        self.corrections = corrections
        self.query = query
        self.selection = list(selection)
        self.fixes: list[Any] = []
        self.previews: list[FixPreview] = []
        self.affected = 0
        self.with_problems = 0
        self._previewed: tuple[str, str] | None = None

        # ---- scope
        self.scope_selection = named(QRadioButton(f"Selected events ({len(self.selection)})"),
                                     "scopeSelection")
        self.scope_filter = named(QRadioButton("Every event matching the current filter"),
                                  "scopeFilter")
        self.scope_selection.setEnabled(bool(self.selection))
        (self.scope_selection if self.selection else self.scope_filter).setChecked(True)
        self.scope_selection.toggled.connect(self._invalidate)
        scope_box = QGroupBox("Apply to")
        scope_layout = QVBoxLayout(scope_box)
        scope_layout.addWidget(self.scope_selection)
        scope_layout.addWidget(self.scope_filter)

        # ---- operation form
        self.op_combo = named(QComboBox(), "fixOperation")
        self.op_combo.addItems(list(OPERATIONS))
        self.op_combo.currentTextChanged.connect(self._on_op_changed)
        self.fields: dict[str, QLineEdit | QComboBox] = {}
        form = QFormLayout()
        form.addRow("Operation", self.op_combo)
        self._rows: dict[str, QWidget] = {}
        for key, label in _LABELS.items():
            widget: QLineEdit | QComboBox
            if key == "scope":
                widget = QComboBox()
                widget.addItems(["properties", "traits", "context"])
            elif key == "to":
                widget = QComboBox()
                widget.addItems(["number", "boolean", "timestamp"])
            else:
                widget = QLineEdit()
            widget.setObjectName(f"fix:{key}")
            self.fields[key] = widget
            form.addRow(label, widget)
            self._rows[key] = widget
        self.only_event = named(QLineEdit(), "fix:only_event")
        self.only_event.setPlaceholderText("any event")
        form.addRow("Only for event", self.only_event)
        self.form = form
        self.add_button = named(QPushButton("Add fix"), "addFix")
        self.add_button.clicked.connect(self._on_add_clicked)
        self.form_error = named(QLabel(), "fixFormError")
        self.form_error.setTextFormat(Qt.TextFormat.PlainText)
        self.form_error.setStyleSheet("color: #D55E00;")
        self.fix_list = named(QListWidget(), "fixList")
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self._on_remove_clicked)

        # ---- fix sets
        self.sets_combo = named(QComboBox(), "fixSets")
        self.load_set_button = named(QPushButton("Load"), "loadFixSet")
        self.load_set_button.clicked.connect(
            lambda: self.load_fix_set(self.sets_combo.currentText())
        )
        self.save_set_button = named(QPushButton("Save as…"), "saveFixSet")
        self.save_set_button.clicked.connect(self._on_save_set_clicked)
        self.delete_set_button = QPushButton("Delete")
        self.delete_set_button.clicked.connect(self._on_delete_set_clicked)
        sets_row = QHBoxLayout()
        sets_row.addWidget(QLabel("Saved fix sets:"))
        sets_row.addWidget(self.sets_combo, 1)
        sets_row.addWidget(self.load_set_button)
        sets_row.addWidget(self.save_set_button)
        sets_row.addWidget(self.delete_set_button)

        builder = QWidget()
        builder_layout = QVBoxLayout(builder)
        builder_layout.setContentsMargins(0, 0, 0, 0)
        builder_layout.addWidget(scope_box)
        builder_layout.addLayout(form)
        add_row = QHBoxLayout()
        add_row.addWidget(self.form_error, 1)
        add_row.addWidget(self.add_button)
        builder_layout.addLayout(add_row)
        builder_layout.addWidget(QLabel("Fixes, applied in this order:"))
        builder_layout.addWidget(self.fix_list, 1)
        remove_row = QHBoxLayout()
        remove_row.addStretch(1)
        remove_row.addWidget(self.remove_button)
        builder_layout.addLayout(remove_row)
        builder_layout.addLayout(sets_row)

        # ---- preview
        self.preview_button = named(QPushButton("Preview"), "previewFixes")
        self.preview_button.clicked.connect(self.run_preview)
        self.summary = named(QLabel("Add fixes, then preview them."), "fixSummary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.preview_model = FixPreviewModel(self)
        self.preview_view = named(QTableView(), "fixPreviewView")
        self.preview_view.setModel(self.preview_model)
        compact_table(self.preview_view, stretch=2)
        self.preview_view.horizontalHeader().resizeSection(1, 200)
        self.preview_view.selectionModel().selectionChanged.connect(self._on_preview_selected)
        self.diff_model = DiffModel(self)
        self.diff_view = named(QTableView(), "fixDiffView")
        self.diff_view.setModel(self.diff_model)
        compact_table(self.diff_view)
        self.diff_view.horizontalHeader().resizeSection(1, 220)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.before_text = named(QPlainTextEdit(), "fixBefore")
        self.after_text = named(QPlainTextEdit(), "fixAfter")
        for text in (self.before_text, self.after_text):
            text.setReadOnly(True)
            text.setFont(mono)
        before_after = QSplitter(Qt.Orientation.Horizontal)
        before_after.addWidget(self.before_text)
        before_after.addWidget(self.after_text)
        self.event_tabs = QTabWidget()
        self.event_tabs.addTab(self.diff_view, "Diff")
        self.event_tabs.addTab(before_after, "Before | After")
        preview_split = QSplitter(Qt.Orientation.Vertical)
        preview_split.addWidget(self.preview_view)
        preview_split.addWidget(self.event_tabs)
        preview_pane = QWidget()
        preview_layout = QVBoxLayout(preview_pane)
        preview_layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self.preview_button)
        top.addWidget(self.summary, 1)
        preview_layout.addLayout(top)
        preview_layout.addWidget(preview_split, 1)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(builder)
        split.addWidget(preview_pane)
        split.setSizes([420, 620])

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.apply_button = named(
            self.buttons.addButton("Apply", QDialogButtonBox.ButtonRole.ApplyRole), "applyFixes"
        )
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addWidget(self.buttons)
        self.resize(1100, 640)
        self._on_op_changed(self.op_combo.currentText())
        self.refresh_fix_sets()

    # ---- building the list

    def add_fix(self, fix: Any) -> None:
        """Append a fix (a :data:`~inspector.core.fixes.Fix` value)."""
        self.fixes.append(fix)
        self.fix_list.addItem(describe_fix(fix))
        self._invalidate()

    def set_fixes(self, fixes: Sequence[Any]) -> None:
        """Replace the list of fixes."""
        self.fixes = []
        self.fix_list.clear()
        for fix in fixes:
            self.add_fix(fix)

    def fix_from_form(self) -> Any:
        """The fix the form describes; raises ``ValueError`` with a readable message."""
        op, keys = OPERATIONS[self.op_combo.currentText()]
        data: dict[str, Any] = {"op": op}
        for key in keys:
            widget = self.fields[key]
            text = widget.currentText() if isinstance(widget, QComboBox) else widget.text()
            if key == "value":
                try:
                    data[key] = orjson.loads(text) if text.strip() else None
                except orjson.JSONDecodeError:
                    data[key] = text  # a bare word is meant as a string
            else:
                if not text.strip():
                    raise ValueError(f"{_LABELS[key]} is empty")
                data[key] = text.strip()
        if self.only_event.text().strip():
            data["only_event"] = self.only_event.text().strip()
        try:
            return fix_list_adapter.validate_python([data])[0]
        except ValidationError as error:
            raise ValueError(str(error.errors()[0]["msg"])) from None

    def _on_add_clicked(self) -> None:
        try:
            fix = self.fix_from_form()
        except ValueError as error:
            self.form_error.setText(str(error))
            return
        self.form_error.setText("")
        self.add_fix(fix)

    def _on_remove_clicked(self) -> None:
        row = self.fix_list.currentRow()
        if 0 <= row < len(self.fixes):
            del self.fixes[row]
            self.fix_list.takeItem(row)
            self._invalidate()

    def prefill(self, record: EventRecord) -> None:
        """Fill the form from the selected event: the fix its first violation calls for
        (coerce a wrongly typed field, rename a near-miss event or key), else renaming it;
        only for that event name. Nothing is added until *Add fix*."""
        form = _suggested_fix(record)
        wanted = form.pop("op")
        label = next(name for name, (op, _) in OPERATIONS.items() if op == wanted)
        self.op_combo.setCurrentText(label)
        for key, value in form.items():
            widget = self.fields[key]
            if isinstance(widget, QComboBox):
                widget.setCurrentText(value)
            else:
                widget.setText(value)
        if record.type == "track" and record.name:
            self.only_event.setText(record.name)

    def _on_op_changed(self, label: str) -> None:
        _, keys = OPERATIONS.get(label, ("", ()))
        for key, widget in self._rows.items():
            self.form.setRowVisible(widget, key in keys)

    # ---- fix sets

    def refresh_fix_sets(self) -> None:
        """Re-read the saved fix sets."""
        self.sets_combo.clear()
        self.sets_combo.addItems(self.corrections.list_fix_sets())
        has = self.sets_combo.count() > 0
        self.load_set_button.setEnabled(has)
        self.delete_set_button.setEnabled(has)

    def save_fix_set(self, name: str) -> None:
        """Save the current fixes under ``name``."""
        self.corrections.save_fix_set(FixSet(name=name, fixes=list(self.fixes)))
        self.refresh_fix_sets()
        self.sets_combo.setCurrentText(name)

    def load_fix_set(self, name: str) -> bool:
        """Replace the fixes by the saved set ``name``."""
        fix_set = self.corrections.load_fix_set(name) if name else None
        if fix_set is None:
            return False
        self.set_fixes(fix_set.fixes)
        return True

    def _on_save_set_clicked(self) -> None:
        if not self.fixes:
            self.form_error.setText("Add fixes before saving a set")
            return
        name, ok = QInputDialog.getText(self, "Save fix set", "Name:",
                                        text=self.sets_combo.currentText())
        if ok and name.strip():
            self.save_fix_set(name.strip())

    def _on_delete_set_clicked(self) -> None:
        name = self.sets_combo.currentText()
        if name:
            self.corrections.delete_fix_set(name)
            self.refresh_fix_sets()

    # ---- preview and apply

    def _scope(self) -> dict[str, Any]:
        if self.scope_selection.isChecked() and self.selection:
            return {"event_ids": self.selection}
        return {"query": self.query}

    def _key(self) -> tuple[str, str]:
        fixes = fix_list_adapter.dump_json(list(self.fixes)).decode()
        return fixes, "selection" if "event_ids" in self._scope() else "filter"

    def _invalidate(self) -> None:
        self._previewed = None
        self.apply_button.setEnabled(False)

    def run_preview(self) -> int:
        """Compute what the fixes would change; returns how many events."""
        if not self.fixes:
            self.summary.setText("Add at least one fix first.")
            return 0
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            shown: list[FixPreview] = []
            affected = problems = 0
            for preview in self.corrections.preview(list(self.fixes), **self._scope()):
                affected += preview.changed
                problems += bool(preview.problems)
                if len(shown) < MAX_PREVIEW_ROWS:
                    shown.append(preview)
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.previews, self.affected, self.with_problems = shown, affected, problems
        self.preview_model.set_previews(shown)
        text = f"{affected} event{'s' if affected != 1 else ''} would change"
        if problems:
            text += f"; {problems} with values that cannot be fixed (left as they are)"
        if len(shown) < affected + problems:
            text += f" (first {len(shown)} shown)"
        self.summary.setText(text)
        self._previewed = self._key()
        self.apply_button.setEnabled(affected > 0)
        if shown:
            self.preview_view.selectRow(0)
        return affected

    def _on_preview_selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = self.preview_view.selectionModel().selectedRows()
        if not rows:
            return
        preview = self.preview_model.preview(rows[0].row())
        self.diff_model.set_entries(preview.diff)
        self.before_text.setPlainText(
            orjson.dumps(preview.before, option=orjson.OPT_INDENT_2).decode())
        self.after_text.setPlainText(
            orjson.dumps(preview.after, option=orjson.OPT_INDENT_2).decode())

    def apply(self) -> int:
        """Store the corrections previewed; returns how many events changed."""
        if self._previewed is None or self._previewed != self._key():
            self.summary.setText("Preview the fixes before applying them.")
            self.apply_button.setEnabled(False)
            return 0
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            result = self.corrections.apply(list(self.fixes), source="bulk fix", **self._scope())
        finally:
            QGuiApplication.restoreOverrideCursor()
        self._invalidate()
        text = f"Applied: {result.changed} event{'s' if result.changed != 1 else ''} corrected"
        if result.problems:
            text += f"; {len(result.problems)} with values left as they were"
        self.summary.setText(text)
        self.sig_applied.emit(result.changed)
        return result.changed

