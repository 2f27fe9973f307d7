"""Segment's server-side normalisation of one call, the verdict's first step.

What Segment's servers do on arrival, done here the same way: a batch envelope's ``context`` and
``integrations`` are merged into each item, ``sentAt`` comes from the item or the envelope,
``null`` ids count as absent, and ``receivedAt`` / ``originalTimestamp`` / ``timestamp`` are set
by the clock-skew rule ``timestamp = receivedAt - (sentAt - originalTimestamp)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from inspector.core.model import Violation
from inspector.core.timeutil import format_iso, parse_timestamp
from inspector.core.verdict.checks import timestamp_warning

__all__ = ["NormalisedCall", "normalise_call"]

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

#: "Not in the cache yet" (``None`` is a cached result: an unparsable sentAt).
_UNPARSED: Any = object()


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


def as_sent(payload: dict[str, Any]) -> tuple[dict[str, Any], datetime | None]:
    """A stored (normalised) call as its sender sent it, and when it was received.

    Normalising the result at that time gives the stored payload back, with the same warnings:
    the client's timestamp comes back from ``originalTimestamp`` instead of being re-stamped.
    Used wherever a stored or exported call is judged again (import, the editor,
    ``inspector validate`` of an export). A call never normalised comes back as it is.
    """
    if "receivedAt" not in payload and "originalTimestamp" not in payload:
        return payload, None
    item = dict(payload)
    if "originalTimestamp" in item:
        item["timestamp"] = item.pop("originalTimestamp")
    else:
        # Stored without a client timestamp: its "timestamp" was receivedAt.
        item.pop("timestamp", None)
    return item, parse_timestamp(item.pop("receivedAt", None))
