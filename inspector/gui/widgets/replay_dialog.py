"""Replay (corrected) events into a Customer.io destination.

Preview first: the exact HTTP requests (method, URL, headers with the secret redacted, body)
and the events the destination would drop. A production destination stays locked until its
name is typed, and events of another environment (production-key events to a staging
workspace, or the reverse; from the audit configuration's environments) need an explicit
confirmation. The run goes through :class:`~inspector.gui.replay_worker.ReplayWorker` (engine
on a worker thread); progress and per-event results come back one queued signal per batch.
Runs are stored: an interrupted or cancelled run can be resumed, and failed events retried.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from PySide6.QtCore import QItemSelection, Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from inspector.core.environments import EnvironmentMap
from inspector.core.fixes import CorrectionStore
from inspector.core.replay import (
    CrossEnvironment,
    Destination,
    DestinationStore,
    Dropped,
    ItemStatus,
    Marking,
    PlannedRequest,
    ProductionLockedError,
    Rejected,
    ReplayOptions,
    ReplayProgress,
    ReplayRunStore,
    ReplayScope,
    ReplaySummary,
    check_unlocked,
    cross_environment,
    preview_requests,
    replay_scope,
    to_items,
)
from inspector.core.secrets import SecretStoreError
from inspector.core.store import EventQuery
from inspector.core.store.connection import Database
from inspector.core.wording import count
from inspector.gui.models.replay import NotSentModel, RequestPreviewModel, ResultsModel
from inspector.gui.replay_worker import ReplayWorker
from inspector.gui.widgets._util import compact_table, named

__all__ = ["ReplayDialog"]

_Pairs = list[tuple[int | None, dict[str, Any]]]


def _table(name: str, model: Any, stretch: int | None = None) -> QTableView:
    view = named(QTableView(), name)
    view.setModel(model)
    return compact_table(view, stretch)


class ReplayDialog(QDialog):
    """Choose a destination and a scope, preview, unlock, run, watch, resume, retry."""

    #: A run ended (``ReplaySummary``).
    sig_run_finished = Signal(object)

    def __init__(
        self,
        corrections: CorrectionStore,
        db: Database,
        *,
        query: EventQuery,
        selection: Sequence[int] = (),
        session_id: int | None = None,
        destinations: DestinationStore | None = None,
        environments: EnvironmentMap | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """``environments``: the audit configuration's, to warn about replays across them
        (none: no such warning)."""
        super().__init__(parent)
        self.setWindowTitle("Replay to Customer.io")
        self.setObjectName("replayDialog")
        self.corrections = corrections
        self.db = db
        self.destinations = destinations or DestinationStore(db)
        self.runs = ReplayRunStore(db)
        self.query = query
        self.selection = list(selection)
        self.session_id = session_id
        self.worker: ReplayWorker | None = None
        self.run_id: int | None = None
        self.summary: ReplaySummary | None = None
        self.progress: ReplayProgress | None = None
        self._pairs: _Pairs = []
        self.environments = environments or EnvironmentMap()
        #: Events of another environment in the scope (known once it is collected).
        self.crossing: CrossEnvironment | None = None

        # ---- destination and scope
        self.destination_combo = named(QComboBox(), "replayDestination")
        self.destination_combo.currentIndexChanged.connect(self._on_destination_changed)
        self.manage_button = named(QPushButton("Destinations…"), "manageDestinations")
        self.manage_button.clicked.connect(self._on_manage_clicked)
        self.scope_selection = named(QRadioButton(f"Selected events ({len(self.selection)})"),
                                     "replayScopeSelection")
        self.scope_filter = named(QRadioButton("Current filter"), "replayScopeFilter")
        self.scope_session = named(QRadioButton("Whole session"), "replayScopeSession")
        self.scope_selection.setEnabled(bool(self.selection))
        self.scope_session.setEnabled(session_id is not None)
        (self.scope_selection if self.selection else self.scope_filter).setChecked(True)
        for radio in (self.scope_selection, self.scope_filter, self.scope_session):
            radio.toggled.connect(self._invalidate_preview)
        self.rate = named(QSpinBox(), "replayRate")
        self.rate.setRange(1, 1000)
        self.rate.setValue(100)
        self.rate.setSuffix(" requests/s")
        top = QHBoxLayout()
        top.addWidget(QLabel("Destination:"))
        top.addWidget(self.destination_combo, 1)
        top.addWidget(self.manage_button)
        top.addSpacing(16)
        top.addWidget(QLabel("Rate:"))
        top.addWidget(self.rate)
        scope = QHBoxLayout()
        scope.addWidget(QLabel("Send:"))
        for radio in (self.scope_selection, self.scope_filter, self.scope_session):
            scope.addWidget(radio)
        scope.addStretch(1)
        self.preview_button = named(QPushButton("Preview requests"), "replayPreview")
        self.preview_button.clicked.connect(self.run_preview)
        scope.addWidget(self.preview_button)

        # ---- unlock
        self.unlock_label = named(QLabel(), "unlockLabel")
        self.unlock_label.setTextFormat(Qt.TextFormat.PlainText)
        self.unlock_label.setStyleSheet("color: #D55E00; font-weight: bold;")
        self.unlock = named(QLineEdit(), "unlockName")
        self.unlock.setPlaceholderText("type the destination's name")
        self.unlock.textChanged.connect(self._update_buttons)
        unlock_row = QHBoxLayout()
        unlock_row.addWidget(self.unlock_label)
        unlock_row.addWidget(self.unlock, 1)
        self.unlock_row = QWidget()
        self.unlock_row.setLayout(unlock_row)

        # ---- across environments (shown once a collected scope crosses)
        self.cross_label = named(QLabel(), "crossEnvironmentWarning")
        self.cross_label.setTextFormat(Qt.TextFormat.PlainText)
        self.cross_label.setWordWrap(True)
        self.cross_label.setStyleSheet("color: #D55E00; font-weight: bold;")
        self.cross_confirm = named(QCheckBox("Replay across environments anyway"),
                                   "crossEnvironmentConfirm")
        self.cross_confirm.toggled.connect(self._update_buttons)
        cross_row = QVBoxLayout()
        cross_row.setContentsMargins(0, 0, 0, 0)
        cross_row.addWidget(self.cross_label)
        cross_row.addWidget(self.cross_confirm)
        self.cross_row = QWidget()
        self.cross_row.setLayout(cross_row)
        self.cross_row.setVisible(False)

        # ---- preview, not sent, results
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.requests_model = RequestPreviewModel(self)
        self.requests_view = _table("requestsView", self.requests_model, stretch=2)
        for column, width in ((0, 40), (1, 60), (3, 60)):
            self.requests_view.horizontalHeader().resizeSection(column, width)
        self.requests_view.selectionModel().selectionChanged.connect(self._on_request_selected)
        self.request_text = named(QPlainTextEdit(), "requestText")
        self.request_text.setReadOnly(True)
        self.request_text.setFont(mono)
        requests_split = QSplitter(Qt.Orientation.Horizontal)
        requests_split.addWidget(self.requests_view)
        requests_split.addWidget(self.request_text)
        requests_split.setSizes([420, 480])
        self.not_sent_model = NotSentModel(self)
        self.not_sent_view = _table("notSentView", self.not_sent_model)
        self.results_model = ResultsModel(self)
        self.results_view = _table("resultsView", self.results_model)
        for column, width in ((0, 50), (1, 70), (2, 90), (3, 50), (4, 70)):
            self.results_view.horizontalHeader().resizeSection(column, width)
        self.tabs = named(QTabWidget(), "replayTabs")
        self.tabs.addTab(requests_split, "Requests")
        self.tabs.addTab(self.not_sent_view, "Not sent")
        self.tabs.addTab(self.results_view, "Results")
        self.preview_summary = named(QLabel("Preview to see the exact requests."),
                                     "previewSummary")
        self.preview_summary.setTextFormat(Qt.TextFormat.PlainText)
        self.preview_summary.setWordWrap(True)  # "… would be dropped by …" reads whole

        # ---- run controls
        self.progress_bar = named(QProgressBar(), "replayProgress")
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_label = named(QLabel(), "replayCounts")
        self.progress_label.setTextFormat(Qt.TextFormat.PlainText)
        self.run_button = named(QPushButton("Run replay"), "replayRun")
        self.run_button.clicked.connect(lambda: self.start_run())
        self.pause_button = named(QPushButton("Pause"), "replayPause")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self._on_pause_toggled)
        self.cancel_button = named(QPushButton("Cancel run"), "replayCancel")
        self.cancel_button.clicked.connect(self.cancel_run)
        self.retry_button = named(QPushButton("Retry failed only"), "replayRetry")
        self.retry_button.clicked.connect(lambda: self.retry_failed())
        self.runs_combo = named(QComboBox(), "replayRuns")
        self.resume_button = named(QPushButton("Resume run"), "replayResume")
        self.resume_button.clicked.connect(lambda: self.resume_run())
        self.summary_label = named(QLabel(), "replaySummary")
        self.summary_label.setTextFormat(Qt.TextFormat.PlainText)
        self.summary_label.setWordWrap(True)
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.pause_button)
        run_row.addWidget(self.cancel_button)
        run_row.addWidget(self.progress_bar, 1)
        resume_row = QHBoxLayout()
        resume_row.addWidget(QLabel("Earlier runs:"))
        resume_row.addWidget(self.runs_combo, 1)
        resume_row.addWidget(self.resume_button)
        resume_row.addWidget(self.retry_button)

        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(scope)
        layout.addWidget(self.preview_summary)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.unlock_row)
        layout.addWidget(self.cross_row)
        layout.addLayout(run_row)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.summary_label)
        layout.addLayout(resume_row)
        layout.addWidget(close)
        self.resize(1000, 680)
        self.refresh_destinations()
        self.refresh_runs()
        self._show_scope_size()

    # ---- destinations

    @property
    def destination(self) -> Destination | None:
        """The chosen destination."""
        name = self.destination_combo.currentData()
        return self.destinations.get(name) if name else None

    def refresh_destinations(self) -> None:
        """Re-read the destinations (keeping the choice)."""
        current = self.destination_combo.currentData()
        self.destination_combo.blockSignals(True)
        self.destination_combo.clear()
        for destination in self.destinations.list():
            label = f"{destination.name} — {destination.mode}, {destination.region.name}"
            if destination.marking is Marking.PRODUCTION:
                label += ", PRODUCTION"
            self.destination_combo.addItem(label, destination.name)
        index = self.destination_combo.findData(current)
        self.destination_combo.setCurrentIndex(max(index, 0))
        self.destination_combo.blockSignals(False)
        self._on_destination_changed()

    def select_destination(self, name: str) -> None:
        """Choose destination ``name``."""
        self.destination_combo.setCurrentIndex(self.destination_combo.findData(name))

    def _on_manage_clicked(self) -> None:
        from inspector.gui.widgets.destinations_dialog import DestinationsDialog

        dialog = DestinationsDialog(self.db, self.destinations, parent=self)
        dialog.finished.connect(lambda _result: self.refresh_destinations())
        dialog.open()

    def _on_destination_changed(self) -> None:
        destination = self.destination
        production = destination is not None and destination.marking is Marking.PRODUCTION
        self.unlock_row.setVisible(production)
        self.unlock.clear()
        if production and destination is not None:
            self.unlock_label.setText(
                f"🔒 {destination.name!r} is a production workspace. Type its name to unlock:")
        self._invalidate_preview()

    @property
    def unlocked(self) -> bool:
        """Whether the chosen destination may be sent to in this dialog."""
        destination = self.destination
        if destination is None:
            return False
        try:
            check_unlocked(destination, self.unlock.text())
        except ProductionLockedError:
            return False
        return True

    # ---- scope and preview

    def _scope(self) -> ReplayScope:
        names = self.corrections.store.write_key_names()
        if self.scope_selection.isChecked() and self.selection:
            records = [r for r in map(self.corrections.store.get_event, self.selection) if r]
            records.sort(key=lambda record: record.id)  # capture order
            by_id = {record.id: record for record in records}
            return replay_scope(((by_id[event_id], payload) for event_id, payload in
                                 self.corrections.effective(records)), self.environments, names)
        query = self.query
        if self.scope_session.isChecked() and self.session_id is not None:
            query = EventQuery(session_id=self.session_id)
        return replay_scope(self.corrections.iter_effective(query), self.environments, names)

    def _collect(self) -> _Pairs:
        """The scope's events; shows the warning when some belong to another environment."""
        scope = self._scope()
        destination = self.destination
        self.crossing = (cross_environment(self.environments, destination, scope.environments)
                         if destination is not None else None)
        self.cross_row.setVisible(self.crossing is not None)
        if self.crossing is not None:
            self.cross_label.setText(f"⚠ {self.crossing.message}")
        return scope.pairs

    @property
    def cross_confirmed(self) -> bool:
        """Whether the scope stays in the destination's environment, or the user confirmed."""
        return self.crossing is None or self.cross_confirm.isChecked()

    def _invalidate_preview(self) -> None:
        self._pairs = []
        self.crossing = None
        self.cross_row.setVisible(False)
        self.cross_confirm.setChecked(False)
        self.requests_model.set_requests([])
        self.not_sent_model.set_entries([], [])
        self.request_text.setPlainText("")
        self.preview_summary.setText("Preview to see the exact requests.")
        self._show_scope_size()
        self._update_buttons()

    def _show_scope_size(self, size: int | None = None) -> None:
        """Before a run, the progress bar says how many events the scope holds (it said
        "0 / 1 events" whatever the scope); unknown until a preview for a filter or session."""
        if size is None and self.scope_selection.isChecked() and self.selection:
            size = len(self.selection)
        self.progress_bar.setRange(0, max(size or 0, 1))
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat(
            f"0 / {count(size, 'event')}" if size is not None
            else "Preview to count the events")

    def _set_progress(self, done: int, total: int) -> None:
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(done)
        self.progress_bar.setFormat(f"{done} / {count(total, 'event')}")

    def run_preview(self) -> int:
        """Plan the requests for the scope (sending nothing); returns how many requests."""
        destination = self.destination
        if destination is None:
            self.preview_summary.setText("Add a destination first (Destinations…).")
            return 0
        pairs = self._collect()
        planned = preview_requests(destination, to_items(pairs))
        requests = [entry for entry in planned if isinstance(entry, PlannedRequest)]
        not_sent = [entry for entry in planned if isinstance(entry, Dropped | Rejected)]
        event_ids = [event_id for event_id, _ in pairs]
        self._pairs = pairs
        self.requests_model.set_requests(requests)
        self.not_sent_model.set_entries(not_sent, event_ids)
        dropped = sum(isinstance(entry, Dropped) for entry in not_sent)
        self._show_scope_size(len(pairs))
        text = (f"{count(len(pairs), 'event')} → {count(len(requests), 'request')} "
                f"to {destination.base_url}")
        if dropped:
            text += f"; {dropped} would be dropped by {destination.mode}"
        if len(not_sent) - dropped:
            text += f"; {len(not_sent) - dropped} cannot be sent"
        self.preview_summary.setText(text)
        self.tabs.setTabText(1, f"Not sent ({len(not_sent)})")
        if requests:
            self.requests_view.selectRow(0)
        self._update_buttons()
        return len(requests)

    def _on_request_selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = self.requests_view.selectionModel().selectedRows()
        if not rows:
            return
        preview = self.requests_model.planned(rows[0].row()).request.preview()
        headers = "\n".join(f"{key}: {value}" for key, value in preview["headers"].items())
        body = orjson.dumps(preview["body"], option=orjson.OPT_INDENT_2).decode()
        self.request_text.setPlainText(f"{preview['method']} {preview['url']}\n{headers}\n\n{body}")

    # ---- runs

    def _options(self) -> ReplayOptions:
        return ReplayOptions(rate=float(self.rate.value()))

    def start_run(self) -> bool:
        """Plan a new run over the scope and start it; ``False`` (with a message) if refused."""
        destination = self.destination
        if destination is None or self.running:
            return False
        if not self.unlocked:
            self.summary_label.setText(
                f"Refused: {destination.name!r} is production; type its name to unlock.")
            return False
        pairs = self._pairs or self._collect()
        if not pairs:
            self.summary_label.setText("Nothing to replay in this scope.")
            return False
        if not self.cross_confirmed:
            self._pairs = pairs  # keep the warning up: the confirmation applies to these
            self.summary_label.setText(
                "Refused: some events belong to another environment; tick \"Replay across "
                "environments anyway\" to send them.")
            self._update_buttons()
            return False
        run = self.runs.create_run(destination, pairs, session_id=self.session_id,
                                   options={"rate": self.rate.value()})
        return self._start(run.id, destination)

    def resume_run(self, run_id: int | None = None) -> bool:
        """Send the pending events of an earlier (interrupted or cancelled) run."""
        return self._continue(run_id, retry_failed=False)

    def retry_failed(self, run_id: int | None = None) -> bool:
        """Send the failed and held events of a run again."""
        return self._continue(run_id, retry_failed=True)

    def _continue(self, run_id: int | None, *, retry_failed: bool) -> bool:
        if self.running:
            return False
        run_id = run_id if run_id is not None else self.runs_combo.currentData()
        if run_id is None:
            return False
        run = self.runs.get_run(int(run_id))
        if run is None:
            return False
        self.select_destination(run.destination.name)
        if not self.unlocked:
            self.summary_label.setText(
                f"Refused: {run.destination.name!r} is production; type its name to unlock.")
            return False
        return self._start(run.id, run.destination, retry_failed=retry_failed)

    def _start(self, run_id: int, destination: Destination, *, retry_failed: bool = False) -> bool:
        try:
            credentials = self.destinations.credentials_for(destination)
        except SecretStoreError as error:
            self.summary_label.setText(f"Cannot read the credentials: {error}")
            return False
        if credentials is None:
            self.summary_label.setText(
                f"Not started: {self.destinations.missing_credentials(destination)} "
                "(Destinations…).")
            return False
        self.run_id = run_id
        self.summary = None
        self.progress = None
        self.results_model.set_rows(self.runs.results(run_id, limit=10_000_000))
        counts = self.runs.counts(run_id)
        total = sum(counts.values())
        self._set_progress(total - counts[ItemStatus.PENDING]
                           - (counts[ItemStatus.FAILED] + counts[ItemStatus.HELD]
                              if retry_failed else 0), total)
        worker = ReplayWorker(self.runs, destination, credentials, run_id,
                              retry_failed=retry_failed, unlock=self.unlock.text() or None,
                              options=self._options(), parent=self)
        worker.sig_batch_ready.connect(self._on_batch_ready)
        worker.sig_finished.connect(self._on_finished)
        worker.sig_failed.connect(self._on_failed)
        self.worker = worker
        self.summary_label.setText(f"Run {run_id}: sending…")
        self.tabs.setCurrentWidget(self.results_view)
        self.pause_button.setChecked(False)
        worker.start()
        self._update_buttons()
        return True

    @property
    def running(self) -> bool:
        """Whether a run is in progress."""
        return self.worker is not None

    def pause(self, paused: bool = True) -> None:
        """Pause or resume the run in progress."""
        self.pause_button.setChecked(paused)

    def cancel_run(self) -> None:
        """Stop the run; what was not sent stays pending for "Resume run"."""
        if self.worker is not None:
            self.summary_label.setText("Cancelling: requests in flight finish first…")
            self.worker.cancel()

    def _on_pause_toggled(self, paused: bool) -> None:
        if self.worker is None:
            return
        if paused:
            self.worker.pause()
        else:
            self.worker.resume()
        self.pause_button.setText("Resume" if paused else "Pause")

    def _on_batch_ready(self) -> None:
        worker = self.worker
        if worker is None:
            return
        progress, results = worker.take()
        if results:
            self.results_model.apply_results(results)
        if progress is not None:
            self.progress = progress
            self._set_progress(progress.done, progress.total)
            self.progress_label.setText(
                f"sent {progress.sent} · failed {progress.failed} · dropped {progress.dropped}"
                f" · held {progress.held} · pending {progress.pending} · "
                f"{progress.requests} requests ({progress.retries} retries) · "
                f"{progress.elapsed:.1f} s" + (" · paused" if progress.paused else ""))

    def _on_finished(self, summary: ReplaySummary) -> None:
        self._on_batch_ready()  # anything buffered after the last signal
        self._end_worker()
        self.summary = summary
        counts = summary.counts
        done = sum(counts.values()) - counts[ItemStatus.PENDING]
        self._set_progress(done, sum(counts.values()))
        parts = [f"{counts[status]} {status}" for status in ItemStatus if counts[status]]
        text = (f"Run {summary.run_id} {summary.state}: {', '.join(parts) or 'nothing to send'}"
                f" — {summary.requests} requests, {summary.retries} retries, "
                f"{summary.elapsed:.1f} s")
        if counts[ItemStatus.PENDING]:
            text += ". Not sent yet: Resume run to continue."
        if counts[ItemStatus.FAILED] or counts[ItemStatus.HELD]:
            text += " Retry failed only sends the failed and held events again."
        self.summary_label.setText(text)
        self.refresh_runs(select=summary.run_id)
        self.sig_run_finished.emit(summary)

    def _on_failed(self, message: str) -> None:
        self._end_worker()
        self.summary_label.setText(message)
        self.refresh_runs(select=self.run_id)

    def _end_worker(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.wait(5)
            worker.deleteLater()
        self.pause_button.setChecked(False)
        self._update_buttons()

    def refresh_runs(self, select: int | None = None) -> None:
        """Re-read the earlier runs of this session that have something left to do."""
        self.runs_combo.clear()
        for run in self.runs.list_runs(self.session_id):
            counts = self.runs.counts(run.id)
            left = counts[ItemStatus.PENDING]
            failed = counts[ItemStatus.FAILED] + counts[ItemStatus.HELD]
            if not left and not failed:
                continue
            self.runs_combo.addItem(
                f"#{run.id} → {run.destination.name} ({run.state}; {left} pending, "
                f"{failed} failed/held)", run.id)
        if select is not None:
            index = self.runs_combo.findData(select)
            if index >= 0:
                self.runs_combo.setCurrentIndex(index)
        self._update_buttons()

    def _selected_run_counts(self) -> dict[ItemStatus, int] | None:
        run_id = self.runs_combo.currentData()
        return self.runs.counts(int(run_id)) if run_id is not None else None

    def _update_buttons(self) -> None:
        running = self.running
        has_destination = self.destination is not None
        self.run_button.setEnabled(not running and has_destination and self.unlocked
                                   and self.cross_confirmed)
        self.pause_button.setEnabled(running)
        self.cancel_button.setEnabled(running)
        counts = None if running else self._selected_run_counts()
        self.resume_button.setEnabled(bool(counts and counts[ItemStatus.PENDING]))
        self.retry_button.setEnabled(
            bool(counts and (counts[ItemStatus.FAILED] or counts[ItemStatus.HELD])))
        for widget in (self.destination_combo, self.preview_button, self.manage_button,
                       self.rate):
            widget.setEnabled(not running)

    def done(self, result: int) -> None:
        # Closing mid-run cancels it (the rest stays pending) and waits for the thread.
        if self.worker is not None:
            self.worker.cancel()
            self.worker.wait(30)
            self.worker = None
        super().done(result)

