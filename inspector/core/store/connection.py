"""SQLite connections as every part of inspector opens them, one per thread.

The event store, corrections and replay runs each own their tables but share one database
file; :class:`Database` gives each of them per-thread connections (sqlite3 connections are not
meant to be used from two threads at once) and short ``BEGIN IMMEDIATE`` write transactions.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from inspector.core.store.schema import migrate

__all__ = ["FOLD_FUNCTION", "MMAP_BYTES", "Database", "DatabaseClosedError", "fold",
           "immediate_transaction", "open_connection", "read_snapshot"]

#: How much of the database file each connection may read through a memory map.
MMAP_BYTES = 1 << 40

#: The SQL name of :func:`fold`, which every connection registers.
FOLD_FUNCTION = "inspector_fold"


def fold(text: str | None) -> str | None:
    """``text`` with case folded away (Unicode ``casefold``), as free-text searches compare it
    (see :mod:`inspector.core.store.search`)."""
    return text.casefold() if type(text) is str else text


def open_connection(path: Path, *, durable: bool = False) -> sqlite3.Connection:
    """Open a connection configured the way every part of inspector expects.

    WAL with ``synchronous=NORMAL`` survives a crash of the process (``kill -9``): a committed
    transaction is in the WAL file, which the next open replays. Only a power cut or OS crash can
    lose the last commits; ``durable=True`` (``synchronous=FULL``) closes that gap too, at the
    price of an fsync per commit.
    """
    connection = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=30.0
    )
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute("PRAGMA busy_timeout=30000")
    # 32 MB of page cache: the nine event indexes stay in memory under sustained capture.
    connection.execute("PRAGMA cache_size=-32000")
    # Searches compare Unicode-case-folded text (SQLite's lower() folds A-Z only).
    connection.create_function(FOLD_FUNCTION, 1, fold, deterministic=True)
    return connection


@contextmanager
def immediate_transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction that takes the lock up front (``BEGIN IMMEDIATE``), so what it reads
    and what it writes come from one state; rolled back if the block raises."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


@contextmanager
def read_snapshot(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run the block's statements on one snapshot of the database (a deferred transaction).

    In autocommit mode each statement sees the latest commit; inside this block they all see the
    same one, so that what one statement read (which index tables exist, how far the index got)
    still describes the rows the next one reads. Inside a transaction already, that transaction
    is the snapshot.
    """
    if connection.in_transaction:
        yield connection
        return
    connection.execute("BEGIN")
    try:
        yield connection
    finally:
        if connection.in_transaction:
            connection.execute("COMMIT")  # nothing was written: ends the read, keeps nothing


class DatabaseClosedError(sqlite3.ProgrammingError):
    """Raised on any use of a :class:`Database` after :meth:`Database.close`."""


class _ThreadConnection:
    """One thread's connection, held only by that thread's ``threading.local`` slot, so that
    it is released (and its connection closed, by a finalizer) when the thread ends.

    Without this a dead thread's connection would stay open until a cyclic garbage collection
    (a Python 3.11 connection sits in a reference cycle with its statement cache), holding its
    file descriptors for the database and its WAL file meanwhile."""

    __slots__ = ("__weakref__", "connection")

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection


class Database:
    """Per-thread connections to one inspector database, migrated on first open.

    :meth:`close` closes every thread's connection, not only the caller's. After it, any use of
    the database from any thread raises :class:`DatabaseClosedError` (it never reopens
    silently); a statement another thread is running at that moment fails with sqlite3's own
    "closed database" error. So stop the threads that read (the server, the workers) first.
    A thread's connection also closes when the thread ends.
    """

    def __init__(self, path: Path | str, *, durable: bool = False) -> None:
        self.path = Path(path)
        self.durable = durable
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._lock = threading.Lock()
        # Every open connection, whichever thread opened it, so close() can reach them all;
        # guarded by its own lock (``_lock`` is held through whole write transactions),
        # re-entrant because a finalizer (_forget) may run inside it on the same thread.
        self._open: set[sqlite3.Connection] = set()
        self._open_lock = threading.RLock()
        self._closed = False
        with self._lock:
            # migrate() brings its own transaction per step.
            migrate(self.connection())

    def connection(self) -> sqlite3.Connection:
        """This thread's connection; raises :class:`DatabaseClosedError` after :meth:`close`."""
        if self._closed:
            raise self._closed_error()
        held: _ThreadConnection | None = getattr(self._local, "held", None)
        if held is not None:
            return held.connection
        connection = open_connection(self.path, durable=self.durable)
        # The stores' reads (the API, the CLI, the window) go through the file mapped in
        # memory (SQLite caps the map at its build's maximum, 2 GB on Debian's): a filter
        # reading every eighth row of a million (event= beside a field. test) touches
        # nearly every page, and reaching those rows through read() calls into the OS
        # cache took 0.35 s where the map takes 0.1 s (bench/field_query.py). The map
        # allocates nothing (its pages are the OS's file cache). The capture writer and
        # the background workers open their own connections, unmapped as before.
        connection.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
        with self._open_lock:
            if self._closed:  # close() ran while this one was opening
                connection.close()
                raise self._closed_error()
            self._open.add(connection)
        held = _ThreadConnection(connection)
        # The finalizer holds the set and its lock, not this Database, so that a Database
        # dropped without close() is still freed (and its connections closed with it).
        finalizer = weakref.finalize(held, _forget, self._open, self._open_lock, connection)
        finalizer.atexit = False  # at exit, daemon threads may still be reading: leave them
        self._local.held = held
        return connection

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A short write transaction on this thread's connection."""
        with self._lock, immediate_transaction(self.connection()) as connection:
            yield connection

    def close(self) -> None:
        """Close every thread's connection; any later use raises :class:`DatabaseClosedError`.

        Waits for a write transaction in progress (:meth:`transaction`) to commit first, so
        closing never rolls one back. Closing again does nothing."""
        with self._lock, self._open_lock:
            self._closed = True
            connections = list(self._open)
            self._open.clear()
        for connection in connections:
            connection.close()

    def _closed_error(self) -> DatabaseClosedError:
        return DatabaseClosedError(f"the database {self.path} is closed")


def _forget(open_connections: set[sqlite3.Connection], lock: threading.RLock,
            connection: sqlite3.Connection) -> None:
    """Close a connection whose thread has ended (or whose :class:`Database` was dropped)."""
    with lock:
        open_connections.discard(connection)
    connection.close()
