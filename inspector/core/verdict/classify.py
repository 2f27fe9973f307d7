"""One verdict for one Segment call: normalise, ingestion checks, tracking plan, status.

Every place that decides what a call's status is comes here: capture (``Ingestor``), re-validation
of a stored session, ``inspector validate``, import and the window's editor. The status rule is
written once, in :func:`status_of`: an ingestion error (Segment itself would reject or drop the
call) makes it *malformed*, otherwise the plan decides, and without a plan it is *not validated*.
Each violation says which layer found it (:class:`~inspector.core.model.Source`), so re-validation
keeps what capture found and recomputes only the plan's part.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson

from inspector.core.model import Severity, Source, Status, Violation, ViolationKind
from inspector.core.timeutil import format_iso
from inspector.core.verdict.checks import (
    MAX_BATCH_EVENTS,
    MAX_EVENT_BYTES,
    big_integer_warning,
    duplicate_violation,
    ingestion_violation,
    ingestion_violations,
    nesting_violation,
    oversized_violation,
)
from inspector.core.verdict.normalize import normalise_call
from inspector.core.verdict.storable import MAX_STORED_DEPTH, storable_json, value_at

__all__ = ["Classifier", "EventValidator", "Verdict", "plan_verdict", "status_of"]

# Module globals: reading an enum member off its class runs the enum metaclass (hot path).
_INGESTION = Source.INGESTION
_PLAN = Source.PLAN
_ERROR = Severity.ERROR
_MALFORMED = Status.MALFORMED
_NOT_VALIDATED = Status.NOT_VALIDATED
_NO_ENVELOPE: dict[str, Any] = {}
#: Upper bound on the bytes normalisation adds to or removes from an event (besides write keys).
_SIZE_MARGIN = 512


class EventValidator(Protocol):
    """What a verdict needs from a tracking plan (``PlanValidator``)."""

    def validate(self, payload: dict[str, Any]) -> tuple[Status, list[Violation]]:
        """The plan status of one normalised call and every violation found."""
        ...


@dataclass(slots=True)
class Verdict:
    """The classification of one call: its status and every violation, in the order found."""

    status: Status
    violations: list[Violation]
    #: The normalised call; None when the item was not a JSON object at all.
    payload: dict[str, Any] | None
    #: ``payload`` as JSON (the item as sent when it is not an object): what the store keeps.
    payload_json: str


def status_of(violations: Iterable[Violation], plan_status: Status) -> Status:
    """The status rule: an ingestion error makes a call malformed; otherwise the plan decides."""
    for violation in violations:
        if violation.source is _INGESTION and violation.severity is _ERROR:
            return _MALFORMED
    return plan_status


def plan_verdict(
    payload: dict[str, Any], validator: EventValidator | None
) -> tuple[Status, list[Violation]]:
    """The plan's part of a verdict (``not_validated`` and nothing without a plan, or for a
    call with no type to look a rule up by)."""
    if validator is not None and type(payload.get("type")) is str:
        return validator.validate(payload)
    return _NOT_VALIDATED, []


class Classifier:
    """Classifies Segment calls against one plan (or none).

    Given a ``seen_message_ids`` set (a capture session's), it remembers the messageIds seen so
    that a repeated one is flagged, as Segment's deduplication would drop it; without one (a file
    of test calls, an edit) repeats are not looked for. Not thread-safe (that set): one
    classifier belongs to one session's stream. ``validator`` may be swapped between calls.
    """

    def __init__(
        self,
        validator: EventValidator | None = None,
        *,
        seen_message_ids: set[str] | None = None,
    ) -> None:
        self.validator = validator
        self.seen = seen_message_ids

    def classify(
        self,
        item: Any,
        *,
        received: datetime,
        received_iso: str | None = None,
        envelope: dict[str, Any] = _NO_ENVELOPE,
        parsed_sent: dict[str, datetime | None] | None = None,
        batch_size: int = 1,
        single: bool = True,
        big_integers: tuple[tuple[str, str], ...] = (),
    ) -> Verdict:
        """The verdict on one call as sent (``item``), received at ``received``.

        ``envelope`` is the batch envelope it came in (its ``context``, ``integrations`` and
        ``sentAt`` apply to it), ``batch_size`` how many calls that batch held, and ``single``
        whether it came alone (Segment's 32 KB limit then applies to the request, checked before
        parsing). ``big_integers`` are the ``(dotted field, literal)`` integers beyond 64 bits
        the raw body held for this call (only the raw bytes show them: parsed, they are floats).
        ``received_iso`` and ``parsed_sent`` only save work across a batch.
        """
        if not isinstance(item, dict):
            violation = ingestion_violation(
                ViolationKind.INVALID_FIELD_TYPE, "",
                f"Each batch item must be an object, given: {type(item).__name__}",
            )
            return Verdict(_MALFORMED, [violation], None, storable_json(item)[0])
        call = normalise_call(item, envelope, received,
                              received_iso if received_iso is not None else format_iso(received),
                              parsed_sent)
        payload = call.payload
        payload_json, pruned = storable_json(payload)
        if pruned is not None:
            payload = pruned
        violations = ingestion_violations(payload)
        if pruned is not None:
            violations.append(nesting_violation(MAX_STORED_DEPTH))
        # Segment's 32 KB limit applies to the event as sent. Normalising changes the size by at
        # most a few hundred bytes (timestamps added, nulls and write keys dropped), so the
        # exact (second) serialisation is only needed for events near the limit.
        if not single and len(payload_json) > MAX_EVENT_BYTES - _SIZE_MARGIN - _key_bytes(item):
            size = len(payload_json) if pruned is not None else len(orjson.dumps(item))
            if size > MAX_EVENT_BYTES:
                violations.append(oversized_violation(size, MAX_EVENT_BYTES))
        for field, literal in big_integers:
            violations.append(big_integer_warning(field, literal, value_at(payload, field)))
        if batch_size > MAX_BATCH_EVENTS:
            violations.append(ingestion_violation(
                ViolationKind.BATCH_TOO_LARGE, "",
                f"The batch holds {batch_size:,} events; Segment answers 200 but rejects "
                f"batches over {MAX_BATCH_EVENTS:,} events",
            ))
        seen = self.seen
        message_id = payload.get("messageId")
        if seen is not None and type(message_id) is str:
            if message_id in seen:
                violations.append(duplicate_violation(message_id))
            else:
                seen.add(message_id)
        if call.warnings:
            violations.extend(call.warnings)
        # plan_verdict() and status_of(), inlined: this runs for every captured event.
        validator = self.validator
        if validator is not None and type(payload.get("type")) is str:
            status, found = validator.validate(payload)
            if found:
                violations.extend(found)
        else:
            status = _NOT_VALIDATED
        if violations:
            status = status_of(violations, status)
        return Verdict(status, violations, payload, payload_json)

    def reclassify(
        self, payload: dict[str, Any] | None, violations: Iterable[Violation]
    ) -> tuple[Status, list[Violation]]:
        """The verdict on a stored call again, for the current plan.

        What capture found (ingestion, and audit findings, which have their own life) is kept
        as found: some of it (a duplicate, a batch over the limit) depends on the request and
        the session, not on the payload. Only the plan's violations are recomputed.
        """
        kept = [violation for violation in violations if violation.source is not _PLAN]
        if payload is None:
            return status_of(kept, _NOT_VALIDATED), kept
        plan_status, found = plan_verdict(payload, self.validator)
        return status_of(kept, plan_status), kept + found


def _key_bytes(item: dict[str, Any]) -> int:
    """Bytes of write-key fields, which normalisation removes from the stored event."""
    size = 0
    if "writeKey" in item:
        size += len(str(item["writeKey"]))
    if "secret" in item:
        size += len(str(item["secret"]))
    return size
