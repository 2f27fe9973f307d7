"""Catch-up work done beside the capture writer: building indexes after the fact.

The writer commits what capture needs to be durable and nothing more; derived structures (the
secondary indexes, the search index) are brought up to date by workers like these, which take
the write lock in short batches and stand back while capture is busy. They run in a background
process of the writer's (:mod:`inspector.core.store.derive`) or on threads of its process.
Reads never depend on how far a worker has got: they also look at the part it has not reached.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from inspector.core.store.connection import open_connection

try:
    import fcntl
except ImportError:  # Windows: no flock; the workers then stay in the writer's process
    fcntl = None  # type: ignore[assignment]

__all__ = ["CROSS_PROCESS_TURNS", "CatchUpWorker", "WriteTurn", "session_watermark_lag",
           "turn_path"]

log = logging.getLogger(__name__)

#: Whether :class:`WriteTurn` can take turns with other processes on this platform.
CROSS_PROCESS_TURNS = fcntl is not None


def session_watermark_lag(connection: sqlite3.Connection, waiting: str,
                          params: dict[str, object] | None = None) -> float:
    """How long ago the oldest event above its session's watermark was received (0 when none
    is), for a worker that keeps something per session: ``waiting`` selects ``(session id,
    watermark)`` of each session with events above its watermark."""
    oldest = None
    for session_id, upto in connection.execute(waiting, params or {}).fetchall():
        row = connection.execute(
            "SELECT received_at FROM events WHERE session_id = ? AND id > ? "
            "ORDER BY id LIMIT 1", (session_id, upto)).fetchone()
        if row and (oldest is None or row[0] < oldest):
            oldest = row[0]
    return 0.0 if oldest is None else max(0.0, time.time() - oldest)


def turn_path(database: Path) -> Path:
    """The file whose lock says whose turn it is at ``database``'s write lock."""
    return database.with_name(database.name + "-turn")


