"""Audit a stored session, or follow a live one, with the same checks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from inspector.core.audit.config import AuditConfig
from inspector.core.audit.finding import Finding, FindingSeverity
from inspector.core.audit.framework import Auditor
from inspector.core.audit.live import SessionAudit
from inspector.core.store import EventStore

__all__ = ["AuditResult", "audit_session", "count_findings"]


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
    audit = SessionAudit(store, session_id, config)
    return AuditResult(session_id, audit.refresh(), audit.auditor)
