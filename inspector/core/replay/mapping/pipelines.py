"""Customer.io Data Pipelines: Segment-spec calls posted to ``/v1/batch``.

The payload stays a Segment call (camelCase, ISO timestamps). Fields the receiving side sets
itself (``receivedAt``, ``sentAt``) are left out; ``messageId`` is kept, so Pipelines sees the
same message ids the original traffic had. ``X-Strict-Mode: 1`` asks Pipelines to answer with
real error codes instead of silently dropping malformed calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inspector.core.replay.destinations import Destination
from inspector.core.replay.mapping.base import (
    JSON_HEADERS,
    Dropped,
    HttpRequest,
    PlannedRequest,
    Rejected,
    ReplayItem,
    destination_url,
    person_keys,
)
from inspector.core.replay.mapping.batching import Operation, pack

__all__ = ["PipelinesMapper"]

_KEPT = ("type", "userId", "anonymousId", "previousId", "groupId", "event", "name",
         "properties", "traits", "context", "integrations", "messageId", "timestamp",
         "originalTimestamp")
_TYPES = frozenset({"identify", "track", "page", "screen", "group", "alias"})


class PipelinesMapper:
    """Maps Segment calls to Pipelines batch requests."""

    def __init__(self, destination: Destination) -> None:
        self.destination = destination

    def plan(self, items: Sequence[ReplayItem]) -> list[PlannedRequest | Dropped | Rejected]:
        """Batch requests in capture order, with drops interleaved."""
        entries: list[Operation | Dropped | Rejected] = []
        for item in items:
            payload = item.payload
            if payload.get("type") not in _TYPES:
                entries.append(Dropped(item.seq, f"unknown call type {payload.get('type')!r}"))
                continue
            if not (payload.get("userId") or payload.get("anonymousId")):
                entries.append(Dropped(item.seq, "no userId or anonymousId"))
                continue
            call: dict[str, Any] = {key: payload[key] for key in _KEPT if key in payload}
            entries.append((item.seq, call, person_keys(payload)))
        url = destination_url(self.destination, "/v1/batch")
        headers = {**JSON_HEADERS, "X-Strict-Mode": "1"}
        return pack(entries, batch_size=self.destination.batch_size,
                    make_request=lambda calls: HttpRequest("POST", url, {"batch": calls},
                                                           headers=dict(headers)))
