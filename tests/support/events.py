"""Write Segment events straight into a store, for tests and benchmarks that need a session."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from inspector.core.store import EventStore, GroupCommitWriter, PendingEvent, PendingRequest

__all__ = ["add_events", "make_event"]


def make_event(kind: str = "track", index: int = 0, **fields: Any) -> dict[str, Any]:
    """A normalised Segment call with sensible defaults; ``fields`` override them."""
    base: dict[str, Any] = {
        "type": kind,
        "messageId": f"msg-{index:06d}",
        "timestamp": "2026-11-20T10:00:00.000Z",
        "receivedAt": "2026-11-20T10:00:00.100Z",
        "context": {"library": {"name": "analytics-python", "version": "2.3.0"}},
    }
    if kind == "track":
        base.update(event="Order Completed", properties={"total": 10, "index": index})
    elif kind in ("identify", "group"):
        base["traits"] = {"email": f"user{index}@example.com"}
    elif kind in ("page", "screen"):
        base.update(name="Home", properties={"url": "https://example.com/"})
    base.update(fields)
    return base


def add_events(
    db_path: Path, events: Iterable[dict[str, Any]], *, session: str = "qa",
    write_key: str = "wk",
) -> tuple[EventStore, int, list[int]]:
    """Store ``events`` in order, one request each (all with ``write_key``); returns the store,
    session id and event ids."""
    store = EventStore(db_path)
    info = store.open_session(session)
    writer = GroupCommitWriter(db_path)
    writer.start()
    ids: list[int] = []
    try:
        pending = [
            PendingRequest(
                session_id=info.id, received_at=time.time(), method="POST", path="/v1/batch",
                query=None, remote_addr="127.0.0.1", headers_json="{}", body=None, body_size=0,
                http_status=200,
                events=[
                    PendingEvent(
                        received_at=time.time(), write_key=write_key, type=event.get("type"),
                        name=event.get("event") or event.get("name"), user_id=event.get("userId"),
                        anonymous_id=event.get("anonymousId"), message_id=event.get("messageId"),
                        library=None, status="valid", violation_count=0, violations_json="[]",
                        payload_json=orjson.dumps(event).decode(),
                    )
                ],
            )
            for event in events
        ]
        futures = [writer.submit(request) for request in pending]
        for future in futures:
            ids.extend(committed.id for committed in future.result()[1])
    finally:
        writer.stop()
    return store, info.id, ids
