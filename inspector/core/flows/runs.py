"""Flow runs: a checklist followed over a window of one session, kept with the session.

A run starts at the session's newest event (only calls stored after it are candidates) and
ends when stopped. It keeps the flows' text (so editing a file later does not change what the
run checked, until it is re-evaluated with the edit), the plan and the audit configuration it
ran under (their hashes), and its latest results, so a reopened session shows them at once.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from inspector.core.audit.config import AuditConfig
from inspector.core.flows.evaluate import FlowResult, RunEvaluator, RunStatus
from inspector.core.flows.files import LoadedFlow, parse_flow
from inspector.core.flows.following import AuditSource, FollowedFlows
from inspector.core.flows.session import catch_up
from inspector.core.report.model import FlowRunReport, FlowStepReport
from inspector.core.store import EventStore

__all__ = ["FlowRun", "LiveRun", "PlanInfo", "audit_config_hash", "flow_result_report",
           "flow_run_reports", "flow_run_summary", "load_run", "load_runs", "overall_status",
           "plan_info", "reevaluate", "start_run"]


@dataclass(frozen=True, slots=True)
class PlanInfo:
    """The tracking plan a run ran under: its name and a hash of its rules."""

    name: str | None
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {"name": self.name, "sha256": self.sha256}


def plan_info(plan: Any) -> PlanInfo | None:
    """:class:`PlanInfo` of a :class:`~inspector.core.plan.TrackingPlan` (or its compiled
    form); ``None`` for none."""
    if plan is None:
        return None
    plan = getattr(plan, "plan", plan)
    rules = [[str(rule.type), rule.key, rule.version, rule.schema] for rule in plan.all_rules()]
    digest = hashlib.sha256(orjson.dumps(rules, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return PlanInfo(plan.name, digest)


def audit_config_hash(config: AuditConfig) -> str:
    """The SHA-256 of an audit configuration (its JSON with sorted keys)."""
    return hashlib.sha256(orjson.dumps(config.model_dump(mode="json", by_alias=True),
                                       option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(slots=True)
class FlowRun:
    """A run as kept: its window of the session, what it ran under, its latest results."""

    id: int
    session_id: int
    started_at: float
    ended_at: float | None
    after_event_id: int
    until_event_id: int | None
    flows: list[LoadedFlow]
    plan: PlanInfo | None
    audit_config: AuditConfig
    results: list[FlowResult] = field(default_factory=list)
    evaluated_through: int = 0

    @property
    def running(self) -> bool:
        """Whether the run has not been stopped."""
        return self.ended_at is None

    @property
    def status(self) -> RunStatus:
        """The run as a whole: failed if any flow failed, passed if all passed."""
        return overall_status(self.results)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (REST, ``inspector check``, reports)."""
        return {
            "id": self.id, "session_id": self.session_id, "started_at": self.started_at,
            "ended_at": self.ended_at, "running": self.running,
            "after_event_id": self.after_event_id, "until_event_id": self.until_event_id,
            "status": str(self.status),
            "flows": [{"name": loaded.flow.name, "origin": loaded.origin,
                       "sha256": loaded.sha256} for loaded in self.flows],
            "plan": self.plan.to_dict() if self.plan is not None else None,
            "audit_config_sha256": audit_config_hash(self.audit_config),
            "evaluated_through": self.evaluated_through,
            "results": [result.to_dict() for result in self.results],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], flows: Sequence[LoadedFlow],
                  audit_config: AuditConfig) -> FlowRun:
        """Rebuild a run from :meth:`to_dict` output (one followed over REST). The JSON names
        the flows and the audit configuration by their hashes only, so the caller gives
        them (as kept with the session: :func:`load_run`); a :class:`ValueError` if they
        are not the ones named (the run was re-evaluated with other flows meanwhile)."""
        if ([loaded.sha256 for loaded in flows] != [item["sha256"] for item in data["flows"]]
                or audit_config_hash(audit_config) != data["audit_config_sha256"]):
            raise ValueError(f"flow run {data['id']}: not the flows or audit configuration "
                             "it ran")
        plan = data.get("plan")
        return cls(
            int(data["id"]), int(data["session_id"]), float(data["started_at"]),
            float(data["ended_at"]) if data.get("ended_at") is not None else None,
            int(data["after_event_id"]),
            int(data["until_event_id"]) if data.get("until_event_id") is not None else None,
            list(flows), PlanInfo(plan["name"], plan["sha256"]) if plan else None,
            audit_config, [FlowResult.from_dict(item) for item in data.get("results", [])],
            int(data.get("evaluated_through", 0)))


