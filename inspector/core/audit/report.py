"""The JSON shapes of an audit and of a session's people (CLI, REST API, reports)."""

from __future__ import annotations

import operator
from typing import Any

import orjson

from inspector.core.audit.config import AuditConfig
from inspector.core.audit.finding import Finding
from inspector.core.audit.framework import Auditor
from inspector.core.audit.session import AuditResult, audit_session, count_findings
from inspector.core.audit.storage import load_stored_audit, store_audit
from inspector.core.customerio import customerio_holdings
from inspector.core.replay.destinations import Mode
from inspector.core.replay.mapping.base import ReplayItem
from inspector.core.store import EventStore, SessionInfo

__all__ = ["audit_json", "audit_result_json", "customerio_json", "people_json"]

_ORDER = operator.attrgetter("order")


def audit_result_json(session: SessionInfo, result: AuditResult) -> dict[str, Any]:
    """``{"session", "checks", "counts", "findings"}`` for an audit result."""
    return _audit_json(session, [check.id for check in result.auditor.checks],
                       result.findings, len(result.auditor.graph))


def _audit_json(session: SessionInfo, checks: list[str], findings: list[Finding],
                people: int) -> dict[str, Any]:
    return {
        "session": session.to_dict(),
        "checks": checks,
        "counts": count_findings(findings),
        "people": people,
        "findings": [finding.to_dict() for finding in findings],
    }


def audit_json(store: EventStore, session: SessionInfo, config: AuditConfig) -> dict[str, Any]:
    """A stored session's audit as JSON: the findings kept with the session when no event
    arrived since they were computed under this configuration, else computed from scratch
    (and kept)."""
    checks = [check.id for check in Auditor(config).checks]
    last = store.session_last_event_id(session.id)
    stored = load_stored_audit(store, session.id, config, checks)
    if stored is not None and stored.through_event_id == last:
        return _audit_json(session, checks, sorted(stored.findings, key=_ORDER), stored.people)
    result = audit_session(store, session.id, config)
    # As of the newest event before the audit began: one that arrived during it makes the
    # next audit compute again, never trust a stale answer.
    store_audit(store, session.id, config, checks, last, len(result.auditor.graph),
                result.findings)
    return audit_result_json(session, result)


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
        entry = person.to_dict()
        entry["findings"] = by_person.get(person.id, [])
        people.append(entry)
    data: dict[str, Any] = {"session": session.to_dict(), "people": people}
    if mode is not None:
        data["customerio"] = customerio_json(store, session, Mode(mode), len(people))
    return data


def customerio_json(store: EventStore, session: SessionInfo, mode: Mode,
                    shoppers: int | None) -> dict[str, Any]:
    """What a Customer.io workspace in ``mode`` would hold after the session's calls, as the
    traffic was captured (what production would send, before any correction)."""
    payloads = ((row.id, row.payload) for row in store.iter_call_rows(session.id))
    items = [
        ReplayItem(seq, event_id, orjson.loads(payload))
        for seq, (event_id, payload) in enumerate(
            (event_id, payload) for event_id, payload in payloads if payload is not None)
    ]
    return customerio_holdings(items, mode, shoppers=shoppers).to_dict()
