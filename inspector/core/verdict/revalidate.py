"""Re-validating a stored session against another plan (or another version of one).

Each stored event gets :meth:`Classifier.reclassify`: what capture found (source ``ingestion``:
Segment's own drop rules, timestamp warnings) is kept as it is and an event that had an ingestion
error stays *malformed*; only the plan's violations are recomputed. Passing ``validator=None``
unloads the plan: every event that is not malformed becomes *not validated*.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from inspector.core.model import EventRecord, Status, Violation
from inspector.core.store.query import EventQuery
from inspector.core.verdict.classify import Classifier, EventValidator

if TYPE_CHECKING:
    from inspector.core.store.database import EventStore

__all__ = ["EventDiff", "RevalidationReport", "revalidate_event", "revalidate_session"]

@dataclass(frozen=True, slots=True)
class EventDiff:
    """How one event's validation changed."""

    event_id: int
    message_id: str | None
    type: str | None
    name: str | None
    old_status: Status
    new_status: Status
    added: list[Violation]
    removed: list[Violation]

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the REST API and the CLI."""
        return {
            "event_id": self.event_id,
            "messageId": self.message_id,
            "type": self.type,
            "event": self.name,
            "old_status": str(self.old_status),
            "new_status": str(self.new_status),
            "added": [v.to_dict() for v in self.added],
            "removed": [v.to_dict() for v in self.removed],
        }


@dataclass(slots=True)
class RevalidationReport:
    """What re-validating a session changed: status transitions and per-event diffs."""

    session_id: int
    total: int = 0
    updated: int = 0
    transitions: Counter[tuple[Status, Status]] = field(default_factory=Counter)
    diffs: list[EventDiff] = field(default_factory=list)

    @property
    def changed(self) -> int:
        """Events whose status or violations changed."""
        return len(self.diffs)

    def to_dict(self) -> dict[str, Any]:
        """JSON form; transitions as ``{"valid->invalid": 3}``."""
        return {
            "session_id": self.session_id,
            "total": self.total,
            "changed": self.changed,
            "transitions": {f"{a}->{b}": n for (a, b), n in sorted(self.transitions.items())},
            "diffs": [diff.to_dict() for diff in self.diffs],
        }


def revalidate_event(
    record: EventRecord, validator: EventValidator | None
) -> tuple[Status, list[Violation]]:
    """The new status and violations of one stored event."""
    return Classifier(validator).reclassify(record.payload, record.violations)


def revalidate_session(
    store: EventStore,
    session_id: int,
    validator: EventValidator | None,
    *,
    batch: int = 2000,
) -> RevalidationReport:
    """Validate every event of a session again, store the changes and report them."""
    report = RevalidationReport(session_id=session_id)
    classifier = Classifier(validator)
    pending: list[tuple[int, Status, list[Violation]]] = []
    for record in store.iter_events(EventQuery(session_id=session_id)):
        report.total += 1
        status, violations = classifier.reclassify(record.payload, record.violations)
        old = set(record.violations)
        new = set(violations)
        if status == record.status and old == new:
            report.transitions[(record.status, status)] += 1
            continue
        report.transitions[(Status(record.status), status)] += 1
        report.diffs.append(
            EventDiff(
                event_id=record.id,
                message_id=record.message_id,
                type=record.type,
                name=record.name,
                old_status=Status(record.status),
                new_status=status,
                added=[v for v in violations if v not in old],
                removed=[v for v in record.violations if v not in new],
            )
        )
        pending.append((record.id, status, violations))
        if len(pending) >= batch:
            report.updated += store.update_validation(pending)
            pending = []
    if pending:
        report.updated += store.update_validation(pending)
    return report
