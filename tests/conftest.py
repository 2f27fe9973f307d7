"""Fixtures shared by every test. No Qt here: core tests must run without PySide6."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import keyring
import pytest

from inspector.core.capture import CaptureConfig, CaptureService
from tests.support.fds import can_count_fds, open_fds
from tests.support.keyring import MemoryKeyring


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory,
                          monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Never read or write the developer's own data folder, database or keyring."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))  # the log folder
    monkeypatch.delenv("INSPECTOR_DB", raising=False)
    # The catch-up workers on threads of each writer's process: a child process per writer
    # would cost the suite more than it saves. tests/core/test_derive_process.py (and tests
    # that pass background="process") run them in their own process, as `serve` does;
    # INSPECTOR_TEST_BACKGROUND=process runs the whole suite that way.
    monkeypatch.setenv("INSPECTOR_BACKGROUND",
                       os.environ.get("INSPECTOR_TEST_BACKGROUND", "thread"))
    return


#: How long threads that were told to stop may take to end before they count as leaked.
THREAD_GRACE_SECONDS = 5.0


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves a thread running: every worker it starts must be stopped and
    joined by the time it ends (a window closed, a service stopped). Threads that are ending
    get a short grace, waited for with ``join``, never a sleep."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + THREAD_GRACE_SECONDS
    leaked = []
    for thread in threading.enumerate():
        if thread in before or thread is threading.current_thread():
            continue
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            leaked.append(thread.name)
    if leaked:
        pytest.fail(f"the test leaked running threads: {', '.join(sorted(leaked))}")


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Credentials go to a dict for the length of a test, never the developer's keyring."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh capture database path."""
    return tmp_path / "captures.sqlite3"


@pytest.fixture
async def capture(db_path: Path) -> AsyncIterator[CaptureService]:
    """A running capture service on a free port, stopped after the test."""
    service = CaptureService(CaptureConfig(port=0, db_path=db_path, session_name="test"))
    await service.start()
    try:
        yield service
    finally:
        await service.stop()
    if can_count_fds():
        # Every connection it opened, on whichever thread, closed with it.
        left_open = open_fds(db_path)
        assert left_open == [], f"the stopped capture service left files open: {left_open}"
