"""The JSON shapes of an audit and of a session's people (CLI, REST API, reports)."""

from __future__ import annotations

from typing import Any

from inspector.core.audit.config import AuditConfig
from inspector.core.audit.session import AuditResult, audit_session
from inspector.core.store import EventStore, SessionInfo

__all__ = ["audit_json", "audit_result_json", "people_json"]


def audit_result_json(session: SessionInfo, result: AuditResult) -> dict[str, Any]:
    """``{"session", "checks", "counts", "findings"}`` for an audit result."""
    return {
        "session": session.to_dict(),
        "checks": [check.id for check in result.auditor.checks],
        "counts": result.counts(),
        "people": len(result.auditor.graph),
        "findings": [finding.to_dict() for finding in result.findings],
    }


def audit_json(store: EventStore, session: SessionInfo, config: AuditConfig) -> dict[str, Any]:
    """Audit a stored session from scratch, as JSON."""
    return audit_result_json(session, audit_session(store, session.id, config))


def people_json(store: EventStore, session: SessionInfo, config: AuditConfig,
                mode: str | None = None) -> dict[str, Any]:
    """The people a stored session links, with the findings about each."""
    result = audit_session(store, session.id, config)
    by_person: dict[str, list[dict[str, Any]]] = {}
    for finding in result.findings:
        if finding.person:
            by_person.setdefault(finding.person, []).append(finding.to_dict())
    people = []
    for person in result.auditor.people():
        data = person.to_dict()
        data["findings"] = by_person.get(person.id, [])
        people.append(data)
    return {"session": session.to_dict(), "people": people}
