"""A structural JSON diff between an original event and its correction.

Paths are dotted the way Segment writes them (``properties.items.1.price``), the same form the
validator uses for :class:`~inspector.core.model.Violation` fields, so the GUI can line a diff
entry up with the violation it fixes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["DiffEntry", "DiffOp", "json_diff"]

_MISSING: Any = object()


class DiffOp(StrEnum):
    """What happened at one path."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True, slots=True)
class DiffEntry:
    """One difference: the path, the kind of change and the values on each side."""

    op: DiffOp
    path: str
    old: Any = None
    new: Any = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``old`` is left out for additions, ``new`` for removals)."""
        data: dict[str, Any] = {"op": str(self.op), "path": self.path}
        if self.op is not DiffOp.ADDED:
            data["old"] = self.old
        if self.op is not DiffOp.REMOVED:
            data["new"] = self.new
        return data


def json_diff(old: Any, new: Any) -> list[DiffEntry]:
    """Every difference between two JSON values, depth first, in key order of each side.

    Objects are compared key by key and arrays index by index; a change of type (``"12"`` to
    ``12``) is a ``changed`` entry at that path, which is what a type coercion looks like.
    """
    entries: list[DiffEntry] = []
    _walk(old, new, "", entries)
    return entries


def _join(prefix: str, key: object) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def _same(a: Any, b: Any) -> bool:
    # 1 == 1.0 == True in Python, but not in JSON: a coercion from "1" to true must show.
    return type(a) is type(b) and a == b


def _walk(old: Any, new: Any, path: str, out: list[DiffEntry]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key, value in old.items():
            if key in new:
                _walk(value, new[key], _join(path, key), out)
            else:
                out.append(DiffEntry(DiffOp.REMOVED, _join(path, key), old=value))
        for key, value in new.items():
            if key not in old:
                out.append(DiffEntry(DiffOp.ADDED, _join(path, key), new=value))
        return
    if isinstance(old, list) and isinstance(new, list):
        for index in range(max(len(old), len(new))):
            child = _join(path, index)
            if index >= len(new):
                out.append(DiffEntry(DiffOp.REMOVED, child, old=old[index]))
            elif index >= len(old):
                out.append(DiffEntry(DiffOp.ADDED, child, new=new[index]))
            else:
                _walk(old[index], new[index], child, out)
        return
    if not _same(old, new):
        out.append(DiffEntry(DiffOp.CHANGED, path, old=old, new=new))
