"""Group commit: every captured request is committed before it is acknowledged, at batch speed.

Committed means safe against a crash of the process; safe against a power cut only with
``durable=True`` (an fsync per commit), see
:func:`~inspector.core.store.connection.open_connection`.

A commit per HTTP request would cap single-event traffic (analytics.js sends one request per
event) at the rate of SQLite commits. Instead, request handlers hand their rows to one writer
thread and wait; the thread takes everything that queued up while it was busy, writes it in one
transaction, commits, and only then wakes the handlers, which answer ``200``. Under load a commit
carries hundreds of requests; when idle, a single request commits at once with no added delay.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import itertools
import logging
import operator
import os
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from inspector.core.store.background import WriteTurn, turn_path
from inspector.core.store.connection import open_connection
from inspector.core.store.derive import (
    DeriveProcess,
    IndexProgress,
    WorkerThreads,
    background_mode,
    derived_workers,
)
from inspector.core.store.forward_queue import INSERT_COLUMNS as _FORWARD_COLUMNS
from inspector.core.store.forward_queue import ForwardJob
from inspector.core.store.rows import EVENT_COLUMNS, PENDING_FIELDS, PendingEvent

__all__ = ["CommittedEvent", "GroupCommitWriter", "PendingEvent", "PendingRequest"]

log = logging.getLogger(__name__)

#: Upper bound on requests per transaction, so one commit never holds the lock for long.
_MAX_GROUP = 2000

#: Fault injection for durability tests: pretend every commit takes this long (a slow disk),
#: which widens the window in which an early acknowledgement would lose data.
_SLOW_COMMIT_SECONDS = float(os.environ.get("INSPECTOR_SLOW_COMMIT_SECONDS", "0") or 0)

#: ``INSPECTOR_SEARCH_INDEX=0`` runs capture without the background search indexer (searches
#: then scan; their answers are the same).
_SEARCH_INDEX = os.environ.get("INSPECTOR_SEARCH_INDEX", "1") != "0"


@dataclass(slots=True)
class PendingRequest:
    """A raw HTTP request as received, with the events parsed out of it."""

    session_id: int
    received_at: float
    method: str
    path: str
    query: str | None
    remote_addr: str | None
    headers_json: str
    body: bytes | None
    body_size: int
    http_status: int
    error_code: str | None = None
    error_message: str | None = None
    write_key: str | None = None
    write_key_source: str | None = None
    events: list[PendingEvent] = field(default_factory=list)
    #: Set when ``body`` is only a prefix (a rejected request): the whole body's SHA-256, hex.
    #: ``body_size`` is then the whole body's length.
    body_sha256: str | None = None
    #: With ``--forward``: what to send upstream, queued in the same transaction.
    forward: ForwardJob | None = None


class CommittedEvent(NamedTuple):
    """An event that is now committed, with the ids the database gave it.

    A named tuple rather than a frozen dataclass: the writer builds one per event while
    holding the GIL, and a tuple is several times cheaper to make.
    """

    id: int
    request_id: int
    session_id: int
    event: PendingEvent


CommitListener = Callable[[list[CommittedEvent]], None]
_Outcome = tuple[int, list[CommittedEvent]]
_Result = _Outcome | BaseException


@dataclass(slots=True)
class _Job:
    request: PendingRequest
    loop: asyncio.AbstractEventLoop | None
    future: asyncio.Future[_Outcome] | concurrent.futures.Future[_Outcome]


_STOP = object()


class GroupCommitWriter:
    """The single writer of captured traffic, on its own thread with its own connection.

    Listeners added with :meth:`add_listener` are called on the writer thread right after each
    commit, before any handler is woken: they must be cheap and thread-safe (append to a queue).

    The derived structures are kept up to date beside the writer, nudged after each commit (the
    commit itself does no indexing work): the secondary-index builder (progress in
    :attr:`index_builder`) and, unless ``search_index`` is off, the search indexer
    (:attr:`indexer`). They run in a child process (``background="process"``, the default; see
    :mod:`inspector.core.store.derive`) or on threads of this one (``"thread"``); ``None`` reads
    ``$INSPECTOR_BACKGROUND``.
    """

    def __init__(
        self, path: Path | str, *, durable: bool = False, search_index: bool | None = None,
        background: str | None = None,
    ) -> None:
        self._path = Path(path)
        self._durable = durable
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        #: Jobs submitted on an event loop during its current iteration, not yet handed over.
        self._loop_pending: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
        self._listeners: list[CommitListener] = []
        self._thread = threading.Thread(target=self._run, name="inspector-writer", daemon=True)
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self.commits = 0
        self.requests_written = 0
        enabled = _SEARCH_INDEX if search_index is None else search_index
        #: Held for each commit and each background batch: they take turns at SQLite's write
        #: lock here, rather than wait for it in SQLite's busy handler (which sleeps).
        #: (With the workers in a child, the writer's turn also locks a file: see _run.)
        self._write_turn = WriteTurn()
        self.background_mode = background_mode(background)
        self.background: WorkerThreads | DeriveProcess
        if self.background_mode == "thread":
            self.background = WorkerThreads(derived_workers(
                self._path, write_turn=self._write_turn, search_index=enabled))
        else:
            self.background = DeriveProcess(self._path, search_index=enabled)
        progress: dict[str, IndexProgress] = dict(self.background.progress)
        #: How far the search indexer has got (``None``: none runs).
        self.indexer: IndexProgress | None = progress.get("search")
        #: How far the builder adding committed events to the secondary indexes has got.
        self.index_builder: IndexProgress = progress["index"]
        #: How far the builder keeping each session's comparison profile has got.
        self.profile_builder: IndexProgress = progress["profile"]
        #: How far the counter keeping each session's summary counts has got.
        self.summary_counter: IndexProgress = progress["summary"]

    def start(self) -> None:
        """Open the connection on the writer thread and start taking jobs."""
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            raise self._startup_error

    def stop(self) -> None:
        """Write what is queued, then stop the thread."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()

    def add_listener(self, listener: CommitListener) -> None:
        """Call ``listener`` with each committed group of events."""
        self._listeners.append(listener)

    def remove_listener(self, listener: CommitListener) -> None:
        """Stop calling ``listener``."""
        self._listeners.remove(listener)

    def submit_async(
        self, request: PendingRequest
    ) -> asyncio.Future[tuple[int, list[CommittedEvent]]]:
        """Queue ``request``; the future resolves with its id and events once committed.

        Must be called from a thread running an asyncio loop.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[int, list[CommittedEvent]]] = loop.create_future()
        # Requests that arrive in the same loop iteration reach the writer as one hand-over:
        # each put() can wake the writer thread, and every wake-up is a GIL hand-off that
        # stalls the loop, so under load one per iteration beats one per request.
        pending = self._loop_pending.get(loop)
        if pending is None:
            pending = self._loop_pending[loop] = []
            loop.call_soon(self._hand_over, loop)
        pending.append(_Job(request, loop, future))
        return future

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        self._queue.put(self._loop_pending.pop(loop))

    def submit(
        self, request: PendingRequest
    ) -> concurrent.futures.Future[tuple[int, list[CommittedEvent]]]:
        """Queue ``request`` from synchronous code (importers, tests)."""
        future: concurrent.futures.Future[tuple[int, list[CommittedEvent]]] = (
            concurrent.futures.Future()
        )
        self._queue.put(_Job(request, None, future))
        return future

    def write(self, request: PendingRequest) -> tuple[int, list[CommittedEvent]]:
        """Queue ``request`` and block until it is committed."""
        return self.submit(request).result()

    # ---- writer thread

    def _run(self) -> None:
        try:
            connection = open_connection(self._path, durable=self._durable)
            # Checkpoints (copying the WAL back into the database, with an fsync) would
            # otherwise run inside whichever commit crosses 1,000 WAL pages, stalling every
            # request waiting on it; the checkpointer thread does them beside the writer.
            connection.execute("PRAGMA wal_autocheckpoint=0")
        except BaseException as error:  # reported to start()'s caller
            self._startup_error = error
            self._ready.set()
            return
        try:
            if self.background_mode == "process":
                # Turns are taken with the child too; opened here, closed when this stops.
                self._write_turn = WriteTurn(turn_path(self._path))
            self.background.start()
        except OSError as error:  # the child could not be started: reported to start()
            self._startup_error = error
            self._write_turn.close()
            connection.close()
            self._ready.set()
            return
        checkpointer = _Checkpointer(self._path)
        checkpointer.start()
        self._ready.set()
        stopping = False
        while not stopping:
            jobs: list[_Job] = []
            item = self._queue.get()
            while True:
                if item is _STOP:
                    stopping = True
                elif isinstance(item, list):
                    jobs.extend(item)
                else:
                    assert isinstance(item, _Job)
                    jobs.append(item)
                if len(jobs) >= _MAX_GROUP:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if jobs:
                with self._write_turn:
                    self._commit(connection, jobs)
                checkpointer.nudge()
                self.background.nudge()
        self.background.stop()
        self._write_turn.close()
        checkpointer.stop()
        # Leave a small WAL behind: a clean stop folds everything into the database file.
        with contextlib.suppress(sqlite3.Error):
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()

    def _commit(self, connection: sqlite3.Connection, jobs: list[_Job]) -> None:
        try:
            connection.execute("BEGIN")
            results = _insert_group(connection, [job.request for job in jobs])
            if _SLOW_COMMIT_SECONDS:
                threading.Event().wait(_SLOW_COMMIT_SECONDS)
            connection.execute("COMMIT")
        except BaseException as error:
            log.exception("could not commit %d captured requests", len(jobs))
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            self._settle(jobs, [error for _ in jobs])
            return
        self.commits += 1
        self.requests_written += len(jobs)
        committed = [event for _, events in results for event in events]
        for listener in list(self._listeners):
            try:
                listener(committed)
            except Exception:
                log.exception("commit listener %r failed", listener)
        self._settle(jobs, list(results))

    @staticmethod
    def _settle(jobs: list[_Job], results: list[_Result]) -> None:
        # One wake-up per event loop for the whole group, not one per request.
        by_loop: dict[
            asyncio.AbstractEventLoop, list[tuple[asyncio.Future[_Outcome], _Result]]
        ] = {}
        for job, result in zip(jobs, results, strict=True):
            if job.loop is None:
                assert isinstance(job.future, concurrent.futures.Future)
                if isinstance(result, BaseException):
                    job.future.set_exception(result)
                else:
                    job.future.set_result(result)
            else:
                assert isinstance(job.future, asyncio.Future)
                by_loop.setdefault(job.loop, []).append((job.future, result))
        for loop, pairs in by_loop.items():
            # A closed loop raises RuntimeError: nobody is waiting there any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle_on_loop, pairs)


class _Checkpointer:
    """Runs passive WAL checkpoints on its own connection and thread.

    Passive checkpoints never block the writer or readers; they copy what they can. Once a
    checkpoint has copied everything, SQLite restarts the WAL from its beginning at the next
    write, so the file stays bounded under continuous capture.
    """

    #: Checkpoint at least this often while commits keep coming (seconds).
    INTERVAL = 0.5

    def __init__(self, path: Path) -> None:
        self._path = path
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="inspector-checkpoint",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def nudge(self) -> None:
        """A commit happened: a checkpoint is due within INTERVAL."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        connection = open_connection(self._path)
        try:
            while True:
                self._wake.wait()
                if self._stop.is_set():
                    break
                self._wake.clear()
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as error:  # busy or I/O: try again at the next nudge
                    log.warning("WAL checkpoint failed: %s", error)
                # Pace checkpoints; a stop request cuts the pause short.
                if self._stop.wait(self.INTERVAL):
                    break
        finally:
            connection.close()


