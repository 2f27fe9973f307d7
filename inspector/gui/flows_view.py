"""The window's flow runs: the Flows panel, the run it shows, and its live evaluation.

New events only mark the shown run stale; a timer (once a second at most) hands the refresh
to the window's :class:`~inspector.gui.tasks.TaskRunner`, which reads only what arrived since
and evaluates there. The GUI thread swaps the results into the model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QTimer, Signal

from inspector.core.audit import AuditConfig
from inspector.core.flows import FlowError, LoadedFlow, bundled_flow_names, load_flow
from inspector.core.flows.runs import (
    FlowRun,
    LiveRun,
    PlanInfo,
    load_runs,
    reevaluate,
    start_run,
)
from inspector.core.store import CommittedEvent, EventStore
from inspector.gui.tasks import TaskRunner
from inspector.gui.widgets.flows_panel import FlowsPanel

__all__ = ["FlowsView"]

#: How often a stale run is evaluated again while events arrive (milliseconds).
REFRESH_MS = 1000
#: Seconds between keeping a live run's results with its session (each keep is a write).
KEEP_EVERY = 10.0


def _reload(run: FlowRun) -> list[LoadedFlow]:
    """The run's flows as their files are now (bundled ones by name)."""
    return [load_flow(loaded.origin.removeprefix("bundled:")) for loaded in run.flows]


class FlowsView(QObject):
    """Owns the Flows panel and the run of the session it shows."""

    #: The shown run has new results (tests and benchmarks): the run id.
    sig_updated = Signal(int)

    def __init__(self, store: EventStore, tasks: TaskRunner, *,
                 config: AuditConfig | None = None,
                 plan: Callable[[], PlanInfo | None] = lambda: None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.tasks = tasks
        self.config = config or AuditConfig()
        self._plan = plan
        self.panel = FlowsPanel(bundled_flow_names())
        self.panel.sig_start_requested.connect(self.start)
        self.panel.sig_stop_requested.connect(self.stop)
        self.panel.sig_run_chosen.connect(self.show_run)
        self.panel.sig_reevaluate_requested.connect(self.reevaluate)
        self.session_id: int | None = None
        self.runs: list[FlowRun] = []
        #: The run shown, followed live while it runs.
        self.live: LiveRun | None = None
        self._stale = False
        self._busy = False
        self._kept_at = 0.0
        #: (wall, CPU) seconds of each refresh on its worker, for benchmarks.
        self.refresh_times: list[tuple[float, float]] = []
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._refresh_if_stale)
        self._timer.start()

    # ---- sessions and runs

    def show_session(self, session_id: int) -> None:
        """Show ``session_id``'s runs (read in the background), the latest one chosen."""
        if session_id == self.session_id:
            return
        self.session_id = session_id
        self.live = None
        self.runs = []
        self.panel.set_runs([], None)
        self.panel.show_run(None)
        store = self.store
        self.tasks.submit(lambda: load_runs(store, session_id),
                          lambda runs: self._apply_runs(session_id, runs, None),
                          what="Reading the session's flow runs")

    def _apply_runs(self, session_id: int, runs: list[FlowRun], shown: int | None) -> None:
        if session_id != self.session_id:
            return
        self.runs = runs
        if not runs:
            self.panel.set_runs([], None)
            self.panel.show_run(None)
            return
        chosen = next((run for run in runs if run.id == shown), runs[-1])
        self._follow(chosen)

    def _follow(self, run: FlowRun) -> None:
        self.live = LiveRun(self.store, run)
        self.panel.set_runs(self.runs, run.id)
        self.panel.show_run(run)
        # A running run catches up with what arrived while nobody followed it.
        self._stale = run.running
        self._refresh_if_stale()

    def show_run(self, run_id: int) -> None:
        """Show another kept run of the session."""
        run = next((run for run in self.runs if run.id == run_id), None)
        if run is not None:
            self._follow(run)

    def start(self, specs: Sequence[str], *, after_event_id: int | None = None) -> None:
        """Start a run of ``specs`` (bundled names or file paths) on the session shown, over
        the calls from now on (``after_event_id``: from after that event; 0: all)."""
        session_id = self.session_id
        if session_id is None:
            return
        try:
            flows = [load_flow(spec) for spec in specs]
        except FlowError as error:
            self.panel.summary.setText(f"The flow cannot be used: {error}")
            return
        store, config, plan = self.store, self.config, self._plan()
        self.tasks.submit(lambda: start_run(store, session_id, flows, config, plan,
                                            after_event_id=after_event_id),
                          lambda live: self._started(session_id, live),
                          on_error=self._failed, what="Starting a flow run")

    def _started(self, session_id: int, live: LiveRun) -> None:
        if session_id != self.session_id:
            return
        self.runs.append(live.run)
        self.live = live
        self._kept_at = time.monotonic()
        self.panel.set_runs(self.runs, live.id)
        self.panel.show_run(live.run)
        self.sig_updated.emit(live.id)

    def stop(self) -> None:
        """End the run shown (evaluated once more and kept)."""
        live = self.live
        if live is None or not live.run.running:
            return
        self.tasks.submit(live.stop, lambda run: self._apply(live, run), on_error=self._failed,
                          what="Stopping the flow run")

    def reevaluate(self, run_id: int) -> None:
        """Evaluate a kept run again with its flows as their files are now."""
        run = next((run for run in self.runs if run.id == run_id), None)
        if run is None:
            return
        try:
            flows = _reload(run)
        except FlowError as error:
            self.panel.summary.setText(f"The flow cannot be used: {error}")
            return
        store, session_id = self.store, run.session_id
        self.tasks.submit(lambda: reevaluate(store, run, flows),
                          lambda again: self._apply_runs(
                              session_id, [again if item.id == again.id else item
                                           for item in self.runs], again.id),
                          on_error=self._failed, what="Re-evaluating the flow run")

    # ---- live

    def on_events_committed(self, batch: Sequence[CommittedEvent]) -> None:
        """New events: the shown run is stale if it runs and any belongs to its session."""
        live = self.live
        if live is not None and live.run.running and any(
                event.session_id == live.run.session_id for event in batch):
            self._stale = True

    def refresh_now(self) -> None:
        """Evaluate at once (tests)."""
        self._stale = True
        self._refresh_if_stale()

    def _refresh_if_stale(self) -> None:
        live = self.live
        if live is None or not self._stale or self._busy or not live.run.running:
            return
        self._stale = False
        self._busy = True
        keep = time.monotonic() - self._kept_at >= KEEP_EVERY
        if keep:
            self._kept_at = time.monotonic()

        def evaluate() -> tuple[FlowRun, float, float]:
            started, cpu = time.perf_counter(), time.thread_time()
            run = live.refresh(save=keep)
            return run, time.perf_counter() - started, time.thread_time() - cpu

        def done(outcome: tuple[FlowRun, float, float]) -> None:
            self._busy = False
            run, wall, cpu = outcome
            self.refresh_times.append((wall, cpu))
            self._apply(live, run)  # what arrived meanwhile waits for the next tick

        self.tasks.submit(evaluate, done, on_error=self._failed, what="Evaluating the flows")

    def _apply(self, live: LiveRun, run: FlowRun) -> None:
        if live is not self.live:
            return  # another run or session was chosen meanwhile
        self.panel.set_runs(self.runs, run.id)
        self.panel.show_run(run)
        self.sig_updated.emit(run.id)

    def _failed(self, error: BaseException) -> None:
        self._busy = False
        self.panel.summary.setText(f"The flow run failed: {error}")
        self.tasks.sig_failed.emit("Evaluating the flows", str(error))
