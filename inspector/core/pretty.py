"""Pretty JSON text that remembers which lines each field occupies (Qt-free).

The detail pane highlights offending fields in the pretty text; for that it needs, for a
violation's dotted field path, the lines to colour. ``json.dumps(indent=2)`` cannot say, so this
writes the same layout itself and records a line span per path.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

__all__ = ["PrettyJson", "field_path", "pretty_json"]

Path = tuple[str, ...]

_BRACKET = re.compile(r"\[(\d+)\]")


def field_path(field: str) -> Path:
    """A violation's field as a path: ``properties.items.1.price``, ``items[1].price`` or a JSON
    pointer ``/properties/items/1/price`` all become ``("properties", "items", "1", "price")``."""
    if not field:
        return ()
    if field.startswith("/"):
        parts = field[1:].split("/")
        return tuple(part.replace("~1", "/").replace("~0", "~") for part in parts)
    return tuple(part for part in _BRACKET.sub(r".\1", field).split(".") if part)


class PrettyJson:
    """Indented JSON text plus the ``(first, last)`` line of every path in it."""

    def __init__(self, text: str, spans: dict[Path, tuple[int, int]]) -> None:
        self.text = text
        self.spans = spans

    def span_for(self, field: str) -> tuple[int, int] | None:
        """Lines to highlight for ``field``; for a missing field, its parent's opening line."""
        path = field_path(field)
        while path:
            span = self.spans.get(path)
            if span is not None:
                return span
            path = path[:-1]
            parent = self.spans.get(path)
            if parent is not None:
                return (parent[0], parent[0])
        return None


def _scalar(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return orjson.dumps(str(value)).decode()


def pretty_json(value: Any, indent: int = 2) -> PrettyJson:
    """Lay ``value`` out like ``json.dumps(value, indent=indent)``, recording line spans."""
    lines: list[str] = []
    spans: dict[Path, tuple[int, int]] = {}

    def emit(node: Any, path: Path, prefix: str, suffix: str, depth: int) -> None:
        pad = " " * (indent * depth)
        first = len(lines)
        if isinstance(node, dict) and node:
            lines.append(f"{pad}{prefix}{{")
            items = list(node.items())
            for position, (key, child) in enumerate(items):
                comma = "," if position < len(items) - 1 else ""
                emit(child, (*path, str(key)), f"{_scalar(str(key))}: ", comma, depth + 1)
            lines.append(f"{pad}}}{suffix}")
        elif isinstance(node, list) and node:
            lines.append(f"{pad}{prefix}[")
            for position, child in enumerate(node):
                comma = "," if position < len(node) - 1 else ""
                emit(child, (*path, str(position)), "", comma, depth + 1)
            lines.append(f"{pad}]{suffix}")
        elif isinstance(node, dict):
            lines.append(f"{pad}{prefix}{{}}{suffix}")
        elif isinstance(node, list):
            lines.append(f"{pad}{prefix}[]{suffix}")
        else:
            lines.append(f"{pad}{prefix}{_scalar(node)}{suffix}")
        spans[path] = (first, len(lines) - 1)

    emit(value, (), "", "", 0)
    return PrettyJson("\n".join(lines), spans)
