"""Ingestion checks: what Segment's Tracking API itself would reject or drop.

These run on every event before (and independently of) any tracking plan, and they use the
Tracking API's own wording ("Missing userId or anonymousId", "Missing event key for track
call"). A violation of any of them makes an event *malformed*.
"""

from __future__ import annotations

from typing import Any

from inspector.core.model import Severity, Source, Violation, ViolationKind

__all__ = [
    "CALL_TYPES",
    "MAX_BATCH_EVENTS",
    "MAX_EVENT_BYTES",
    "MAX_MESSAGE_ID_LENGTH",
    "MAX_REQUEST_BYTES",
    "big_integer_warning",
    "duplicate_violation",
    "identifier_violations",
    "ingestion_violation",
    "ingestion_violations",
    "nesting_violation",
    "oversized_violation",
    "timestamp_warning",
]

#: Segment's limit on one request (``/v1/batch``): 500 KB.
MAX_REQUEST_BYTES = 500 * 1024
#: Segment's limit on one event (and on a single-call request): 32 KB.
MAX_EVENT_BYTES = 32 * 1024
#: Segment accepts at most this many events in one batch.
MAX_BATCH_EVENTS = 2500
#: The six Segment call types.
CALL_TYPES = frozenset({"identify", "track", "page", "screen", "group", "alias"})
#: Segment deduplicates on messageId, which must be "fewer than 100 characters".
MAX_MESSAGE_ID_LENGTH = 100

_NEEDS_IDENTITY = frozenset({"identify", "track", "page", "screen", "group"})
_OBJECT_FIELDS = {
    "track": ("properties", "context", "integrations"),
    "page": ("properties", "context", "integrations"),
    "screen": ("properties", "context", "integrations"),
    "identify": ("traits", "context", "integrations"),
    "group": ("traits", "context", "integrations"),
    "alias": ("context", "integrations"),
}


_IDENTIFIERS = ("userId", "anonymousId", "previousId", "groupId")


def ingestion_violation(
    kind: str, field: str, message: str, *, severity: Severity = Severity.ERROR
) -> Violation:
    """A violation found by these checks (``source`` ingestion: an error makes it malformed)."""
    return Violation(kind, field, message, severity, source=Source.INGESTION)


def _present(value: Any) -> bool:
    return value is not None and value != ""


def ingestion_violations(payload: dict[str, Any]) -> list[Violation]:
    """Every Tracking-API-level problem with one (normalised) Segment call."""
    violations: list[Violation] = []
    call_type = payload.get("type")
    if not isinstance(call_type, str) or call_type not in CALL_TYPES:
        given = "no type" if call_type is None else f"type {call_type!r}"
        violations.append(
            ingestion_violation(
                ViolationKind.UNKNOWN_TYPE,
                "type",
                f"Unknown call type: {given} is not one of identify, track, page, screen, "
                "group, alias",
            )
        )
        return violations

    # _present() inlined: this runs for every captured event.
    user_id = payload.get("userId")
    anonymous_id = payload.get("anonymousId")
    if (
        call_type in _NEEDS_IDENTITY
        and (user_id is None or user_id == "")
        and (anonymous_id is None or anonymous_id == "")
    ):
        violations.append(
            ingestion_violation(
                ViolationKind.MISSING_IDENTIFIER, "userId", "Missing userId or anonymousId"
            )
        )
    violations.extend(identifier_violations(payload))
    if call_type == "track":
        event = payload.get("event")
        if event is None or event == "":
            violations.append(
                ingestion_violation(
                    ViolationKind.MISSING_EVENT, "event", "Missing event key for track call"
                )
            )
        elif type(event) is not str:
            violations.append(
                ingestion_violation(
                    ViolationKind.INVALID_FIELD_TYPE, "event", "Event must be a string"
                )
            )
    elif call_type == "group" and not _present(payload.get("groupId")):
        violations.append(
            ingestion_violation(
                ViolationKind.MISSING_FIELD, "groupId", "groupId is required for group calls"
            )
        )
    elif call_type == "alias":
        for field in ("previousId", "userId"):
            if not _present(payload.get(field)):
                violations.append(
                    ingestion_violation(
                        ViolationKind.MISSING_FIELD, field, f"{field} is required for alias calls"
                    )
                )

    for field in _OBJECT_FIELDS[call_type]:
        value = payload.get(field)
        if value is not None and not isinstance(value, dict):
            violations.append(
                ingestion_violation(
                    ViolationKind.INVALID_FIELD_TYPE,
                    field,
                    f"{field} must be an object, given: {_json_type(value)}",
                )
            )

    message_id = payload.get("messageId")
    if message_id is not None:
        if not isinstance(message_id, str):
            violations.append(
                ingestion_violation(
                    ViolationKind.INVALID_FIELD_TYPE,
                    "messageId",
                    f"messageId must be a string, given: {_json_type(message_id)}",
                )
            )
        elif len(message_id) > MAX_MESSAGE_ID_LENGTH:
            violations.append(
                ingestion_violation(
                    ViolationKind.MESSAGE_ID_TOO_LONG,
                    "messageId",
                    f"messageId is {len(message_id)} characters; Segment requires fewer than "
                    f"{MAX_MESSAGE_ID_LENGTH}",
                )
            )
    return violations


def identifier_violations(payload: dict[str, Any]) -> list[Violation]:
    """Ids sent as an object or array: Segment's ids are strings (numbers are stringified), so
    such a call reaches no destination under a usable id."""
    return [
        ingestion_violation(
            ViolationKind.INVALID_FIELD_TYPE,
            field,
            f"{field} must be a string, given: {_json_type(payload[field])}",
        )
        for field in _IDENTIFIERS
        if isinstance(payload.get(field), dict | list)
    ]


def nesting_violation(limit: int) -> Violation:
    """An event nested deeper than inspector (and most JSON tooling) can write back out."""
    return ingestion_violation(
        ViolationKind.INVALID_JSON,
        "",
        f"Invalid JSON: the event is nested deeper than {limit} levels; it is stored with the "
        "deeper values replaced by a note (the raw request keeps them)",
    )


def big_integer_warning(field: str, literal: str, stored: object) -> Violation:
    """An integer beyond 64 bits, which the parsed (stored) payload holds as a float."""
    return ingestion_violation(
        ViolationKind.OUT_OF_RANGE,
        field,
        f"integer {literal} exceeds 64-bit; stored as {stored!r} (the raw request keeps the "
        "original digits)",
        severity=Severity.WARNING,
    )


def duplicate_violation(message_id: str) -> Violation:
    """A messageId already seen in this session: Segment keeps the first and drops this one."""
    return ingestion_violation(
        ViolationKind.DUPLICATE_MESSAGE_ID,
        "messageId",
        f"Duplicate messageId {message_id!r}: Segment deduplicates on messageId and drops this "
        "copy",
    )


def oversized_violation(size: int, limit: int) -> Violation:
    """An event over Segment's 32 KB per-event limit."""
    return ingestion_violation(
        ViolationKind.PAYLOAD_TOO_LARGE,
        "",
        f"Payload is too large: the event is {size:,} bytes, Segment drops events over "
        f"{limit:,} bytes",
    )


def timestamp_warning(field: str, value: Any) -> Violation:
    """A timestamp Segment cannot read: it falls back to its own clock."""
    return ingestion_violation(
        ViolationKind.INVALID_FORMAT,
        field,
        f"Does not match format 'date-time': {value!r} is not an ISO-8601 timestamp; "
        "Segment uses receivedAt instead",
        severity=Severity.WARNING,
    )


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number" if isinstance(value, float) else "integer"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"
