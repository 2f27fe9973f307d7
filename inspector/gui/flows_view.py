"""The window's flow runs: the Flows panel, the run it shows, and its live evaluation.

While the window's capture child (``inspector serve``) runs, the child evaluates the run: the
window starts, follows, stops and re-evaluates it over the child's flow REST API
(``/inspector/api/flows/runs``; a flow file picked here is sent as its text, the child reads
no paths), so the run's calls and identity graph live in the child's memory and are collected
there. Followed in the window's own process, a guest-checkout run at 1,000 events/s cost the
event loop a 125 ms full garbage collection (bench/gui_live.py --flows). A window without a
child follows the run in a worker of its own with the same core code. Runs are kept in the
shared database either way, so one started by either side shows in the other.

New events only mark the shown run stale; a timer (once a second at most) hands the refresh
to the window's :class:`~inspector.gui.tasks.TaskRunner`, and the GUI thread swaps the
results into the model.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import httpx
from PySide6.QtCore import QObject, QTimer, Signal

from inspector.core.audit import AuditConfig
from inspector.core.flows import FlowError, bundled_flow_names, load_flow
from inspector.core.flows.runs import (
    FlowRun,
    LiveRun,
    PlanInfo,
    load_run,
    load_runs,
    reevaluate,
    start_run,
)
from inspector.core.rulefile import read_rule_file
from inspector.core.store import CommittedEvent, EventStore
from inspector.gui.child_api import ChildApi, ChildApiError, child_api
from inspector.gui.tasks import TaskRunner
from inspector.gui.widgets.flows_panel import FlowsPanel

if TYPE_CHECKING:
    from inspector.gui.capture import CaptureController

__all__ = ["FlowsView"]

#: How often a stale run is evaluated again while events arrive (milliseconds).
REFRESH_MS = 1000


def _specs(run: FlowRun) -> list[str]:
    """The run's flows as specs to load again as they are now (bundled ones by name, the
    others by their file's path)."""
    return [loaded.origin.removeprefix("bundled:") for loaded in run.flows]


def _flow_json(spec: str) -> dict[str, str]:
    """A flow as the child's REST API takes it: a bundled one by name, a file by its text
    (read here: the child reads no paths); :class:`FlowError` if it cannot be read."""
    if spec in bundled_flow_names():
        return {"name": spec}
    path = Path(spec).expanduser()
    if not path.exists():
        raise FlowError(f"{spec}: no such flow file, and no bundled flow of that name "
                        f"(bundled: {', '.join(bundled_flow_names())})")
    return {"content": read_rule_file(path, "the flow file", FlowError), "source": str(path)}


class _Source(Protocol):
    """Where the shown run is evaluated: this process, or the capture child. Every method
    runs on a worker thread."""

    def runs(self, session_id: int) -> list[FlowRun]:
        """The session's runs, oldest first."""

    def start(self, session_id: int, specs: Sequence[str], plan: PlanInfo | None,
              after_event_id: int | None) -> FlowRun:
        """Start a run of ``specs`` (bundled names or file paths)."""

    def refresh(self, run: FlowRun) -> FlowRun:
        """The run caught up with the session, its results kept when due (see
        :meth:`LiveRun.refresh`)."""

    def stop(self, run: FlowRun) -> FlowRun:
        """End the run."""

    def reevaluate(self, run: FlowRun, specs: Sequence[str]) -> FlowRun:
        """Evaluate the run again with ``specs`` as they are now."""


