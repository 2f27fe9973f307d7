"""Why a database path cannot be used, in words that name the culprit."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from inspector.core.paths import database_problem
from inspector.core.store import EventStore


def test_a_parent_that_is_a_file_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "plain-file"
    blocker.write_text("")
    assert database_problem(blocker / "deeper" / "db.sqlite3") == (
        f"{blocker} is a file, so no folder can be made inside it")


def test_a_folder_in_place_of_the_file_is_named(tmp_path: Path) -> None:
    assert database_problem(tmp_path) == f"{tmp_path} is a folder, not a database file"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_folder_without_write_permission_is_named(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises((OSError, sqlite3.Error)) as raised:
            EventStore(locked / "db.sqlite3")
        assert database_problem(locked / "db.sqlite3", raised.value) == (
            f"no permission to create files in {locked}")
    finally:
        locked.chmod(0o700)


def test_otherwise_the_error_is_kept_with_the_path(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    assert database_problem(path, sqlite3.OperationalError("disk I/O error")) == (
        f"disk I/O error ({path})")
