"""Closing a store closes every thread's SQLite connection (inspector.core.store.connection)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from inspector.core.store import EventStore
from inspector.core.store.connection import Database, DatabaseClosedError
from tests.support.fds import needs_proc_fd, open_fds

pytestmark = needs_proc_fd

#: How many threads read the store at once.
THREADS = 6


@pytest.fixture
def no_gc() -> Iterator[None]:
    """Connections must close on their own, not when a cyclic collection finds them."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _read_on_every_thread(pool: ThreadPoolExecutor, store: EventStore) -> None:
    """One read on each of the pool's threads (the barrier keeps one thread from taking two)."""
    barrier = threading.Barrier(THREADS)

    def read(_: int) -> str:
        barrier.wait()
        store.list_sessions()
        return threading.current_thread().name

    assert len(set(pool.map(read, range(THREADS)))) == THREADS


def test_close_closes_the_connections_of_threads_still_running(db_path: Path) -> None:
    store = EventStore(db_path)
    store.create_session("s")
    with ThreadPoolExecutor(THREADS) as pool:
        _read_on_every_thread(pool, store)
        assert len(open_fds(db_path)) > THREADS  # one connection per thread, and the caller's
        store.close()  # from the main thread, while the pool's threads are alive
        assert open_fds(db_path) == []
        # A closed store stays closed on every thread, those that had a connection too: no
        # connection is opened again.
        with pytest.raises(DatabaseClosedError, match="is closed"):
            pool.submit(store.list_sessions).result()
        with pytest.raises(DatabaseClosedError, match="is closed"):
            store.create_session("after")
        assert open_fds(db_path) == []
    store.close()  # closing twice is harmless


def test_close_lets_a_write_in_progress_commit(db_path: Path) -> None:
    db = Database(db_path)
    writing, release = threading.Event(), threading.Event()

    def write() -> None:
        with db.transaction() as connection:
            connection.execute("INSERT INTO sessions(name, created_at) VALUES ('kept', 0)")
            writing.set()
            release.wait()

    with ThreadPoolExecutor(2) as pool:
        writer = pool.submit(write)
        writing.wait()
        closer = pool.submit(db.close)
        try:
            # No event says "close() is waiting": give it a moment to close too early instead.
            with pytest.raises(TimeoutError):
                closer.result(timeout=0.2)
        finally:
            release.set()  # never leave the writer waiting (the pool joins it)
        writer.result()  # the COMMIT ran on an open connection
        closer.result()
    assert open_fds(db_path) == []
    store = EventStore(db_path)
    assert [s.name for s in store.list_sessions()] == ["kept"]
    store.close()


def test_a_thread_that_ends_closes_its_connection(db_path: Path, no_gc: None) -> None:
    store = EventStore(db_path)
    held_by_this_thread = len(open_fds(db_path))
    for _ in range(THREADS):  # one after another, each ending before the next starts
        thread = threading.Thread(target=store.list_sessions)
        thread.start()
        thread.join()
    # SQLite keeps one closed connection's descriptor for the next open while another
    # connection holds a lock on the file (closing it would drop that lock: POSIX locks are
    # per process): so one more than this thread's, never one per thread that ran.
    assert len(open_fds(db_path)) <= held_by_this_thread + 1
    store.close()
    assert open_fds(db_path) == []


def test_a_store_dropped_unclosed_closes_its_connections(db_path: Path, no_gc: None) -> None:
    store = EventStore(db_path)
    with ThreadPoolExecutor(THREADS) as pool:
        _read_on_every_thread(pool, store)
        del store
        assert open_fds(db_path) == []
