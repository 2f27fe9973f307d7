"""Audit a stored session, or follow a live one, with the same checks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from inspector.core.audit.config import AuditConfig
from inspector.core.audit.finding import Finding, FindingSeverity
from inspector.core.audit.framework import Auditor
from inspector.core.gc_tuning import collector_paused
from inspector.core.model import EventRecord
from inspector.core.observed import ObservedEvent
from inspector.core.store import EventStore
from inspector.core.store.reader import CallRow

__all__ = ["AuditResult", "audit_session", "count_findings", "observe_records", "observe_rows"]


def observe_rows(rows: Iterable[CallRow],
                 write_key_names: Mapping[str, str]) -> Iterator[ObservedEvent]:
    """Lean stored rows (:meth:`EventStore.iter_call_rows`) as the checks read them."""
    build = ObservedEvent.build
    for row in rows:
        yield build(
            id=row.id, received_at=row.received_at, write_key=row.write_key, type=row.type,
            name=row.name, user_id=row.user_id, anonymous_id=row.anonymous_id,
            message_id=row.message_id, payload=row.payload, write_key_names=write_key_names,
        )


def observe_records(records: Iterable[EventRecord],
                    write_key_names: Mapping[str, str]) -> Iterator[ObservedEvent]:
    """Stored records as the checks read them."""
    for record in records:
        yield ObservedEvent.build(
            id=record.id, received_at=record.received_at, write_key=record.write_key,
            type=record.type, name=record.name, user_id=record.user_id,
            anonymous_id=record.anonymous_id, message_id=record.message_id,
            payload=record.payload, write_key_names=write_key_names,
        )


@dataclass(frozen=True, slots=True)
class AuditResult:
    """A session's findings, with the auditor that holds its people."""

    session_id: int
    findings: list[Finding]
    auditor: Auditor

    @property
    def errors(self) -> int:
        """How many error-severity findings there are (``inspector audit`` fails on any)."""
        return sum(1 for finding in self.findings if finding.severity is FindingSeverity.ERROR)

    def counts(self) -> dict[str, dict[str, int]]:
        """Findings per check, by severity."""
        return count_findings(self.findings)


def count_findings(findings: Iterable[Finding]) -> dict[str, dict[str, int]]:
    """Findings per check, by severity."""
    counts: dict[str, dict[str, int]] = {}
    for finding in findings:
        per = counts.setdefault(finding.check, {})
        per[str(finding.severity)] = per.get(str(finding.severity), 0) + 1
    return counts


def audit_session(store: EventStore, session_id: int,
                  config: AuditConfig | None = None) -> AuditResult:
    """Audit every stored call of a session, from scratch (blocking: run it off the GUI)."""
    auditor = Auditor(config)
    names = store.write_key_names()
    with collector_paused():
        auditor.feed(observe_rows(store.iter_call_rows(session_id), names))
        findings = auditor.findings()
    return AuditResult(session_id, findings, auditor)
