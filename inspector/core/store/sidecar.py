"""A small connection helper for feature tables that live beside the events (corrections, replay).

Those features own their tables but not the event store; this gives each of them the same
per-thread connection and short ``BEGIN IMMEDIATE`` transactions that
:class:`~inspector.core.store.database.EventStore` uses for its administrative writes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from inspector.core.store.database import open_connection
from inspector.core.store.schema import migrate

__all__ = ["SidecarDb"]


class SidecarDb:
    """Per-thread connections to one inspector database, migrated on first open."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        # migrate() brings its own transaction per step.
        migrate(self.connection())

    def connection(self) -> sqlite3.Connection:
        """This thread's connection."""
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = open_connection(self.path)
            self._local.connection = connection
        return connection

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A short write transaction on this thread's connection."""
        connection = self.connection()
        with self._lock:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def close(self) -> None:
        """Close this thread's connection."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None
