"""Wording helpers shared by the checks' messages (one sentence a marketer understands)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

__all__ = ["clock", "join_names", "plural", "quoted"]

#: Values longer than this are shortened in messages (the finding's data keeps them whole).
_MAX_QUOTED = 60


def quoted(value: object) -> str:
    """A value as a message shows it: strings in quotes, long ones shortened."""
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    if len(text) > _MAX_QUOTED:
        text = text[: _MAX_QUOTED - 1] + "…"
    return text


def plural(count: int, noun: str) -> str:
    """``1 event``, ``2 events``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def join_names(names: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = list(names)
    if not items:
        return "no one"
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def clock(epoch: float) -> str:
    """A receipt time as ``HH:MM:SS`` in local time."""
    return datetime.fromtimestamp(epoch).strftime("%H:%M:%S")