def _settle_on_loop(pairs: list[tuple[asyncio.Future[_Outcome], _Result]]) -> None:
    for future, result in pairs:
        if future.cancelled():
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)


#: The columns of a request row, and of an event row before its session and request ids.
_REQUEST_COLUMNS = (
    "session_id", "received_at", "method", "path", "query", "remote_addr", "headers", "body",
    "body_size", "http_status", "error_code", "error_message", "write_key", "write_key_source",
    "body_sha256",
)
_request_values = operator.attrgetter(
    "session_id", "received_at", "method", "path", "query", "remote_addr", "headers_json", "body",
    "body_size", "http_status", "error_code", "error_message", "write_key", "write_key_source",
    "body_sha256",
)
_EVENT_COLUMNS = (
    *EVENT_COLUMNS, "session_id", "request_id",
    # indexed = 0: the secondary indexes are built after the commit (store.indexing).
    "indexed",
)
_event_values = operator.attrgetter(*PENDING_FIELDS)
#: Rows per multi-row INSERT, largest first: a group is written with a few statements of these
#: sizes, so SQLite keeps a handful of prepared statements whatever the group's size.
_CHUNK_SIZES = (64, 16, 4, 1)


def _insert_group(
    connection: sqlite3.Connection, requests: list[PendingRequest]
) -> list[tuple[int, list[CommittedEvent]]]:
    """Write a group's requests and events with a few multi-row INSERTs.

    The sqlite3 module releases the GIL around every statement step and must take it back
    after, while the capture loop holds it: one step per row meant one GIL hand-off per event,
    which stalled the loop more than the writing itself. One statement per chunk of rows makes
    that a few per commit.
    """
    last_request_id = _insert_rows(
        connection, "requests", _REQUEST_COLUMNS, [_request_values(r) for r in requests]
    )
    # Rowids of an INTEGER PRIMARY KEY table without AUTOINCREMENT are max(rowid) + 1, and this
    # thread is the only writer inside this transaction, so each INSERT got consecutive ids.
    first_request_id = last_request_id - len(requests) + 1
    forward_rows = [
        request.forward.row(first_request_id + offset, request.session_id, request.received_at)
        for offset, request in enumerate(requests) if request.forward is not None
    ]
    if forward_rows:
        _insert_rows(connection, "forward_queue", _FORWARD_COLUMNS, forward_rows)
    event_rows = [
        (*_event_values(event), request.session_id, first_request_id + offset, 0)
        for offset, request in enumerate(requests)
        for event in request.events
    ]
    if not event_rows:
        return [(first_request_id + offset, []) for offset in range(len(requests))]
    event_id = _insert_rows(connection, "events", _EVENT_COLUMNS, event_rows) - len(event_rows)
    outcomes: list[tuple[int, list[CommittedEvent]]] = []
    for offset, request in enumerate(requests):
        request_id = first_request_id + offset
        committed = []
        for event in request.events:
            event_id += 1
            committed.append(CommittedEvent(event_id, request_id, request.session_id, event))
        outcomes.append((request_id, committed))
    return outcomes


def _insert_rows(
    connection: sqlite3.Connection,
    table: str,
    columns: tuple[str, ...],
    rows: list[tuple[Any, ...]],
) -> int:
    """INSERT ``rows`` (tuples in ``columns`` order); the rowid of the last one."""
    last_id = 0
    position = 0
    for size in _CHUNK_SIZES:
        if position + size > len(rows):
            continue
        sql = _insert_sql(table, columns, size)
        while position + size <= len(rows):
            chunk = rows[position:position + size]
            cursor = connection.execute(sql, list(itertools.chain.from_iterable(chunk)))
            last_id = cursor.lastrowid or 0
            position += size
    return last_id


@functools.lru_cache(maxsize=32)
def _insert_sql(table: str, columns: tuple[str, ...], rows: int) -> str:
    row = "(" + ", ".join("?" * len(columns)) + ")"
    return f"INSERT INTO {table}({', '.join(columns)}) VALUES " + ", ".join([row] * rows)
