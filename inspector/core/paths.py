"""Where inspector keeps its files, per platform (via platformdirs)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

__all__ = ["default_db_path", "user_data_dir"]

_APP = "inspector"


def user_data_dir() -> Path:
    """The per-user data folder (``~/.local/share/inspector`` on Linux)."""
    return platformdirs.user_data_path(_APP, appauthor=False)


def default_db_path() -> Path:
    """The capture database, unless ``--db`` or ``INSPECTOR_DB`` says otherwise."""
    override = os.environ.get("INSPECTOR_DB")
    return Path(override) if override else user_data_dir() / "captures.sqlite3"