class WriteTurn:
    """Whose turn it is to write: a lock among this process's threads and, given a file, an
    exclusive ``flock`` on it among processes.

    The capture writer and the catch-up workers take it around each write transaction, so
    that they hand SQLite's write lock over instead of waiting for it in SQLite's busy
    handler, which sleeps (1, 2, 5, 10 ... ms) and, measured across two processes, cost capture
    more than the indexing itself: a blocked ``flock`` returns as soon as the holder lets go.
    Every party needs its own ``WriteTurn`` (a ``flock`` belongs to an open file, so threads
    sharing one are one party: the thread lock orders them).
    """

    def __init__(self, path: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._fd: int | None = None
        if path is not None and fcntl is not None:
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def __enter__(self) -> WriteTurn:
        self._lock.acquire()
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except BaseException:
                self._lock.release()
                raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._lock.release()

    def close(self) -> None:
        """Close the lock file (no turn may be held)."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


class CatchUpWorker:
    """A thread that repeats :meth:`do_batch` until there is nothing left to do.

    The owner calls :meth:`nudge` after each commit. While commits keep coming, batches take
    ``BUSY_SHARE`` of the time (0: none until capture has been quiet for ``QUIET_SECONDS``), or,
    with a ``LAG_TARGET``, a share that grows with how far behind the worker is
    (:meth:`lag_seconds`), from ``BUSY_SHARE`` when caught up to ``MAX_BUSY_SHARE`` once the
    oldest work waiting is ``LAG_TARGET`` seconds old: so sustained traffic can never keep it
    from making progress, and it costs capture little while it keeps up. When capture is quiet,
    batches run back to back. Each batch is sized to hold the write lock for about
    ``HOLD_SECONDS`` on this machine, and runs holding ``write_turn`` (shared with the capture
    writer), so that the two take turns at SQLite's write lock instead of one of them polling
    for it in SQLite's busy handler, which sleeps.
    """

    THREAD_NAME = "inspector-catch-up"
    #: Aim for write transactions about this long.
    HOLD_SECONDS = 0.05
    #: Capture counts as quiet after this long without a commit.
    QUIET_SECONDS = 0.25
    #: Share of the time batches may take while capture is busy (the least, with a lag target).
    BUSY_SHARE = 0.0
    #: Seconds of lag at which batches take ``MAX_BUSY_SHARE`` of a busy capture's time
    #: (``None``: always ``BUSY_SHARE``).
    LAG_TARGET: float | None = None
    MAX_BUSY_SHARE = 0.0
    #: First batch size, before the rate of this machine is known.
    START_BATCH = 64
    MAX_BATCH = 5000

    def __init__(self, path: Path | str, *, write_turn: WriteTurn | None = None) -> None:
        self._path = Path(path)
        self._write_turn = write_turn if write_turn is not None else WriteTurn()
        self._wake = threading.Event()
        self._committed = threading.Event()
        self._stop = threading.Event()
        self._progress = threading.Condition()
        self._upto = 0
        self._failed = False
        self._thread = threading.Thread(target=self._run, name=self.THREAD_NAME, daemon=True)
        self.batch = self.START_BATCH
        self.indexed = 0
        #: Called on the worker thread with the id reached after each batch (the background
        #: process reports progress to its parent through it).
        self.on_progress: Callable[[int], None] | None = None

    def do_batch(self, connection: sqlite3.Connection, limit: int) -> tuple[int, int]:
        """Do up to ``limit`` units of work; returns how many were done and the id reached."""
        raise NotImplementedError

    def lag_seconds(self, connection: sqlite3.Connection) -> float:
        """How old the oldest work waiting is (only asked with a ``LAG_TARGET``)."""
        return 0.0

    def busy_share(self, lag: float) -> float:
        """The share of a busy capture's time batches may take, ``lag`` seconds behind."""
        if self.LAG_TARGET is None:
            return self.BUSY_SHARE
        reached = min(1.0, max(0.0, lag) / self.LAG_TARGET)
        return self.BUSY_SHARE + (self.MAX_BUSY_SHARE - self.BUSY_SHARE) * reached

    @property
    def running(self) -> bool:
        """Whether the worker thread is alive."""
        return self._thread.is_alive()

    def start(self) -> None:
        """Start the thread; it first catches up with whatever is already waiting."""
        self._wake.set()
        self._thread.start()

    def nudge(self) -> None:
        """New events were committed."""
        self._committed.set()
        self._wake.set()

    def stop(self) -> None:
        """Stop after the current batch (the rest is done next time)."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join()
        with self._progress:
            self._progress.notify_all()

    def wait_until_indexed(self, event_id: int, timeout: float) -> bool:
        """Block until every event up to ``event_id`` is done; ``False`` on timeout."""
        deadline = time.monotonic() + timeout
        with self._progress:
            while self._upto < event_id:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stop.is_set() or self._failed:
                    return False
                self._wake.set()
                self._progress.wait(remaining)
            return True

    def _run(self) -> None:
        connection = open_connection(self._path)
        try:
            while True:
                self._wake.wait()
                if self._stop.is_set():
                    break
                self._wake.clear()
                self._catch_up(connection)
        except sqlite3.Error:
            # A SQLite build without a needed feature, or a broken file: reads keep working by
            # looking at the part not done yet.
            log.exception("%s stopped", self.THREAD_NAME)
            with self._progress:
                self._failed = True
                self._progress.notify_all()
        finally:
            connection.close()

    def _share(self, connection: sqlite3.Connection) -> float:
        """The share of a busy capture's time the next batches may take."""
        if self.LAG_TARGET is None:
            return self.BUSY_SHARE
        return self.busy_share(self.lag_seconds(connection))

    def _catch_up(self, connection: sqlite3.Connection) -> None:
        share = self._share(connection)
        rest = 0.0
        while self._wait_for_turn(connection, rest, share):
            started = time.monotonic()
            try:
                with self._write_turn:
                    count, upto = self.do_batch(connection, self.batch)
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) and "busy" not in str(error):
                    raise
                log.warning("%s postponed: %s", self.THREAD_NAME, error)
                return
            took = time.monotonic() - started
            with self._progress:
                self._upto = upto
                self._progress.notify_all()
            if self.on_progress is not None:
                self.on_progress(upto)
            if not count:
                return
            self.indexed += count
            if count == self.batch:
                # Size the next batch to hold the lock for about HOLD_SECONDS on this machine.
                rate = count / max(took, 1e-4)
                self.batch = max(16, min(self.MAX_BATCH, int(rate * self.HOLD_SECONDS)))
            share = self._share(connection)
            if share > 0:
                rest = took * (1 - share) / share

    def _wait_for_turn(self, connection: sqlite3.Connection, rest: float, share: float) -> bool:
        """Wait until the next batch may run; ``False`` when stopping.

        While capture is busy: after ``rest`` seconds if batches may take a ``share`` of the
        time, else once it has been quiet for ``QUIET_SECONDS``, or once the work waiting
        has aged enough meanwhile to earn a share. When quiet: at once.
        """
        while self._committed.is_set():
            self._committed.clear()
            if share > 0:
                return not self._stop.wait(rest)
            if self._stop.wait(self.QUIET_SECONDS):
                return False
            # Still busy. With a lag target, the share was measured when this wait began,
            # perhaps caught up (none): under sustained traffic the wait for quiet never ends,
            # so ask again how old the work waiting is by now.
            share = self._share(connection)
        return not self._stop.is_set()
