"""Records shared across the core: statuses, violations and captured events.

These are plain slotted dataclasses rather than pydantic models on purpose: they are built on the
ingest hot path (thousands per second), where a validating constructor would cost more than the
parsing itself. Everything that crosses a trust boundary (settings, API query parameters, plan
files) is a pydantic model instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "EventRecord",
    "Severity",
    "Status",
    "Violation",
    "ViolationKind",
]


class Status(StrEnum):
    """The one validation status an event has; the GUI's five colour codes."""

    VALID = "valid"
    INVALID = "invalid"
    UNPLANNED = "unplanned"
    MALFORMED = "malformed"
    NOT_VALIDATED = "not_validated"


class Severity(StrEnum):
    """How much a violation matters: errors change an event's status, warnings only inform."""

    ERROR = "error"
    WARNING = "warning"


class ViolationKind(StrEnum):
    """Violation kinds, named the way Segment Protocols and the Tracking API name them."""

    # Tracking-plan (Protocols) kinds.
    UNPLANNED_EVENT = "Unplanned Event"
    UNPLANNED_PROPERTY = "Unplanned Property"
    UNPLANNED_TRAIT = "Unplanned Trait"
    REQUIRED = "Required"
    INVALID_TYPE = "Invalid Type"
    DOES_NOT_MATCH_PATTERN = "Does Not Match Pattern"
    NOT_IN_ENUM = "Not In Enum"
    INVALID_FORMAT = "Invalid Format"
    OUT_OF_RANGE = "Out Of Range"
    COMMON_JSON_SCHEMA = "Common JSON Schema Violation"
    JSON_SCHEMA = "JSON Schema Violation"
    # Ingestion kinds: what the Tracking API itself would reject or drop.
    INVALID_JSON = "Invalid JSON"
    PAYLOAD_TOO_LARGE = "Payload Too Large"
    BATCH_TOO_LARGE = "Batch Too Large"
    MISSING_IDENTIFIER = "Missing userId or anonymousId"
    MISSING_EVENT = "Missing event key for track call"
    MISSING_FIELD = "Missing Required Field"
    INVALID_FIELD_TYPE = "Invalid Field Type"
    MESSAGE_ID_TOO_LONG = "messageId Too Long"
    DUPLICATE_MESSAGE_ID = "Duplicate messageId"
    UNKNOWN_TYPE = "Unknown Call Type"


#: Kinds that mean Segment itself would reject or drop the event: they make the status malformed.
MALFORMED_KINDS: frozenset[ViolationKind] = frozenset(
    {
        ViolationKind.INVALID_JSON,
        ViolationKind.PAYLOAD_TOO_LARGE,
        ViolationKind.BATCH_TOO_LARGE,
        ViolationKind.MISSING_IDENTIFIER,
        ViolationKind.MISSING_EVENT,
        ViolationKind.MISSING_FIELD,
        ViolationKind.INVALID_FIELD_TYPE,
        ViolationKind.MESSAGE_ID_TOO_LONG,
        ViolationKind.DUPLICATE_MESSAGE_ID,
        ViolationKind.UNKNOWN_TYPE,
    }
)


@dataclass(frozen=True, slots=True)
class Violation:
    """One problem with one field of one event.

    ``field`` is a dotted path written the way Segment writes it (``properties.items.1.price``,
    ``traits.email``); an empty string means the event as a whole.
    """

    kind: str
    field: str
    message: str
    severity: Severity = Severity.ERROR
    suggestion: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used by the store, the REST API and exports."""
        data: dict[str, Any] = {
            "kind": str(self.kind),
            "field": self.field,
            "message": self.message,
            "severity": str(self.severity),
        }
        if self.suggestion is not None:
            data["suggestion"] = self.suggestion
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Violation:
        """Rebuild a violation from :meth:`to_dict` output."""
        return cls(
            kind=data["kind"],
            field=data.get("field", ""),
            message=data.get("message", ""),
            severity=Severity(data.get("severity", Severity.ERROR)),
            suggestion=data.get("suggestion"),
        )


@dataclass(slots=True)
class EventRecord:
    """A captured event as stored: indexed columns plus the full normalised payload."""

    id: int
    session_id: int
    received_at: float
    write_key: str | None
    type: str | None
    name: str | None
    user_id: str | None
    anonymous_id: str | None
    message_id: str | None
    status: Status
    violations: list[Violation] = field(default_factory=list)
    payload: dict[str, Any] | None = None
    request_id: int | None = None
    session_name: str | None = None
    source_name: str | None = None
    #: ``context.library`` as "name version", e.g. "analytics-python 2.3.4".
    library: str | None = None