def overall_status(results: Sequence[FlowResult]) -> RunStatus:
    """Failed if any flow failed, else incomplete if any is, else passed."""
    statuses = {result.status for result in results}
    if RunStatus.FAILED in statuses:
        return RunStatus.FAILED
    if RunStatus.INCOMPLETE in statuses or not results:
        return RunStatus.INCOMPLETE
    return RunStatus.PASSED


def flow_run_summary(run: FlowRun) -> dict[str, Any]:
    """What a QA report shows of one run: its window, what it ran under, each flow with its
    steps (status, the satisfying or closest calls, the reason), and the counts by status."""
    data = run.to_dict()
    counts: dict[str, int] = {}
    for result in run.results:
        for step in result.steps:
            counts[str(step.status)] = counts.get(str(step.status), 0) + 1
    data["step_counts"] = counts
    return data


def flow_run_reports(runs: Sequence[FlowRun]) -> list[FlowRunReport]:
    """The QA report's flow-run section: one entry per flow of each run (a run of one flow
    keeps the run's id, which notes name; a run of several is ``<run id>-<flow>``)."""
    return [flow_result_report(result, report_run_id(run, result.flow), run.started_at,
                               run.ended_at)
            for run in runs for result in run.results]


def report_run_id(run: FlowRun, flow: str) -> str:
    """The id the QA report gives one flow of ``run``, which the notes on it (and on its
    steps, ``<id>:<step name>``) name: the run's id, or ``<run id>-<flow>`` in a run of
    several flows (two flows may have steps of the same name)."""
    return str(run.id) if len(run.results) <= 1 else f"{run.id}-{flow}"


def flow_result_report(result: FlowResult, run_id: str, started_at: float,
                       ended_at: float | None) -> FlowRunReport:
    """One flow's result as the QA report shows it."""
    return FlowRunReport(
        id=run_id, flow=result.flow, status=result.status.value, started_at=started_at,
        ended_at=ended_at, description=result.description,
        steps=[FlowStepReport(
            name=step.name, status=step.status.value, reason=step.reason,
            event_ids=[event_id for event_id, _ in step.events],
            message_ids=[message_id or "" for _, message_id in step.events])
            for step in result.steps])


def _flows_json(flows: Sequence[LoadedFlow]) -> str:
    return orjson.dumps([{"origin": loaded.origin, "text": loaded.text}
                         for loaded in flows]).decode()


def _results_json(results: Sequence[FlowResult]) -> str:
    return orjson.dumps([result.to_dict() for result in results]).decode()


def _run_from_row(row: dict[str, Any]) -> FlowRun:
    flows = [parse_flow(item["text"], item["origin"], item["origin"])
             for item in orjson.loads(row["flows"])]
    plan = orjson.loads(row["plan"]) if row["plan"] else None
    return FlowRun(
        int(row["id"]), int(row["session_id"]), float(row["started_at"]),
        float(row["ended_at"]) if row["ended_at"] is not None else None,
        int(row["after_event_id"]),
        int(row["until_event_id"]) if row["until_event_id"] is not None else None,
        flows, PlanInfo(plan["name"], plan["sha256"]) if plan else None,
        AuditConfig.model_validate(orjson.loads(row["audit_config"])),
        [FlowResult.from_dict(item) for item in orjson.loads(row["results"])],
        int(row["evaluated_through"]),
    )


def load_runs(store: EventStore, session_id: int) -> list[FlowRun]:
    """The runs kept with a session, oldest first."""
    return [_run_from_row(row) for row in store.flow_run_rows(session_id)]


def load_run(store: EventStore, run_id: int) -> FlowRun | None:
    """One kept run."""
    rows = store.flow_run_rows(run_id=run_id)
    return _run_from_row(rows[0]) if rows else None


#: Seconds a live run's results may go unkept while no step's status changes.
KEEP_EVERY = 10.0


