"""Gather a stored session's QA report: counts, the plan, the audit, violations, notes and the
failing events' JSON (blocking: run it off the GUI thread)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from pathlib import Path

from inspector import __version__
from inspector.core.audit import AuditConfig, Finding, FindingSeverity
from inspector.core.audit.report import audit_json
from inspector.core.audit.storage import config_hash
from inspector.core.compare.model import Comparison
from inspector.core.model import PROBLEM_STATUSES, EventRecord, Severity, Status
from inspector.core.notes import NoteStore
from inspector.core.plan.reading import plan_from_bytes, read_plan_file
from inspector.core.report.highlight import finding_lines, violation_lines
from inspector.core.report.model import (
    AuditSummary,
    FailingItem,
    FlowRunReport,
    PlanSummary,
    ReportData,
    SourceSummary,
    ViolationExample,
    ViolationGroup,
)
from inspector.core.store import EventQuery, EventStore, SessionInfo

__all__ = ["build_report", "describe_plan_file", "event_label"]

#: Failing events shown with their JSON; a bigger session says how many more there are.
MAX_FAILING = 100
#: Error findings shown with an example event's JSON.
MAX_FINDING_ITEMS = 50
#: Examples listed per violation kind.
MAX_EXAMPLES = 20


def describe_plan_file(path: Path | str) -> PlanSummary:
    """Name, format, rule count and SHA-256 of a plan file (read as plans always are:
    regular files, bounded); raises :class:`~inspector.core.plan.PlanError`."""
    raw = read_plan_file(path)
    plan = plan_from_bytes(raw, str(path)).plan
    return PlanSummary(name=plan.name or Path(path).name, source=str(path), format=plan.format,
                       rules=len(plan), sha256=hashlib.sha256(raw).hexdigest())


def event_label(record: EventRecord) -> str:
    """``track Order Completed``, ``identify``: what the window's table calls an event."""
    return " ".join(part for part in (record.type or "?", record.name) if part)


def build_report(
    store: EventStore, session: SessionInfo, *, audit_config: AuditConfig | None = None,
    audit_config_path: Path | str | None = None, plan: PlanSummary | None = None,
    flow_runs: Sequence[FlowRunReport] = (), comparison: Comparison | None = None,
) -> ReportData:
    """The report of ``session`` as stored (statuses as last validated, against ``plan`` if
    the caller names it); ``flow_runs`` come from the flow evaluator, ``comparison`` (the
    session as the candidate against a baseline) from :func:`inspector.core.compare.compare`."""
    config = audit_config or AuditConfig()
    summary = store.summary(session.id)
    by_status = summary["by_status"]
    status_counts = {status: int(by_status.get(str(status), 0)) for status in Status}
    audit = _audit(store, session, config, audit_config_path)
    names = store.write_key_names()
    sources = [SourceSummary(key, names.get(key), events) for key, events in sorted(
        store.write_key_counts(session.id).items(), key=lambda item: (-item[1], item[0]))]
    failing_total = sum(status_counts[status] for status in PROBLEM_STATUSES)
    notes = NoteStore(store)
    try:
        session_notes = notes.for_session(session.id)
    finally:
        notes.close()
    return ReportData(
        title=f"QA report: {session.name}",
        generated_at=time.time(),
        inspector_version=__version__,
        session_id=session.id,
        session_name=session.name,
        total=int(summary["total"]),
        status_counts=status_counts,
        plan=plan,
        audit=audit,
        sources=sources,
        time_range=store.session_time_range(session.id),
        violation_groups=_violation_groups(store, session.id),
        notes=session_notes,
        failing=[*_failing_events(store, session.id), *_finding_items(store, audit.findings)],
        failing_total=failing_total,
        flow_runs=list(flow_runs),
        comparison=comparison,
    )


def _audit(store: EventStore, session: SessionInfo, config: AuditConfig,
           path: Path | str | None) -> AuditSummary:
    # The findings kept with the session when they are current, else computed (and kept).
    data = audit_json(store, session, config)
    checks: list[str] = data["checks"]
    return AuditSummary(
        config_path=None if path is None else str(path),
        config_hash=config_hash(config, checks), checks=checks, people=int(data["people"]),
        findings=[Finding.from_dict(item) for item in data["findings"]])


def _violation_groups(store: EventStore, session_id: int) -> list[ViolationGroup]:
    counts: dict[str, int] = {}
    errors: dict[str, int] = {}
    events: dict[str, set[int]] = {}
    examples: dict[str, list[ViolationExample]] = {}
    for record in store.iter_violated_events(session_id):
        label = event_label(record)
        for violation in record.violations:
            kind = str(violation.kind)
            counts[kind] = counts.get(kind, 0) + 1
            errors[kind] = errors.get(kind, 0) + (violation.severity == Severity.ERROR)
            events.setdefault(kind, set()).add(record.id)
            listed = examples.setdefault(kind, [])
            if len(listed) < MAX_EXAMPLES:
                listed.append(ViolationExample(
                    record.id, record.message_id, label, violation.field, violation.message,
                    str(violation.severity)))
    # Most errors first, then most violations: what to fix first leads.
    order = sorted(counts, key=lambda kind: (-errors[kind], -counts[kind], kind))
    return [ViolationGroup(kind, counts[kind], len(events[kind]), errors[kind], examples[kind])
            for kind in order]


def _failing_events(store: EventStore, session_id: int) -> list[FailingItem]:
    query = EventQuery(session_id=session_id, status=sorted(PROBLEM_STATUSES))
    items: list[FailingItem] = []
    for record in store.iter_events(query, chunk=MAX_FAILING):
        reasons = [f"{v.kind}: {v.message}"
                   + (f" ({v.field})" if v.field and v.field not in v.message else "")
                   for v in record.violations] or [f"the event is {record.status}"]
        items.append(FailingItem(
            record.id, record.message_id, event_label(record), record.status, reasons,
            violation_lines(record.payload, record.violations, record.status)))
        if len(items) >= MAX_FAILING:
            break
    return items


def _finding_items(store: EventStore, findings: Sequence[Finding]) -> list[FailingItem]:
    items: list[FailingItem] = []
    for finding in findings:
        if finding.severity is not FindingSeverity.ERROR or not finding.event_ids:
            continue
        record = store.get_event(finding.event_ids[0])
        if record is None:
            continue
        items.append(FailingItem(
            record.id, record.message_id, event_label(record), record.status,
            [finding.message], finding_lines(record.payload, finding), check=finding.check))
        if len(items) >= MAX_FINDING_ITEMS:
            break
    return items
