"""What a mapping produces: HTTP requests to send, and events it will not send.

Mappings are pure: Segment payloads in, :class:`PlannedRequest` values out, no I/O and no
secrets (the ``Authorization`` header is added by the client at send time). That makes the same
objects serve the preview, the ``--dry-run`` output and the engine.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote

import orjson

from inspector.core.replay.destinations import Destination
from inspector.core.timeutil import parse_timestamp

__all__ = [
    "JSON_HEADERS",
    "Dropped",
    "HttpRequest",
    "Mapper",
    "PlannedRequest",
    "Rejected",
    "ReplayItem",
    "convert_iso_timestamps",
    "person_keys",
    "quote_id",
    "to_unix",
]

JSON_HEADERS: dict[str, str] = {"Content-Type": "application/json"}
REDACTED_AUTH = "Basic <redacted>"


@dataclass(frozen=True, slots=True)
class ReplayItem:
    """One event to replay: its position in send order, its event id and effective payload."""

    seq: int
    event_id: int | None
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """A request as it will go on the wire, minus the ``Authorization`` header."""

    method: str
    url: str
    body: Any
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON_HEADERS))

    def content(self) -> bytes:
        """The body bytes sent."""
        return orjson.dumps(self.body)

    def preview(self) -> dict[str, Any]:
        """The JSON form shown before sending: headers included, the secret redacted."""
        return {
            "method": self.method,
            "url": self.url,
            "headers": {**self.headers, "Authorization": REDACTED_AUTH},
            "body": self.body,
        }


@dataclass(frozen=True, slots=True)
class PlannedRequest:
    """A request and the events it carries (``seqs[i]`` is batch operation ``i``)."""

    request: HttpRequest
    seqs: tuple[int, ...]
    persons: frozenset[str]


@dataclass(frozen=True, slots=True)
class Dropped:
    """An event the destination would not send (e.g. "Classic would drop this")."""

    seq: int
    reason: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """An event that cannot be sent as it is (too large): a failure the user must fix."""

    seq: int
    reason: str


class Mapper(Protocol):
    """Turns replay items, in order, into requests and drops."""

    def plan(self, items: Sequence[ReplayItem]) -> list[PlannedRequest | Dropped | Rejected]:
        """Requests in send order, with dropped and rejected events interleaved."""
        ...


def quote_id(value: object) -> str:
    """Percent-encode an identifier for a URL path, as the official clients do (``@`` → %40)."""
    return quote(str(value), safe="")


def to_unix(value: Any) -> int | None:
    """Integer unix seconds from an ISO 8601 string or a number; ``None`` if not a time."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str):
        if _NUMERIC.fullmatch(value):
            return int(float(value))
        parsed = parse_timestamp(value)
        if parsed is None and _DATE_ONLY.fullmatch(value):
            parsed = datetime.fromisoformat(value).replace(tzinfo=UTC)
        if parsed is not None:
            return int(parsed.timestamp())
    return None


def event_time(payload: dict[str, Any]) -> int | None:
    """The call's time in unix seconds: ``timestamp``, else ``originalTimestamp``, else receipt."""
    for key in ("timestamp", "originalTimestamp", "receivedAt"):
        seconds = to_unix(payload.get(key))
        if seconds is not None:
            return seconds
    return None


# Segment Actions' ISO test (utils.ts): date-only strings count, as do offsets without a colon.
_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}((T\d{2}:\d{2}(:\d{2})?)(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})?)?"
)
_NUMERIC = re.compile(r"\d+(\.\d+)?")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def convert_iso_timestamps(value: Any) -> Any:
    """A copy with every ISO 8601 string in nested objects turned into unix seconds.

    Arrays are left alone, as Segment's ``convertAttributeTimestamps`` does.
    """
    if isinstance(value, dict):
        return {key: convert_iso_timestamps(item) for key, item in value.items()}
    if isinstance(value, str) and _ISO.fullmatch(value):
        # Python's fromisoformat wants "+02:00"; Segment's regex also allows "+0200".
        text = value
        if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit() and "T" in text:
            text = f"{text[:-2]}:{text[-2:]}"
        seconds = to_unix(text)
        return value if seconds is None else seconds
    return value


def person_keys(payload: dict[str, Any]) -> frozenset[str]:
    """The people a call concerns, for keeping each person's calls in capture order."""
    keys = set()
    for field_name, prefix in (("userId", "u:"), ("anonymousId", "a:"), ("previousId", "u:")):
        value = payload.get(field_name)
        if value not in (None, ""):
            keys.add(prefix + str(value))
    return frozenset(keys)


def destination_url(destination: Destination, path: str) -> str:
    """``path`` on the destination's host."""
    return f"{destination.base_url}{path}"
