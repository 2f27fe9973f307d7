"""What the store can hold of a call: JSON orjson can write back out.

orjson reads up to 1,024 levels of nested arrays and objects but writes at most 254, so a call
nested deeper is kept with its deepest values replaced by a note (the raw request keeps them),
and its verdict says so (``checks.nesting_violation``).
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["MAX_STORED_DEPTH", "prune_depth", "storable_json", "value_at"]

#: orjson reads up to 1,024 levels of nested arrays and objects but writes at most 254 (an
#: event object and 253 levels inside it), so an event nested deeper cannot be stored as is.
MAX_STORED_DEPTH = 254


def prune_depth(value: Any, limit: int = MAX_STORED_DEPTH) -> Any:
    """``value`` with every array or object below ``limit`` levels replaced by a short note.

    Only called for the rare event that orjson cannot serialise: the recursion is bounded by
    ``limit``, well inside Python's own limit.
    """
    if not isinstance(value, dict | list):
        return value
    if limit <= 1:
        return f"(nested deeper than {MAX_STORED_DEPTH} levels: see the raw request)"
    if isinstance(value, dict):
        return {key: prune_depth(item, limit - 1) for key, item in value.items()}
    return [prune_depth(item, limit - 1) for item in value]


def storable_json(value: Any) -> tuple[str, Any]:
    """``value`` as JSON, and ``None``; or, when it is nested too deeply for orjson to write,
    the JSON of a copy with the deepest values replaced, and that copy."""
    try:
        return orjson.dumps(value).decode(), None
    except orjson.JSONEncodeError:
        pruned = prune_depth(value)
        return orjson.dumps(pruned).decode(), pruned


def value_at(payload: Any, field: str) -> Any:
    """The value at a dotted path (as far as it exists)."""
    value = payload
    for part in field.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value