class _LocalSource:
    """Evaluates in this process, in a worker (a window with no capture child)."""

    def __init__(self, store: EventStore, config: AuditConfig) -> None:
        self.store = store
        self.config = config
        #: The run followed: its evaluator holds the run's calls and identity graph.
        self.following: LiveRun | None = None
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Let go of the run followed (the capture child follows it now)."""
        with self._lock:
            self.following = None

    def _live(self, run: FlowRun) -> LiveRun:
        with self._lock:
            if self.following is None or self.following.id != run.id:
                self.following = LiveRun(self.store, run)
            return self.following

    def runs(self, session_id: int) -> list[FlowRun]:
        return load_runs(self.store, session_id)

    def start(self, session_id: int, specs: Sequence[str], plan: PlanInfo | None,
              after_event_id: int | None) -> FlowRun:
        flows = [load_flow(spec) for spec in specs]
        live = start_run(self.store, session_id, flows, self.config, plan,
                         after_event_id=after_event_id)
        with self._lock:
            self.following = live
        return live.run

    def refresh(self, run: FlowRun) -> FlowRun:
        return self._live(run).refresh(save=True)

    def stop(self, run: FlowRun) -> FlowRun:
        return self._live(run).stop()

    def reevaluate(self, run: FlowRun, specs: Sequence[str]) -> FlowRun:
        flows = [load_flow(spec) for spec in specs]
        with self._lock:
            if self.following is not None and self.following.id == run.id:
                self.following = None  # its evaluator has the old flows
        return reevaluate(self.store, run, flows)


class _RemoteSource:
    """Asks the capture child, which evaluates the run (``/inspector/api/flows/runs``)."""

    def __init__(self, api: ChildApi, store: EventStore) -> None:
        self.api = api
        self.store = store
        #: Each run's flows and audit configuration, which its JSON names by hash only (read
        #: once from the database the child and the window share).
        self._kept: dict[int, FlowRun] = {}
        self._lock = threading.Lock()

    def _run(self, data: dict[str, Any], kept: FlowRun | None = None) -> FlowRun:
        run_id = int(data["id"])
        with self._lock:
            kept = kept or self._kept.get(run_id)
        if kept is not None:
            try:
                return FlowRun.from_dict(data, kept.flows, kept.audit_config)
            except ValueError:
                pass  # re-evaluated with other flows: read them again
        kept = load_run(self.store, run_id)
        if kept is None:
            raise RuntimeError(f"flow run {run_id} is not in the database")
        with self._lock:
            self._kept[run_id] = kept
        return FlowRun.from_dict(data, kept.flows, kept.audit_config)

    def runs(self, session_id: int) -> list[FlowRun]:
        listed = self.api.get("/flows/runs", session=str(session_id))["runs"]
        kept = {run.id: run for run in load_runs(self.store, session_id)}
        return [self._run(data, kept.get(int(data["id"]))) for data in listed]

    def start(self, session_id: int, specs: Sequence[str], plan: PlanInfo | None,
              after_event_id: int | None) -> FlowRun:
        # The child runs under its own plan and audit configuration: the window's, which it
        # was given.
        body: dict[str, Any] = {"flows": [_flow_json(spec) for spec in specs],
                                "session": str(session_id)}
        if after_event_id is not None:
            body["after_event_id"] = after_event_id
        return self._run(self.api.post("/flows/runs", body)["run"])

    def refresh(self, run: FlowRun) -> FlowRun:
        return self._run(self.api.get(f"/flows/runs/{run.id}")["run"])  # the child keeps it

    def stop(self, run: FlowRun) -> FlowRun:
        return self._run(self.api.post(f"/flows/runs/{run.id}/stop")["run"])

    def reevaluate(self, run: FlowRun, specs: Sequence[str]) -> FlowRun:
        body = {"flows": [_flow_json(spec) for spec in specs]}
        return self._run(self.api.post(f"/flows/runs/{run.id}/reevaluate", body)["run"])


class FlowsView(QObject):
    """Owns the Flows panel and the run of the session it shows."""

    #: The shown run has new results (tests and benchmarks): the run id.
    sig_updated = Signal(int)

    def __init__(self, store: EventStore, tasks: TaskRunner, *,
                 config: AuditConfig | None = None,
                 plan: Callable[[], PlanInfo | None] = lambda: None,
                 capture: CaptureController | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.tasks = tasks
        self.capture = capture
        self.config = config or AuditConfig()
        self._plan = plan
        self.panel = FlowsPanel(bundled_flow_names())
        self.panel.sig_start_requested.connect(self.start)
        self.panel.sig_stop_requested.connect(self.stop)
        self.panel.sig_run_chosen.connect(self.show_run)
        self.panel.sig_reevaluate_requested.connect(self.reevaluate)
        self._local = _LocalSource(store, self.config)
        self._remote: _RemoteSource | None = None
        self.session_id: int | None = None
        self.runs: list[FlowRun] = []
        #: The run shown, followed live while it runs.
        self.shown: FlowRun | None = None
        self._stale = False
        self._busy = False
        #: Bumped by every step the tester takes (another session or run shown, stop,
        #: re-evaluate): a refresh asked for before it answers for what was shown then, and
        #: is dropped (it could arrive after the stop's or re-evaluation's own answer).
        self._generation = 0
        #: (wall, CPU) seconds of each refresh on its worker, for benchmarks.
        self.refresh_times: list[tuple[float, float]] = []
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._refresh_if_stale)
        self._timer.start()

    @property
    def remote(self) -> bool:
        """Whether the capture child evaluates the run (it runs), rather than this process."""
        return self._source() is not self._local

    def _source(self) -> _Source:
        api = child_api(self._remote.api if self._remote is not None else None, self.capture)
        if api is None:
            if self._remote is not None:
                # The child stopped: what this process followed before it ran is not current.
                self._remote = None
                self._local = _LocalSource(self.store, self.config)
            return self._local
        if self._remote is None or self._remote.api is not api:
            self._remote = _RemoteSource(api, self.store)
            self._local.forget()  # the child follows the run from now on
        return self._remote

    # ---- sessions and runs

    def show_session(self, session_id: int) -> None:
        """Show ``session_id``'s runs (read in the background), the latest one chosen."""
        if session_id == self.session_id:
            return
        self.session_id = session_id
        self._generation += 1
        self.shown = None
        self.runs = []
        self.panel.set_runs([], None)
        self.panel.show_run(None)
        source = self._source()
        self.tasks.submit(lambda: source.runs(session_id),
                          lambda runs: self._apply_runs(session_id, runs, None),
                          on_error=lambda error: self._failed("Reading the flow runs", error),
                          what="Reading the session's flow runs")

    def _apply_runs(self, session_id: int, runs: list[FlowRun], shown: int | None) -> None:
        if session_id != self.session_id:
            return
        self.runs = runs
        if not runs:
            return  # show_session cleared the panel: keep what it said since (a refusal)
        chosen = next((run for run in runs if run.id == shown), runs[-1])
        self._follow(chosen)

    def _follow(self, run: FlowRun) -> None:
        self._generation += 1
        self.shown = run
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
        source, plan, chosen = self._source(), self._plan(), list(specs)
        self.tasks.submit(lambda: source.start(session_id, chosen, plan, after_event_id),
                          lambda run: self._started(session_id, run),
                          on_error=lambda error: self._failed("Starting the flow run", error),
                          what="Starting a flow run")

    def _started(self, session_id: int, run: FlowRun) -> None:
        if session_id != self.session_id:
            return
        self.runs.append(run)
        self.shown = run
        self.panel.set_runs(self.runs, run.id)
        self.panel.show_run(run)
        self.sig_updated.emit(run.id)

    def stop(self) -> None:
        """End the run shown (evaluated once more and kept)."""
        run = self.shown
        if run is None or not run.running:
            return
        self._generation += 1
        source = self._source()
        self.tasks.submit(lambda: source.stop(run), self._apply,
                          on_error=lambda error: self._failed("Stopping the flow run", error),
                          what="Stopping the flow run")

    def reevaluate(self, run_id: int) -> None:
        """Evaluate a kept run again with its flows as their files are now."""
        run = next((run for run in self.runs if run.id == run_id), None)
        if run is None:
            return
        source, specs, session_id = self._source(), _specs(run), run.session_id
        self._generation += 1
        self.tasks.submit(lambda: source.reevaluate(run, specs),
                          lambda again: self._reevaluated(session_id, again),
                          on_error=lambda error: self._failed("Re-evaluating the flow run",
                                                              error),
                          what="Re-evaluating the flow run")

    def _reevaluated(self, session_id: int, again: FlowRun) -> None:
        if session_id != self.session_id:
            return
        self._apply_runs(session_id, [again if item.id == again.id else item
                                      for item in self.runs], again.id)
        self.sig_updated.emit(again.id)

    # ---- live

    def on_events_committed(self, batch: Sequence[CommittedEvent]) -> None:
        """New events: the shown run is stale if it runs and any belongs to its session."""
        run = self.shown
        if run is not None and run.running and any(
                event.session_id == run.session_id for event in batch):
            self._stale = True

    def refresh_now(self) -> None:
        """Evaluate at once (tests)."""
        self._stale = True
        self._refresh_if_stale()

    def _refresh_if_stale(self) -> None:
        run = self.shown
        if run is None or not self._stale or self._busy or not run.running:
            return
        self._stale = False
        self._busy = True
        source, generation = self._source(), self._generation

        def evaluate() -> tuple[FlowRun, float, float]:
            started, cpu = time.perf_counter(), time.thread_time()
            again = source.refresh(run)
            return again, time.perf_counter() - started, time.thread_time() - cpu

        def done(outcome: tuple[FlowRun, float, float]) -> None:
            self._busy = False
            again, wall, cpu = outcome
            self.refresh_times.append((wall, cpu))
            if generation == self._generation:
                self._apply(again)  # what arrived meanwhile waits for the next tick

        def failed(error: BaseException) -> None:
            self._busy = False
            if isinstance(error, httpx.TransportError) and not self.remote:
                self._stale = True  # the child stopped while asked: followed here next tick
                return
            self._failed("Evaluating the flows", error)

        self.tasks.submit(evaluate, done, on_error=failed, what="Evaluating the flows")

    def _apply(self, run: FlowRun) -> None:
        shown = self.shown
        if shown is None or run.id != shown.id or (run.running and not shown.running):
            return  # another run or session was chosen meanwhile, or it ended meanwhile
        self.runs = [run if item.id == run.id else item for item in self.runs]
        self.shown = run
        self.panel.set_runs(self.runs, run.id)
        self.panel.show_run(run)
        self.sig_updated.emit(run.id)

    def _failed(self, what: str, error: BaseException) -> None:
        if isinstance(error, FlowError) or (
                isinstance(error, ChildApiError) and error.code == "invalid_flow"):
            self.panel.summary.setText(f"The flow cannot be used: {error}")
            return
        self.panel.summary.setText(f"{what} failed: {error}")
        if not isinstance(error, ChildApiError) or error.status >= 500:
            self.tasks.sig_failed.emit(what, str(error))
