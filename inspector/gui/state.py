"""UI state in QSettings: geometry, dock and header layout, recent plans, saved filters.

Geometry and state blobs are keyed with the Qt version: restoring a blob saved by another Qt
can crash or misplace the window. Lists and dicts are stored as JSON strings because QSettings
round-trips empty lists and bools unreliably across backends.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, qVersion

__all__ = ["UiState"]

_MAX_RECENT = 8


def _versioned(key: str) -> str:
    return f"{key}/qt{qVersion()}"


class UiState:
    """Typed access to the window's persisted state."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self.settings = settings if settings is not None else QSettings()

    # ---- blobs

    def blob(self, key: str) -> QByteArray | None:
        """A geometry/state blob saved with this Qt version."""
        value = self.settings.value(_versioned(key))
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_blob(self, key: str, value: QByteArray) -> None:
        """Save a geometry/state blob under this Qt version."""
        self.settings.setValue(_versioned(key), value)

    # ---- JSON values

    def _json(self, key: str, default: Any) -> Any:
        raw = self.settings.value(key)
        if not isinstance(raw, str):
            return default
        try:
            return json.loads(raw)
        except ValueError:
            return default

    def _set_json(self, key: str, value: Any) -> None:
        self.settings.setValue(key, json.dumps(value))

    def recent_plans(self) -> list[str]:
        """Recently loaded plan files, newest first."""
        value = self._json("plans/recent", [])
        return [str(item) for item in value] if isinstance(value, list) else []

    def add_recent_plan(self, path: str) -> list[str]:
        """Put ``path`` first in the recent plans."""
        recent = [path, *(item for item in self.recent_plans() if item != path)][:_MAX_RECENT]
        self._set_json("plans/recent", recent)
        return recent

    def saved_filters(self) -> dict[str, dict[str, str]]:
        """Named filters."""
        value = self._json("filters/saved", {})
        return value if isinstance(value, dict) else {}

    def set_saved_filters(self, filters: dict[str, dict[str, str]]) -> None:
        """Replace the named filters."""
        self._set_json("filters/saved", filters)

    def flag(self, key: str, default: bool = False) -> bool:
        """A bool (stored as JSON, since some backends give bools back as strings)."""
        value = self._json(key, default)
        return value if isinstance(value, bool) else default

    def set_flag(self, key: str, value: bool) -> None:
        """Store a bool."""
        self._set_json(key, value)

    def integer(self, key: str, default: int) -> int:
        """An int."""
        value = self._json(key, default)
        return value if isinstance(value, int) and not isinstance(value, bool) else default

    def set_integer(self, key: str, value: int) -> None:
        """Store an int."""
        self._set_json(key, value)

    def sync(self) -> None:
        """Write to disk now."""
        self.settings.sync()
