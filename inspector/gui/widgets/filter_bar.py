"""The filter bar: every control narrows the store query; changes are debounced."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QStringListModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QToolButton,
    QWidget,
)

from inspector.core.model import PROBLEM_STATUSES, Status, ViolationKind
from inspector.core.store import EventQuery
from inspector.gui.theme import STATUS_LABELS, status_icon
from inspector.gui.widgets._util import named

__all__ = ["FilterBar", "FilterState"]

FilterState = dict[str, str]

_ANY = ""
_PROBLEMS = "problems"
_TYPES = ("track", "identify", "page", "screen", "group", "alias")


class FilterBar(QWidget):
    """Type, event, status, violation kind, id, source and free text, plus saved filters."""

    #: The filter changed (debounced): the new :class:`FilterState`.
    sig_filter_changed = Signal(dict)
    #: The user saved or deleted a named filter: all of them, ``{name: FilterState}``.
    sig_saved_filters_changed = Signal(dict)

    def __init__(self, debounce_ms: int = 250, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(debounce_ms)
        self._debounce.timeout.connect(self._emit)
        self._saved: dict[str, FilterState] = {}
        self._loading = False

        self.type_box = named(QComboBox(), "filterType")
        self.type_box.addItem("Any type", _ANY)
        for type_ in _TYPES:
            self.type_box.addItem(type_, type_)

        # Short placeholders, the whole description in the tooltip: at 1280 px the long ones
        # were cut off.
        self.event_edit = named(QLineEdit(), "filterEvent", placeholderText="Event")
        self.event_edit.setToolTip("Event name (track) or page/screen name")
        self._names = QStringListModel(self)
        completer = QCompleter(self._names, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.event_edit.setCompleter(completer)

        self.status_box = named(QComboBox(), "filterStatus")
        self.status_box.addItem("Any status", _ANY)
        self.status_box.addItem(status_icon(Status.INVALID), "Problems only", _PROBLEMS)
        for status in Status:
            self.status_box.addItem(status_icon(status), STATUS_LABELS[status], str(status))

        self.kind_box = named(QComboBox(), "filterKind")
        self.kind_box.addItem("Any violation", _ANY)
        for kind in ViolationKind:
            self.kind_box.addItem(str(kind), str(kind))

        self.id_edit = named(QLineEdit(), "filterId", placeholderText="User id")
        self.id_edit.setToolTip("userId or anonymousId")
        self.source_box = named(QComboBox(), "filterSource")
        self.source_box.addItem("Any source", _ANY)
        self.text_edit = named(QLineEdit(), "filterText", placeholderText="Search…")
        self.text_edit.setToolTip("Search the payloads' text")
        self.text_edit.setClearButtonEnabled(True)

        self.saved_box = named(QComboBox(), "savedFilters")
        self.saved_box.addItem("Saved filters…", _ANY)
        self.save_button = named(QToolButton(), "saveFilter", text="Save…")
        self.save_button.setToolTip("Save the current filter under a name")
        self.clear_button = named(QToolButton(), "clearFilter", text="Clear")

        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        for widget, stretch in (
            (self.type_box, 0), (self.event_edit, 2), (self.status_box, 0), (self.kind_box, 0),
            (self.id_edit, 2), (self.source_box, 0), (self.text_edit, 3), (self.saved_box, 0),
            (self.save_button, 0), (self.clear_button, 0),
        ):
            layout.addWidget(widget, stretch)

        for box in (self.type_box, self.status_box, self.kind_box, self.source_box):
            box.currentIndexChanged.connect(self._changed)
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(9)
        # Its entries are short and must read whole ("Problems only" was cut to "Problems onl").
        self.status_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for edit in (self.event_edit, self.id_edit, self.text_edit):
            edit.textChanged.connect(self._changed)
        self.saved_box.activated.connect(self._on_saved_chosen)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.clear_button.clicked.connect(self.clear)

    # ---- state

    def state(self) -> FilterState:
        """The current filter as plain strings (what saved filters store)."""
        return {
            key: value
            for key, value in (
                ("type", self.type_box.currentData() or _ANY),
                ("event", self.event_edit.text().strip()),
                ("status", self.status_box.currentData() or _ANY),
                ("violation_kind", self.kind_box.currentData() or _ANY),
                ("id", self.id_edit.text().strip()),
                ("source", self.source_box.currentData() or _ANY),
                ("q", self.text_edit.text().strip()),
            )
            if value
        }

    def set_state(self, state: FilterState) -> None:
        """Show ``state`` and emit it once."""
        self._loading = True
        try:
            _select(self.type_box, state.get("type", _ANY))
            self.event_edit.setText(state.get("event", ""))
            _select(self.status_box, state.get("status", _ANY))
            _select(self.kind_box, state.get("violation_kind", _ANY))
            self.id_edit.setText(state.get("id", ""))
            source = state.get("source", _ANY)
            if source and self.source_box.findData(source) < 0:
                self.source_box.addItem(source, source)
            _select(self.source_box, source)
            self.text_edit.setText(state.get("q", ""))
        finally:
            self._loading = False
        self._debounce.stop()
        self._emit()

    def clear(self) -> None:
        """Remove every filter."""
        self.set_state({})

    @staticmethod
    def to_query(state: FilterState, session_id: int | None) -> EventQuery:
        """The store query for ``state`` in ``session_id``."""
        status = state.get("status")
        statuses = (
            [str(status) for status in Status if status in PROBLEM_STATUSES]
            if status == _PROBLEMS
            else [status] if status else None
        )
        return EventQuery(
            session_id=session_id,
            type=state.get("type") or None,
            event=state.get("event") or None,
            status=statuses,
            violation_kind=state.get("violation_kind") or None,
            any_id=state.get("id") or None,
            write_key=state.get("source") or None,
            q=state.get("q") or None,
        )

    # ---- choices fed by the window

    def set_event_names(self, names: list[str]) -> None:
        """Completion candidates for the event-name box."""
        if names != self._names.stringList():
            self._names.setStringList(names)

    def set_sources(self, write_keys: list[str], names: dict[str, str]) -> None:
        """Offer these write keys (labelled with their names) in the source box."""
        current = self.source_box.currentData()
        known = {self.source_box.itemData(i) for i in range(self.source_box.count())}
        for key in write_keys:
            if key not in known:
                label = f"{names[key]} ({key})" if key in names else key
                self.source_box.addItem(label, key)
        _select(self.source_box, current or _ANY)

    def set_saved_filters(self, saved: dict[str, FilterState]) -> None:
        """Offer these named filters."""
        self._saved = dict(saved)
        self.saved_box.blockSignals(True)
        self.saved_box.clear()
        self.saved_box.addItem("Saved filters…", _ANY)
        for name in sorted(self._saved):
            self.saved_box.addItem(name, name)
        self.saved_box.blockSignals(False)

    def save_current(self, name: str) -> None:
        """Save the current filter as ``name``."""
        self._saved[name] = self.state()
        self.set_saved_filters(self._saved)
        self.sig_saved_filters_changed.emit(dict(self._saved))

    def apply_saved(self, name: str) -> None:
        """Apply the filter saved as ``name``."""
        if name in self._saved:
            self.set_state(self._saved[name])

    def focus_text(self) -> None:
        """Ctrl+F: put the cursor in the free-text box."""
        self.text_edit.setFocus()
        self.text_edit.selectAll()

    # ---- slots

    def _changed(self, *_args: Any) -> None:
        if not self._loading:
            self._debounce.start()

    def _emit(self) -> None:
        self.sig_filter_changed.emit(self.state())

    def _on_saved_chosen(self, index: int) -> None:
        name = self.saved_box.itemData(index)
        if name:
            self.apply_saved(name)

    def _on_save_clicked(self) -> None:
        name, ok = QInputDialog.getText(self, "Save filter", "Name for this filter:")
        if ok and name.strip():
            self.save_current(name.strip())


def _select(box: QComboBox, data: str) -> None:
    index = box.findData(data)
    box.setCurrentIndex(max(index, 0))
