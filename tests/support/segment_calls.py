"""Realistic Segment calls for tests and benchmarks."""

from __future__ import annotations

import uuid
from typing import Any


def track(event: str = "Order Completed", *, user_id: str | None = "user-1",
          anonymous_id: str | None = None, **properties: Any) -> dict[str, Any]:
    """A track call as analytics.js would send it."""
    call: dict[str, Any] = {
        "type": "track",
        "event": event,
        "properties": properties or {"order_id": "o-1", "total": 12.5, "currency": "USD"},
        "messageId": f"ajs-next-{uuid.uuid4()}",
        "timestamp": "2026-11-29T10:00:00.000Z",
        "context": {"library": {"name": "analytics.js", "version": "npm:next-1.84.1"}},
    }
    if user_id is not None:
        call["userId"] = user_id
    if anonymous_id is not None:
        call["anonymousId"] = anonymous_id
    return call
