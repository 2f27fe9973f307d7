"""Where inspector keeps its files, per platform (via platformdirs)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

__all__ = ["database_problem", "default_db_path", "user_data_dir", "user_log_dir"]

_APP = "inspector"


def user_data_dir() -> Path:
    """The per-user data folder (``~/.local/share/inspector`` on Linux)."""
    return platformdirs.user_data_path(_APP, appauthor=False)


def user_log_dir() -> Path:
    """The per-user log folder (``~/.local/state/inspector/log`` on Linux, ``~/Library/Logs/
    inspector`` on macOS, ``%LOCALAPPDATA%\\inspector\\Logs`` on Windows)."""
    return platformdirs.user_log_path(_APP, appauthor=False)


def default_db_path() -> Path:
    """The capture database, unless ``--db`` or ``INSPECTOR_DB`` says otherwise."""
    override = os.environ.get("INSPECTOR_DB")
    return Path(override) if override else user_data_dir() / "captures.sqlite3"


def database_problem(path: Path, error: BaseException | None = None) -> str:
    """Why the database at ``path`` cannot be opened or created, in words that name the
    culprit (a parent that is a file, a folder without write permission), else ``error``'s
    own text. SQLite alone says only "unable to open database file"."""
    path = Path(path)
    if path.is_dir():
        return f"{path} is a folder, not a database file"
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if ancestor.exists() and not ancestor.is_dir():
        return f"{ancestor} is a file, so no folder can be made inside it"
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            return f"no permission to read and write {path}"
    elif ancestor.is_dir() and not os.access(ancestor, os.W_OK | os.X_OK):
        return f"no permission to create files in {ancestor}"
    if error is not None:
        reason = getattr(error, "strerror", None) or str(error)
        return f"{reason} ({path})"
    return f"cannot open {path}"
