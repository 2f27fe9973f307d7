"""Records shared across the core: statuses, violations and captured events.

These are plain slotted dataclasses rather than pydantic models on purpose: they are built on the
ingest hot path (thousands per second), where a validating constructor would cost more than the
parsing itself. Everything that crosses a trust boundary (settings, API query parameters, plan
files) is a pydantic model instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import field as dataclass_field
from enum import StrEnum
from typing import Any

__all__ = [
    "PROBLEM_STATUSES",
    "VIOLATED_STATUSES",
    "EventRecord",
    "Severity",
    "Source",
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


#: Statuses a "problems only" filter shows: everything a tracking plan or Segment objects to.
PROBLEM_STATUSES: frozenset[Status] = frozenset(
    {Status.INVALID, Status.UNPLANNED, Status.MALFORMED}
)
#: Statuses the plan panel counts as "violated" for a planned event name (an unplanned event
#: has no planned name to count against).
VIOLATED_STATUSES: frozenset[Status] = frozenset({Status.INVALID, Status.MALFORMED})


class Source(StrEnum):
    """Which layer found a violation; it decides what re-validation keeps and what a status means.

    ``ingestion``: Segment's Tracking API itself would reject, drop or re-stamp the call (any error
    makes the event *malformed*); found once, at capture, and kept across re-validation, since some
    (duplicates, batch limits) depend on the request and the session, not on the payload alone.
    ``plan``: the tracking plan's verdict, recomputed whenever the plan changes. ``audit``:
    cross-event findings (identity, drift...), which never change an event's status. ``rule``:
    the user's own conditions (audit segments, flow steps), reported in findings and flow results
    and never stored on the event.
    """

    INGESTION = "ingestion"
    PLAN = "plan"
    AUDIT = "audit"
    RULE = "rule"


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


#: Kinds only the ingestion checks produce (all errors: Segment would reject or drop the event).
#: What makes an event malformed is its violations' source (``verdict.status_of``); these kinds
#: only tell the source of violations stored before sources were recorded (``legacy_source``).
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


_INGESTION_KIND_NAMES = frozenset(str(kind) for kind in MALFORMED_KINDS)


@dataclass(frozen=True, slots=True)
class Violation:
    """One problem with one field of one event.

    ``field`` is a dotted path written the way Segment writes it (``properties.items.1.price``,
    ``traits.email``); an empty string means the event as a whole. ``source`` (keyword-only, no
    default on purpose: a forgotten one would silently change what an event's status means) is
    the layer that found it.
    """

    kind: str
    field: str
    message: str
    severity: Severity = Severity.ERROR
    suggestion: str | None = None
    source: Source = dataclass_field(kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used by the store, the REST API and exports."""
        data: dict[str, Any] = {
            "kind": str(self.kind),
            "field": self.field,
            "message": self.message,
            "severity": str(self.severity),
            "source": str(self.source),
        }
        if self.suggestion is not None:
            data["suggestion"] = self.suggestion
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Violation:
        """Rebuild a violation from :meth:`to_dict` output (also of inspector versions that did
        not record the source: see :func:`legacy_source`)."""
        kind = data["kind"]
        field = data.get("field", "")
        message = data.get("message", "")
        source = data.get("source")
        return cls(
            kind=kind,
            field=field,
            message=message,
            severity=Severity(data.get("severity", Severity.ERROR)),
            suggestion=data.get("suggestion"),
            source=Source(source) if source is not None else legacy_source(kind, field, message),
        )


#: Mark the ingestion warnings whose kinds a plan also uses: an unreadable timestamp
#: (``verdict.checks.timestamp_warning``) and an integer beyond 64 bits (``big_integer_warning``).
_TIMESTAMP_WARNING_TAIL = "Segment uses receivedAt instead"
_BIG_INTEGER_WORDING = "exceeds 64-bit; stored as"


def legacy_source(kind: str, field: str, message: str) -> Source:
    """The source of a violation stored before sources were recorded, told from its text.

    Ingestion kinds are their own (Segment's wording); the exceptions are two ingestion warnings
    whose kinds a plan also uses ("Invalid Format" for an unreadable timestamp, "Out Of Range"
    for an integer beyond 64 bits), told apart by field and wording.
    """
    if kind in _INGESTION_KIND_NAMES:
        return Source.INGESTION
    if (kind == ViolationKind.INVALID_FORMAT and field in ("timestamp", "sentAt")
            and message.endswith(_TIMESTAMP_WARNING_TAIL)):
        return Source.INGESTION
    if kind == ViolationKind.OUT_OF_RANGE and _BIG_INTEGER_WORDING in message:
        return Source.INGESTION
    return Source.PLAN


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
