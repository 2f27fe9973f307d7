"""The plan panel and the sessions panel (both live in dock widgets)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Signal, SignalInstance
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from inspector.gui.models.detail import PlanEventsModel, SessionsModel
from inspector.gui.widgets._util import named

__all__ = ["PlanPanel", "SessionsPanel"]


def _table(name: str) -> QTableView:
    view = named(QTableView(), name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.setWordWrap(False)
    view.setShowGrid(False)
    header = view.horizontalHeader()
    header.setStretchLastSection(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    return view


class PlanPanel(QWidget):
    """The tracking plan's events, how often each was seen and violated in this session."""

    #: The user asked to see only this event in the table.
    sig_event_chosen = Signal(str)
    sig_load_requested = Signal()
    sig_revalidate_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = PlanEventsModel(self)
        self.title = QLabel("No tracking plan loaded")
        self.title.setWordWrap(True)
        self.view = _table("planEventsView")
        self.view.setModel(self.model)
        self.view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # A long name (or its "(unplanned)" note) wraps onto a second line instead of being
        # cut off in the narrow side bar; a plan has a few hundred events at most, so sizing
        # rows to their contents is cheap here (never on the event table).
        self.view.setWordWrap(True)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.view.doubleClicked.connect(self._on_double_clicked)
        load = named(QPushButton("Load plan…"), "loadPlanButton")
        load.clicked.connect(self.sig_load_requested)
        revalidate = named(QPushButton("Re-validate"), "revalidateButton")
        revalidate.clicked.connect(self.sig_revalidate_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(load)
        buttons.addWidget(revalidate)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.view)
        layout.addLayout(buttons)

    def set_plan_title(self, text: str) -> None:
        """Describe the loaded plan (plain text)."""
        self.title.setText(text)

    def _on_double_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.sig_event_chosen.emit(self.model.row_data(index.row()).name)


class SessionsPanel(QWidget):
    """Past capture sessions: open, rename, delete, export."""

    sig_open_requested = Signal(int)
    sig_rename_requested = Signal(int)
    sig_delete_requested = Signal(int)
    sig_export_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = SessionsModel(self)
        self.view = _table("sessionsView")
        self.view.setModel(self.model)
        # Set again once the model gives the header its sections (else the name column did
        # not stretch and the Events column was cut off).
        self.view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.view.doubleClicked.connect(lambda index: self._emit(self.sig_open_requested))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.view)
        # Two rows of two: four buttons in one row made the side bar ~350 px wide at least,
        # which cut the table's last columns off at the default window size.
        buttons = QGridLayout()
        for number, (label, signal, name) in enumerate((
            ("Open", self.sig_open_requested, "openSessionButton"),
            ("Rename…", self.sig_rename_requested, "renameSessionButton"),
            ("Delete", self.sig_delete_requested, "deleteSessionButton"),
            ("Export…", self.sig_export_requested, "exportSessionButton"),
        )):
            button = named(QPushButton(label), name)
            button.clicked.connect(lambda _=False, s=signal: self._emit(s))
            buttons.addWidget(button, number // 2, number % 2)
        layout.addLayout(buttons)

    def selected_session_id(self) -> int | None:
        """The id of the selected session."""
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.session(rows[0].row()).id

    def select_session(self, session_id: int) -> None:
        """Select ``session_id``'s row."""
        row = self.model.row_of(session_id)
        if row is not None:
            self.view.selectRow(row)

    def _emit(self, signal: SignalInstance) -> None:
        session_id = self.selected_session_id()
        if session_id is not None:
            signal.emit(session_id)
