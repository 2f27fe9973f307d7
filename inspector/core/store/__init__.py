"""SQLite storage for capture sessions, raw requests and events.

Commits survive a crash of the process (WAL, ``synchronous=NORMAL``); ``durable=True`` adds an
fsync per commit so they also survive a power cut."""

from inspector.core.store.database import EventStore, SessionInfo
from inspector.core.store.query import EventQuery, QueryResult
from inspector.core.store.writer import (
    CommittedEvent,
    GroupCommitWriter,
    PendingEvent,
    PendingRequest,
)

__all__ = [
    "CommittedEvent",
    "EventQuery",
    "EventStore",
    "GroupCommitWriter",
    "PendingEvent",
    "PendingRequest",
    "QueryResult",
    "SessionInfo",
]
