"""Fixtures shared by every test. No Qt here: core tests must run without PySide6."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import keyring
import pytest

from inspector.core.capture import CaptureConfig, CaptureService
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
    monkeypatch.delenv("INSPECTOR_DB", raising=False)
    return


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
