"""Tiny widget helpers."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import QObject

__all__ = ["named"]

_T = TypeVar("_T", bound=QObject)


def named(obj: _T, name: str, **properties: object) -> _T:
    """Set ``obj``'s objectName (and Qt properties, which PySide's stubs do not type as
    constructor keywords), returning it."""
    obj.setObjectName(name)
    for key, value in properties.items():
        obj.setProperty(key, value)
    return obj
