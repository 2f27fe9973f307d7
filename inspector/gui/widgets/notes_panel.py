"""The notes block: a tester's notes on one event, flow step or flow run, with add, edit and
delete (and the dialog that writes one). The detail pane shows it for the selected event, the
Flows panel for the selected step or the run shown.

Notes are written straight into the session's database through the core
:class:`~inspector.core.notes.NoteStore` (one small row, like a correction); their text is
shown as plain text, never as markup.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from inspector.core.notes import MAX_NOTE_CHARS, Note, NoteError, NoteStore, NoteTarget
from inspector.gui.models.notes import NotesModel
from inspector.gui.widgets._util import named

__all__ = ["NoteDialog", "NotesPanel"]

#: The mark combo's entries: what it shows, what is stored.
_MARKS = (("No mark", None), ("Pass", "pass"), ("Fail", "fail"))


class NoteDialog(QDialog):
    """Write or edit one note: its text and an optional pass/fail mark."""

    def __init__(self, title: str, note: Note | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noteDialog")
        self.setWindowTitle(title)
        self.text = named(QPlainTextEdit(), "noteText")
        self.text.setPlaceholderText("What you saw, what you expected…")
        self.mark = named(QComboBox(), "noteMark")
        for label, value in _MARKS:
            self.mark.addItem(label, value)
        if note is not None:
            self.text.setPlainText(note.text)
            self.mark.setCurrentIndex(self.mark.findData(
                None if note.mark is None else str(note.mark)))
        self.problem = QLabel()
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.setObjectName("noteProblem")
        self.problem.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Note", self.text)
        form.addRow("Mark", self.mark)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.text.textChanged.connect(self._check)
        self._check()
        self.resize(420, 240)

    def values(self) -> tuple[str, str | None]:
        """The note's text and mark (``None``: no mark)."""
        mark = self.mark.currentData()
        return self.text.toPlainText(), mark if isinstance(mark, str) else None

    def show_problem(self, text: str) -> None:
        """Say why the note was not stored (the dialog stays open)."""
        self.problem.setText(text)

    def _check(self) -> None:
        text = self.text.toPlainText().strip()
        ok = bool(text) and len(text) <= MAX_NOTE_CHARS
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)
        self.problem.setText("" if len(text) <= MAX_NOTE_CHARS else
                             f"At most {MAX_NOTE_CHARS:,} characters ({len(text):,} now).")


