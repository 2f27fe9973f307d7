"""What a QA report holds, as plain values: the templates and the JUnit writer only print it.

:func:`~inspector.core.report.collect.build_report` fills a :class:`ReportData` from a stored
session. Flow runs are the one part filled from outside: whoever evaluates flows turns each
run into a :class:`FlowRunReport` and passes the list as ``flow_runs``; with none, every
format leaves the section out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from inspector.core.audit import Finding
from inspector.core.compare.model import Comparison
from inspector.core.model import Status
from inspector.core.notes import Note, NoteTarget

__all__ = [
    "AuditSummary",
    "FailingItem",
    "FlowRunReport",
    "FlowStepReport",
    "JsonLine",
    "PlanSummary",
    "ReportData",
    "SourceSummary",
    "ViolationExample",
    "ViolationGroup",
]

FlowStatus = Literal["passed", "failed", "incomplete"]
StepStatus = Literal["passed", "failed", "skipped", "pending"]


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """The tracking plan the report names: the statuses were computed against it."""

    name: str
    source: str
    format: str
    rules: int
    #: SHA-256 of the plan file's bytes as read when the report was made (hex).
    sha256: str


@dataclass(frozen=True, slots=True)
class AuditSummary:
    """The audit configuration and what it found."""

    #: The audit file, or ``None`` for the bundled retention defaults.
    config_path: str | None
    #: :func:`inspector.core.audit.storage.config_hash` (configuration, checks, version).
    config_hash: str
    checks: list[str]
    people: int
    findings: list[Finding]

    def count(self, severity: str) -> int:
        """How many findings have ``severity``."""
        return sum(1 for finding in self.findings if str(finding.severity) == severity)

    def by_check(self) -> dict[str, list[Finding]]:
        """Findings per check, every check that ran listed (a check with none passed)."""
        grouped: dict[str, list[Finding]] = {check: [] for check in self.checks}
        for finding in self.findings:
            grouped.setdefault(finding.check, []).append(finding)
        return grouped


@dataclass(frozen=True, slots=True)
class SourceSummary:
    """A write key seen in the session, its name (``inspector`` labels) and its calls."""

    write_key: str
    name: str | None
    events: int


@dataclass(frozen=True, slots=True)
class ViolationExample:
    """One violation of one event."""

    event_id: int
    message_id: str | None
    event_label: str
    field: str
    message: str
    severity: str


@dataclass(frozen=True, slots=True)
class ViolationGroup:
    """Every violation of one kind: how many, on how many events, the first few."""

    kind: str
    count: int
    events: int
    errors: int
    examples: list[ViolationExample]


@dataclass(frozen=True, slots=True)
class JsonLine:
    """A line of an event's pretty JSON; ``highlight`` is the status (or ``"warning"``)
    whose colour marks it, as the window marks offending fields."""

    text: str
    highlight: str | None = None


@dataclass(frozen=True, slots=True)
class FailingItem:
    """A failing event, or an event an error finding names: why, and its JSON with the
    offending fields highlighted."""

    event_id: int
    message_id: str | None
    event_label: str
    status: Status
    #: One line per reason (a violation or a finding), as the window words it.
    reasons: list[str]
    lines: list[JsonLine]
    #: The finding this item illustrates (``None``: the event's own violations).
    check: str | None = None


@dataclass(frozen=True, slots=True)
class FlowStepReport:
    """One step of a flow run, as the flow evaluator left it."""

    name: str
    status: StepStatus
    #: Why it failed or was skipped, in the same words as violations; ``None`` when passed.
    reason: str | None = None
    event_ids: list[int] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FlowRunReport:
    """One run of one flow in the session."""

    #: The run's id, as notes name it (a step's notes: ``<id>:<step name>``).
    id: str
    flow: str
    status: FlowStatus
    started_at: float
    ended_at: float | None
    steps: list[FlowStepReport]
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything one QA report shows about one session."""

    title: str
    generated_at: float
    inspector_version: str
    session_id: int
    session_name: str
    total: int
    #: Events per status, every status listed, in the window's order.
    status_counts: dict[Status, int]
    plan: PlanSummary | None
    audit: AuditSummary
    sources: list[SourceSummary]
    #: When the first and the last event arrived (``None``: an empty session).
    time_range: tuple[float, float] | None
    violation_groups: list[ViolationGroup]
    notes: list[Note]
    failing: list[FailingItem]
    #: How many failing events there are; :attr:`failing` shows at most the first few.
    failing_total: int
    flow_runs: list[FlowRunReport] = field(default_factory=list)
    #: The session (candidate) compared with a baseline, when one is given.
    comparison: Comparison | None = None

    @property
    def problems(self) -> int:
        """Events a tracking plan or Segment objects to (invalid, unplanned, malformed)."""
        return sum(self.status_counts.get(status, 0)
                   for status in (Status.INVALID, Status.UNPLANNED, Status.MALFORMED))

    @property
    def passed(self) -> bool:
        """No problem event, no error finding, no failed or incomplete flow run, and no
        error-severity difference from the baseline (when one is given)."""
        return (self.problems == 0 and self.audit.count("error") == 0
                and all(run.status == "passed" for run in self.flow_runs)
                and (self.comparison is None or not self.comparison.has_errors))

    def notes_for(self, kind: NoteTarget | str, target_id: str) -> list[Note]:
        """The notes on one event, step or run."""
        return [note for note in self.notes
                if note.target_kind == kind and note.target_id == target_id]

    def note_target_label(self, note: Note) -> str:
        """What a note annotates, in words (``event 42``, ``step Checkout of run 7``)."""
        if note.target_kind is NoteTarget.STEP:
            run, _, step = note.target_id.partition(":")
            return f"step {step} of run {run}"
        return f"{note.target_kind} {note.target_id}"


def local_time(seconds: float) -> str:
    """An epoch time as the reports print it: local, to the second, with the offset."""
    return datetime.fromtimestamp(seconds).astimezone().isoformat(sep=" ", timespec="seconds")
