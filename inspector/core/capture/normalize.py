"""From a parsed request body to normalised Segment calls.

What Segment's servers do on arrival, done here the same way: a batch envelope's ``context`` and
``integrations`` are merged into each item, ``sentAt`` comes from the item or the envelope,
``null`` ids count as absent, and ``receivedAt`` / ``originalTimestamp`` / ``timestamp`` are set
by the clock-skew rule ``timestamp = receivedAt - (sentAt - originalTimestamp)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from inspector.core.capture.checks import timestamp_warning
from inspector.core.capture.decode import RequestError
from inspector.core.model import Violation
from inspector.core.timeutil import format_iso, parse_timestamp

__all__ = ["ROUTE_TYPES", "NormalisedCall", "normalise_call", "split_request"]

#: URL path segment after ``/v1/`` → the call type it implies (``None``: a batch envelope).
ROUTE_TYPES: dict[str, str | None] = {
    "identify": "identify",
    "track": "track",
    "page": "page",
    "screen": "screen",
    "group": "group",
    "alias": "alias",
    "i": "identify",
    "t": "track",
    "p": "page",
    "s": "screen",
    "g": "group",
    "a": "alias",
    "batch": None,
    "import": None,
    "b": None,
}

# Top-level fields whose ``null`` means "not sent" (analytics-python's clean() keeps None).
_NULLABLE_FIELDS = (
    "userId",
    "anonymousId",
    "previousId",
    "groupId",
    "name",
    "category",
    "event",
    "messageId",
    "timestamp",
    "sentAt",
)
# Envelope fields that belong to the request, not to each event.
_ENVELOPE_ONLY = ("batch", "writeKey", "secret", "sentAt", "context", "integrations")


#: "Not in the cache yet" (``None`` is a cached result: an unparsable sentAt).
_UNPARSED: Any = object()


def split_request(route_type: str | None, body: Any) -> tuple[list[Any], dict[str, Any]]:
    """The items a request carries and the envelope they share.

    A single-call route (``/v1/track``) yields the body as its only item, typed by the path. A
    batch route yields ``body["batch"]``. Raises :class:`RequestError` for a body that is valid
    JSON but not a Segment request at all.
    """
    if not isinstance(body, dict):
        raise RequestError(
            "invalid_request",
            f"Expected a JSON object, got {type(body).__name__ if body is not None else 'null'}",
        )
    if route_type is not None:
        item = dict(body)
        # The path decides the type, as on api.segment.io.
        item["type"] = route_type
        return [item], {}
    batch = body.get("batch")
    if not isinstance(batch, list):
        raise RequestError(
            "invalid_request",
            "A batch request needs a \"batch\" array of calls"
            + ("" if batch is None else f", got {type(batch).__name__}"),
        )
    envelope = {key: body[key] for key in _ENVELOPE_ONLY if key in body and key != "batch"}
    return batch, envelope


@dataclass(slots=True)
class NormalisedCall:
    """One Segment call after normalisation, with the warnings normalisation produced."""

    payload: dict[str, Any]
    warnings: list[Violation]


def normalise_call(item: dict[str, Any], envelope: dict[str, Any], received: datetime,
                   received_iso: str,
                   parsed_sent: dict[str, datetime | None] | None = None) -> NormalisedCall:
    """Apply Segment's server-side normalisation to one call (``item`` is not modified).

    ``parsed_sent`` caches parsed ``sentAt`` values across the calls of one request, which
    nearly always share one (the envelope's, or the same on every call of a flush).
    """
    payload = dict(item)
    if None in payload.values():  # a C-level scan; most calls carry no nulls at all
        for key in _NULLABLE_FIELDS:
            if key in payload and payload[key] is None:
                del payload[key]
    payload.pop("writeKey", None)
    payload.pop("secret", None)
    for shared in ("context", "integrations"):
        outer = envelope.get(shared)
        if isinstance(outer, dict) and outer:
            inner = payload.get(shared)
            if inner is None:
                payload[shared] = dict(outer)
            elif isinstance(inner, dict):
                payload[shared] = {**outer, **inner}

    warnings: list[Violation] = []
    sent_raw = payload.get("sentAt", envelope.get("sentAt"))
    original_raw = payload.pop("timestamp", None)
    if parsed_sent is not None and type(sent_raw) is str:
        sent = parsed_sent.get(sent_raw, _UNPARSED)
        if sent is _UNPARSED:
            sent = parsed_sent[sent_raw] = parse_timestamp(sent_raw)
    else:
        sent = parse_timestamp(sent_raw)
    original = parse_timestamp(original_raw)
    if original_raw is not None and original is None:
        warnings.append(timestamp_warning("timestamp", original_raw))
    if sent_raw is not None and sent is None:
        warnings.append(timestamp_warning("sentAt", sent_raw))

    if original is not None and sent is not None:
        timestamp = format_iso(received - (sent - original))
    elif original is not None:
        timestamp = format_iso(original)
    else:
        timestamp = received_iso
    if original_raw is not None:
        payload["originalTimestamp"] = original_raw
    if sent_raw is not None:
        payload["sentAt"] = sent_raw
    payload["receivedAt"] = received_iso
    payload["timestamp"] = timestamp
    return NormalisedCall(payload, warnings)
