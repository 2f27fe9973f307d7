"""Durations as people write them in rule files: ``90s``, ``30m``, ``24h``, ``1d``, ``1h30m``."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator

__all__ = ["Duration", "parse_duration"]

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: object) -> float:
    """Seconds in ``value``: a number (seconds) or text like ``1h30m``; raises ``ValueError``."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or text like 30m, 24h, 7d")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        position, seconds = 0, 0.0
        for part in _PART.finditer(text):
            if text[position:part.start()].strip():
                break
            seconds += float(part.group(1)) * _SECONDS[part.group(2)]
            position = part.end()
        if not text or position != len(text.rstrip()) or text[position:].strip():
            raise ValueError(f"{value!r} is not a duration (write 90s, 30m, 24h, 7d or 1h30m)")
    else:
        raise ValueError("a duration is a number of seconds or text like 30m, 24h, 7d")
    if seconds <= 0:
        raise ValueError(f"{value!r}: a duration must be longer than zero")
    return seconds


#: A pydantic field type: accepts ``24h`` or ``86400`` and holds seconds.
Duration = Annotated[float, BeforeValidator(parse_duration)]
