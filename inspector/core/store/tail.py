"""Follow the events another process commits, by polling the store by id.

The window runs the capture endpoint as a child process (``inspector serve``), so it cannot
hook the writer thread. In WAL mode a reader never blocks the writer and an indexed
``WHERE id > ? ORDER BY id LIMIT ?`` on the rowid costs tens of microseconds when nothing is
new, so a worker thread polling every 50 ms is cheaper and simpler than any notification
channel: the rows arrive in commit order, already committed, and a poll after a restart of
either side simply carries on from the last id seen. Listeners get the same
``list[CommittedEvent]`` that :meth:`GroupCommitWriter.add_listener` listeners get.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from inspector.core.store.connection import open_connection
from inspector.core.store.rows import EVENT_COLUMNS, named_rows, pending_from_row
from inspector.core.store.schema import migrate
from inspector.core.store.writer import CommittedEvent

__all__ = ["StoreTail"]

log = logging.getLogger(__name__)

_TAIL_SQL = (
    f"SELECT id, request_id, session_id, {', '.join(EVENT_COLUMNS)} "
    "FROM events WHERE id > ? ORDER BY id LIMIT ?"
)


def _committed(row: sqlite3.Row) -> CommittedEvent:
    return CommittedEvent(
        row["id"], row["request_id"] or 0, row["session_id"], pending_from_row(row)
    )


class StoreTail:
    """A worker thread that hands every newly committed event to its listeners, in id order.

    ``after_id`` defaults to the newest event at :meth:`start`: only what is committed from
    then on is delivered. Listeners run on the worker thread (append to a queue, no Qt).
    """

    def __init__(
        self,
        path: Path | str,
        *,
        interval: float = 0.05,
        limit: int = 2000,
        after_id: int | None = None,
    ) -> None:
        self._path = Path(path)
        self._interval = interval
        self._limit = limit
        self._listeners: list[Callable[[list[CommittedEvent]], None]] = []
        self._error_listeners: list[Callable[[BaseException], None]] = []
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None
        self.last_id = after_id
        #: Polls made and events delivered (for benchmarks).
        self.polls = 0
        self.delivered = 0

    def add_listener(self, listener: Callable[[list[CommittedEvent]], None]) -> None:
        """Call ``listener`` on the worker thread with each group of new events."""
        self._listeners.append(listener)

    def add_error_listener(self, listener: Callable[[BaseException], None]) -> None:
        """Call ``listener`` on the worker thread when polling or a listener fails.

        The tail keeps polling after a failure (a listener's bug must not silently stop the
        live view); the owner tells the user, e.g. in the window's banner.
        """
        self._error_listeners.append(listener)

    @property
    def running(self) -> bool:
        """Whether the worker thread is polling."""
        return self._thread is not None and self._thread.is_alive()

    def open(self) -> None:
        """Open the read connection and fix the starting id (:meth:`start` does this)."""
        if self._conn is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = open_connection(self._path)
            migrate(self._conn)  # a new database: tail it before the child creates the tables
        if self.last_id is None:
            self.last_id = self._max_id()

    def start(self) -> None:
        """Open a read connection and start polling on the worker thread."""
        if self.running:
            return
        self.open()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="inspector-tail", daemon=True)
        self._thread.start()

    def poll_now(self) -> None:
        """Poll at once instead of at the end of the current interval."""
        self._wake.set()

    def stop(self) -> None:
        """Stop polling, after one last poll that delivers everything committed so far."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.close()

    def close(self) -> None:
        """Close the read connection (after :meth:`stop`, or after polling by hand)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def poll(self) -> int:
        """Deliver what is new since the last poll; returns how many events (on the worker, or
        by hand after :meth:`open` without :meth:`start`)."""
        assert self._conn is not None, "open() first"
        self.polls += 1
        total = 0
        while True:
            rows = named_rows(self._conn, _TAIL_SQL, (self.last_id or 0, self._limit))
            if not rows:
                if total == 0:
                    self._follow_id_reuse()
                return total
            events = [_committed(row) for row in rows]
            self.last_id = events[-1].id
            total += len(events)
            self.delivered += len(events)
            for listener in list(self._listeners):
                try:
                    listener(events)
                except Exception as error:  # one listener's bug: the others still get them
                    log.exception("a listener of the tail of %s failed", self._path)
                    self._report(error)
            if len(rows) < self._limit:
                return total

    def _max_id(self) -> int:
        assert self._conn is not None
        row = self._conn.execute("SELECT max(id) FROM events").fetchone()
        return int(row[0] or 0)

    def _follow_id_reuse(self) -> None:
        # Without AUTOINCREMENT SQLite reuses the highest ids once they are deleted (a deleted
        # session that held the newest events): follow the maximum down, or those ids would
        # be skipped. Only checked when a poll found nothing, so it costs nothing under load.
        newest = self._max_id()
        if newest < (self.last_id or 0):
            self.last_id = newest

    def _report(self, error: BaseException) -> None:
        for listener in list(self._error_listeners):
            try:
                listener(error)
            except Exception:  # the reporter itself failed: the log has both
                log.exception("reporting a tail failure failed")

    def _run(self) -> None:
        while True:
            stopping = self._stop.is_set()
            try:
                self.poll()
            except sqlite3.Error as error:  # a locked or replaced file: try again next time
                log.warning("tailing %s failed: %s", self._path, error)
            except Exception as error:  # anything else: report it, keep the thread alive
                log.exception("tailing %s failed", self._path)
                self._report(error)
            if stopping:  # one last poll after stop(): nothing committed before it is lost
                return
            self._wake.wait(self._interval)
            self._wake.clear()