class LiveRun:
    """A run being followed: each :meth:`refresh` reads only what was stored since the last
    (thread-safe; the window calls it off the GUI thread, ``serve`` on its executor).

    ``audits``: where ``serve`` keeps its sessions' audits (see :class:`FollowedFlows`: the
    run then reads people from the session audit's identity graph).
    """

    def __init__(self, store: EventStore, run: FlowRun, *,
                 audits: AuditSource | None = None) -> None:
        self.store = store
        self.run = run
        self._followed = FollowedFlows(
            store, run.session_id, [loaded.flow for loaded in run.flows], run.audit_config,
            after_id=run.after_event_id, until_id=run.until_event_id, audits=audits)
        self._lock = threading.Lock()
        #: When the results were last kept, and their steps' statuses then.
        self._kept_at = -math.inf
        self._kept_statuses: list[list[str]] | None = None

    @property
    def id(self) -> int:
        """The run's id in the store."""
        return self.run.id

    @property
    def shares_audit(self) -> bool:
        """Whether the last refresh read people from the session's audit."""
        return self._followed.shares_audit

    def refresh(self, *, save: bool = False) -> FlowRun:
        """Catch up with the session and evaluate; ``save``: keep the results too, when a
        step's status changed since they were last kept or :data:`KEEP_EVERY` seconds have
        passed (a window asks every second while calls arrive: each keep is a write)."""
        with self._lock:
            self._evaluate(ended=not self.run.running)
            if save:
                statuses = self._statuses()
                if statuses != self._kept_statuses or \
                        time.monotonic() - self._kept_at >= KEEP_EVERY:
                    self._save()
            return self.run

    def _statuses(self) -> list[list[str]]:
        return [[str(step.status) for step in result.steps] for result in self.run.results]

    def stop(self) -> FlowRun:
        """End the run at the session's newest event, evaluate and keep it."""
        with self._lock:
            self._evaluate(ended=True, stopping=True)
            self.run.ended_at = time.time()
            self._save(ended=True)
            return self.run

    def _evaluate(self, *, ended: bool, stopping: bool = False) -> None:
        run, followed = self.run, self._followed
        run.results = followed.read(ended=ended, stopping=stopping)
        run.evaluated_through = followed.last_id
        if stopping:
            run.until_event_id = followed.until_id

    def _save(self, *, ended: bool = False) -> None:
        self._kept_at, self._kept_statuses = time.monotonic(), self._statuses()
        self.store.update_flow_run(
            self.run.id, results_json=_results_json(self.run.results),
            evaluated_through=self.run.evaluated_through,
            ended_at=self.run.ended_at if ended else None,
            until_event_id=self.run.until_event_id if ended else None)


def start_run(store: EventStore, session_id: int, flows: Sequence[LoadedFlow],
              config: AuditConfig | None = None, plan: PlanInfo | None = None, *,
              after_event_id: int | None = None,
              audits: AuditSource | None = None) -> LiveRun:
    """Start (and keep) a run of ``flows`` over the calls ``session_id`` stores from now on
    (``after_event_id``: from after that event instead; 0 for the whole session)."""
    config = config or AuditConfig()
    if after_event_id is None:
        after_event_id = store.session_last_event_id(session_id)
    started = time.time()
    run_id = store.insert_flow_run(
        session_id, started, after_event_id, _flows_json(flows),
        orjson.dumps(plan.to_dict()).decode() if plan is not None else None,
        orjson.dumps(config.model_dump(mode="json", by_alias=True)).decode())
    run = FlowRun(run_id, session_id, started, None, after_event_id, None, list(flows), plan,
                  config)
    live = LiveRun(store, run, audits=audits)
    live.refresh(save=True)
    return live


def reevaluate(store: EventStore, run: FlowRun,
               flows: Sequence[LoadedFlow] | None = None) -> FlowRun:
    """Evaluate a kept run again over its window (``flows``: edited flows replacing its own)
    and keep the new results; the run's window, plan and audit configuration stay."""
    if flows is not None:
        run.flows = list(flows)
    evaluator = RunEvaluator([loaded.flow for loaded in run.flows], run.audit_config,
                             after_id=run.after_event_id, until_id=run.until_event_id)
    catch_up(evaluator, store, run.session_id)
    run.results = evaluator.results(ended=not run.running)
    run.evaluated_through = evaluator.last_id
    store.update_flow_run(run.id, results_json=_results_json(run.results),
                          evaluated_through=run.evaluated_through,
                          flows_json=_flows_json(run.flows) if flows is not None else None)
    return run