class NotesPanel(QWidget):
    """The notes on the event, step or run shown, and the buttons that change them."""

    #: The notes of the event shown changed (added, edited or deleted): its id (not emitted
    #: for a step's or a run's notes).
    sig_notes_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store: NoteStore | None = None
        self._session_id: int | None = None
        #: What the notes shown annotate: its kind and id (``None``: nothing shown).
        self._target: tuple[NoteTarget, str] | None = None
        self._title = "Notes"
        self.dialog: NoteDialog | None = None
        self.model = NotesModel(self)
        self.title = QLabel("Notes")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setObjectName("notesTitle")
        self.add_button = named(QPushButton("Add note…"), "addNoteButton")
        self.add_button.setToolTip("Annotate this event: what you saw, and pass or fail")
        self.edit_button = named(QPushButton("Edit…"), "editNoteButton")
        self.delete_button = named(QPushButton("Delete"), "deleteNoteButton")
        self.list = named(QListView(), "notesList")
        self.list.setModel(self.model)
        # One line per note (the full text is its tooltip), a few notes high: the payload
        # below keeps the pane's height.
        self.list.setWordWrap(False)
        self.list.setUniformItemSizes(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        # Elided, never scrolled sideways: a scroll bar would cover the one-line row.
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        # Four rows high, whatever QListView's default size hint (192 px, ten rows): that hint
        # became the block's minimum and pushed the window past 720 px with the Flows tab.
        self.list.setFixedHeight(
            self.list.fontMetrics().lineSpacing() * 4 + 2 * self.list.frameWidth() + 8)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.list.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        self.list.doubleClicked.connect(lambda _index: self.edit_selected())
        self.list.selectionModel().selectionChanged.connect(lambda *_: self._update())
        self.add_button.clicked.connect(lambda _checked=False: self.add_note())
        self.edit_button.clicked.connect(lambda _checked=False: self.edit_selected())
        self.delete_button.clicked.connect(lambda _checked=False: self.delete_selected())
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.title)
        row.addStretch(1)
        for button in (self.add_button, self.edit_button, self.delete_button):
            row.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.list)
        self._update()

    def attach(self, store: NoteStore) -> None:
        """Read and write notes in ``store`` (until then the panel is disabled)."""
        self._store = store
        self._update()

    def show_event(self, session_id: int, event_id: int) -> None:
        """Show the notes on one event."""
        self.show_target(session_id, NoteTarget.EVENT, str(event_id), "this event")

    def show_target(self, session_id: int, kind: NoteTarget, target_id: str,
                    what: str, *, title: str = "Notes") -> None:
        """Show the notes on one event, step (``<run id>:<step name>``) or run; ``what``
        names it in the Add button's tooltip, ``title`` heads the block."""
        self._session_id, self._target, self._title = session_id, (kind, target_id), title
        self.add_button.setToolTip(f"Annotate {what}: what you saw, and pass or fail")
        self._reload()

    @property
    def target(self) -> tuple[NoteTarget, str] | None:
        """The kind and id of what the notes shown annotate."""
        return self._target

    def clear(self) -> None:
        """Nothing shown: no notes, nothing to add to."""
        self._session_id = self._target = None
        self._title = "Notes"
        self.model.set_notes([])
        self._update()

    # ---- actions

    def add_note(self) -> None:
        """Open the dialog for a new note on the event shown."""
        if not self.can_add:
            return
        self._open(NoteDialog("Add a note", parent=self), None)

    def edit_selected(self) -> None:
        """Open the dialog on the selected note."""
        note = self._selected()
        if note is not None:
            self.edit_note(note)

    def edit_note(self, note: Note) -> None:
        """Open the dialog on ``note``."""
        self._open(NoteDialog("Edit the note", note, parent=self), note)

    def delete_selected(self) -> None:
        """Delete the selected note."""
        note = self._selected()
        if note is not None and self._store is not None:
            self._store.delete(note.id)
            self._changed()

    @property
    def can_add(self) -> bool:
        """Whether an event, step or run is shown and notes can be written."""
        return self._store is not None and self._target is not None

    # ---- internals

    def _open(self, dialog: NoteDialog, note: Note | None) -> None:
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._save(dialog, note))
        dialog.open()

    def _save(self, dialog: NoteDialog, note: Note | None) -> None:
        if self._store is None or self._session_id is None or self._target is None:
            return
        text, mark = dialog.values()
        try:
            if note is None:
                kind, target_id = self._target
                self._store.add(self._session_id, kind, target_id, text, mark)
            else:
                self._store.update(note.id, text, mark)
        except NoteError as error:
            dialog.show_problem(str(error))
            dialog.open()  # keep what was typed; say why
            return
        self._changed()

    def _changed(self) -> None:
        self._reload()
        if self._target is not None and self._target[0] is NoteTarget.EVENT:
            self.sig_notes_changed.emit(int(self._target[1]))

    def _reload(self) -> None:
        notes: list[Note] = []
        if self._store is not None and self._session_id is not None and self._target is not None:
            notes = self._store.for_session(self._session_id, *self._target)
        self.model.set_notes(notes)
        self.title.setText(f"{self._title} ({len(notes)})" if notes else self._title)
        # As tall as its notes (four lines at most, then it scrolls), hidden when none.
        self.list.setVisible(bool(notes))
        row = self.list.fontMetrics().height() + 4
        self.list.setFixedHeight(2 * self.list.frameWidth() + 4 + row * min(4, len(notes)))
        self._update()

    def selected_note(self) -> Note | None:
        """The note chosen in the list, if any."""
        return self._selected()

    def _selected(self) -> Note | None:
        rows = self.list.selectionModel().selectedRows()
        return self.model.note(rows[0].row()) if rows else None

    def _update(self) -> None:
        self.add_button.setEnabled(self.can_add)
        selected = self._selected() is not None and self._store is not None
        self.edit_button.setEnabled(selected)
        self.delete_button.setEnabled(selected)
