"""The Flows panel: pick flows, start and stop a run, watch each step pass or fail live, and
annotate a step or the run (the detail pane's notes block, aimed at a step or a run)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from inspector.core.flows.runs import FlowRun, report_run_id
from inspector.core.notes import NoteStore, NoteTarget
from inspector.gui.models.flows import STATUS_COLORS, STATUS_GLYPHS, FlowStepsModel
from inspector.gui.widgets._util import named, side_bar_tree
from inspector.gui.widgets.notes_panel import NotesPanel

__all__ = ["FlowsPanel"]

_SPEC = Qt.ItemDataRole.UserRole


class FlowsPanel(QWidget):
    """Flows to run (bundled, or files added), the session's runs, and the chosen run's
    steps with their status, call and reason."""

    #: Start a run of these flows (bundled names or file paths).
    sig_start_requested = Signal(list)
    sig_stop_requested = Signal()
    #: Show another kept run of the session (its id).
    sig_run_chosen = Signal(int)
    #: Evaluate the chosen run again with its flows as their files are now (its id).
    sig_reevaluate_requested = Signal(int)
    #: Select this call in the events table (a step's satisfying or closest call).
    sig_event_chosen = Signal(int)

    def __init__(self, flow_names: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.flows = named(QListWidget(), "flowChoices")
        self.flows.setMaximumHeight(84)
        for name in flow_names:
            self._add_choice(name, name, checked=name == "guest-checkout")
        self.add_file = named(QPushButton("Add flow file…"), "addFlowFile")
        self.add_file.clicked.connect(self._choose_file)
        self.start = named(QPushButton("Start run"), "startFlowRun")
        self.start.clicked.connect(self._start)
        self.stop = named(QPushButton("Stop"), "stopFlowRun")
        self.stop.setEnabled(False)
        self.stop.clicked.connect(self.sig_stop_requested)
        self.runs = named(QComboBox(), "flowRuns")
        self.runs.activated.connect(self._run_activated)
        self.reevaluate = named(QPushButton("Re-evaluate"), "reevaluateFlowRun")
        self.reevaluate.setToolTip("Evaluate this run again with its flows as their files "
                                   "are now (after editing a flow)")
        self.reevaluate.setEnabled(False)
        self.reevaluate.clicked.connect(self._reevaluate)
        self.summary = named(QLabel("Pick flows and start a run, then click through the "
                                    "journey."), "flowSummary")
        self.summary.setWordWrap(True)
        self.model = FlowStepsModel(self)
        # The glyph and colour say the status; the reason and the call are in the detail below.
        self.view = side_bar_tree(self.model, "flowSteps")
        self.view.clicked.connect(self._on_clicked)
        self.view.selectionModel().currentChanged.connect(self._on_current)
        self.detail = named(QTextBrowser(), "flowStepDetail")
        self.detail.setPlaceholderText("Choose a step to read why it passed or failed")
        # The notes on the selected step, or on the run when no step is selected; written
        # through the same block (and dialog) as an event's notes.
        self.notes = NotesPanel()
        self.notes.setObjectName("flowNotes")
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        #: The run shown (its id and session name what its notes annotate).
        self._run: FlowRun | None = None

        buttons = QHBoxLayout()
        for widget in (self.add_file, self.start, self.stop):
            buttons.addWidget(widget)
        runs = QHBoxLayout()
        runs.addWidget(QLabel("Run:"))
        runs.addWidget(self.runs, 1)
        runs.addWidget(self.reevaluate)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.view)
        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.setSpacing(2)
        detail_layout.addWidget(self.detail, 1)
        detail_layout.addWidget(self.notes)
        splitter.addWidget(detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.flows)
        layout.addLayout(buttons)
        layout.addLayout(runs)
        layout.addWidget(self.summary)
        layout.addWidget(splitter, 1)

    # ---- choosing flows

    def _add_choice(self, label: str, spec: str, *, checked: bool) -> None:
        item = QListWidgetItem(label)
        item.setData(_SPEC, spec)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.flows.addItem(item)

    def add_flow_file(self, path: str) -> None:
        """Offer a flow file (checked) beside the bundled flows."""
        self._add_choice(path.rsplit("/", 1)[-1], path, checked=True)

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add a flow file", "",
                                              "Flow files (*.yaml *.yml *.json)")
        if path:
            self.add_flow_file(path)

    def chosen_specs(self) -> list[str]:
        """The flows checked (bundled names or file paths)."""
        return [str(self.flows.item(row).data(_SPEC)) for row in range(self.flows.count())
                if self.flows.item(row).checkState() == Qt.CheckState.Checked]

    def set_chosen(self, specs: Sequence[str]) -> None:
        """Check exactly these flows (tests, and restoring a choice)."""
        for row in range(self.flows.count()):
            item = self.flows.item(row)
            item.setCheckState(Qt.CheckState.Checked if item.data(_SPEC) in specs
                               else Qt.CheckState.Unchecked)

    def _start(self) -> None:
        specs = self.chosen_specs()
        if not specs:
            self.summary.setText("Check at least one flow to run.")
            return
        self.sig_start_requested.emit(specs)

    # ---- runs

    def set_runs(self, runs: Sequence[FlowRun], shown: int | None) -> None:
        """The session's runs in the chooser, ``shown`` selected."""
        self.runs.blockSignals(True)
        self.runs.clear()
        for run in runs:
            when = datetime.fromtimestamp(run.started_at).strftime("%H:%M:%S")
            names = ", ".join(loaded.flow.name for loaded in run.flows)
            state = "running" if run.running else str(run.status)
            self.runs.addItem(f"#{run.id} {when} {names} ({state})", run.id)
            if run.id == shown:
                self.runs.setCurrentIndex(self.runs.count() - 1)
        self.runs.blockSignals(False)
        self.reevaluate.setEnabled(shown is not None)

    def set_running(self, running: bool) -> None:
        """Whether the shown run is being followed (Stop enabled)."""
        self.stop.setEnabled(running)

    def show_run(self, run: FlowRun | None) -> None:
        """Show a run's latest results (``None``: no run)."""
        self._run = run
        if run is None:
            self.notes.clear()
            self.model.set_results([])
            self.summary.setText("No run yet: pick flows and start one.")
            self.set_running(False)
            return
        self.model.set_results(run.results)
        self.view.expandAll()
        counts: dict[str, int] = {}
        for result in run.results:
            for step in result.steps:
                counts[str(step.status)] = counts.get(str(step.status), 0) + 1
        state = "Running" if run.running else "Ended"
        self.summary.setText(
            f"{state}: {run.status!s}. Steps: " + ", ".join(
                f"{count} {status}" for status, count in counts.items()) + ".")
        self.set_running(run.running)
        current = self.view.currentIndex()
        if current.isValid():
            self._on_current(current, QModelIndex())
        else:
            self._show_notes(QModelIndex())

    def _run_activated(self, row: int) -> None:
        run_id = self.runs.itemData(row)
        if run_id is not None:
            self.sig_run_chosen.emit(int(run_id))

    def _reevaluate(self) -> None:
        run_id = self.runs.currentData()
        if run_id is not None:
            self.sig_reevaluate_requested.emit(int(run_id))

    # ---- steps

    def _on_clicked(self, index: QModelIndex) -> None:
        events = self.model.event_ids(index.siblingAtColumn(0))
        if events:
            self.sig_event_chosen.emit(events[-1])

    def _on_current(self, index: QModelIndex, _previous: QModelIndex) -> None:
        step = self.model.step(index.siblingAtColumn(0))
        flow = self.model.flow(index.siblingAtColumn(0))
        self._show_notes(index.siblingAtColumn(0))
        if flow is None:
            self.detail.clear()
            return
        if step is None:
            self.detail.setHtml(f"<b>{html.escape(flow.flow)}</b>: {html.escape(str(flow.status))}"
                                f"<p>{html.escape(flow.description or '')}</p>")
            return
        status = str(step.status)
        parts = [f"<b>{html.escape(step.name)}</b>: <span style='color:{STATUS_COLORS[status]}'>"
                 f"{STATUS_GLYPHS[status]} {status}</span>"]
        # Why first (the point of a failed step), then which call.
        if step.violations:
            parts.append("<ul>" + "".join(
                f"<li>{html.escape(_worded(violation.field, violation.message))}</li>"
                for violation in step.violations) + "</ul>")
        elif step.reason:
            parts.append(f"<p>{html.escape(step.reason)}</p>")
        if step.message_ids:
            label = "Call" if status == "passed" else "Closest call"
            parts.append(f"<p>{label} (click the step to select it): " + ", ".join(
                html.escape(str(item)) for item in step.message_ids[:10]) + "</p>")
        self.detail.setHtml("".join(parts))


    # ---- notes

    def attach_notes(self, store: NoteStore) -> None:
        """Read and write step and run notes in ``store`` (until then Add note is off)."""
        self.notes.attach(store)

    def _note_target(self, flow: str | None,
                     step: str | None) -> tuple[NoteTarget, str, str] | None:
        """What a note on ``step`` of ``flow`` in the run shown annotates (no step: the flow's
        run; no flow: the whole run): kind, id as the QA report names it, and in words."""
        run = self._run
        if run is None:
            return None
        if flow is None and len(run.results) == 1:
            flow = run.results[0].flow
        run_id = str(run.id) if flow is None else report_run_id(run, flow)
        words = f"run #{run.id}" if run_id == str(run.id) else f"{flow} in run #{run.id}"
        if step is None:
            return NoteTarget.RUN, run_id, words
        return NoteTarget.STEP, f"{run_id}:{step}", f"step {step} of {words}"

    def _show_notes(self, index: QModelIndex) -> None:
        flow = self.model.flow(index) if index.isValid() else None
        step = self.model.step(index) if index.isValid() else None
        target = self._note_target(None if flow is None else flow.flow,
                                   None if step is None else step.name)
        if target is None or self._run is None:
            self.notes.clear()
            return
        kind, target_id, what = target
        # Results refresh every second while a run is live: read the notes again only when
        # the step or run shown changes (the block reloads itself after its own edits).
        if self.notes.target != (kind, target_id):
            self.notes.show_target(self._run.session_id, kind, target_id, what,
                                   title=f"{kind.capitalize()} notes")

    def _context_menu(self, point: QPoint) -> None:
        menu = self.context_menu(self.view.indexAt(point))
        if menu is not None:
            menu.exec(self.view.viewport().mapToGlobal(point))

    def context_menu(self, index: QModelIndex) -> QMenu | None:
        """The steps tree's menu for ``index`` (Add note / Edit on the step under it, or on
        the run); ``None`` when no run is shown."""
        if self._run is None:
            return None
        # The notes block follows the current row (none: the run), so the menu acts on it.
        self.view.setCurrentIndex(index)
        step = self.model.step(index.siblingAtColumn(0)) if index.isValid() else None
        menu = QMenu(self)
        what = "step" if step is not None else "run"
        add = menu.addAction(f"Add note on this {what}…")
        add.setObjectName("addFlowNote")
        add.setEnabled(self.notes.can_add)
        add.triggered.connect(lambda _checked=False: self.notes.add_note())
        notes = [self.notes.model.note(row) for row in range(self.notes.model.rowCount())]
        # Edit the note chosen in the block, else the latest one on this step or run.
        chosen = self.notes.selected_note() or (notes[-1] if notes else None)
        edit = menu.addAction("Edit note…")
        edit.setObjectName("editFlowNote")
        edit.setEnabled(chosen is not None)
        if chosen is not None:
            edit.triggered.connect(lambda _checked=False: self.notes.edit_note(chosen))
        return menu


def _worded(field: str, message: str) -> str:
    """A violation as a failed step's reason words it (its field first when the message
    does not name it)."""
    return message if not field or field in message else f"{field}: {message}"
