"""A tracking plan for GUI tests, validated by the capture child like any real plan."""

from __future__ import annotations

from pathlib import Path

import orjson


def write_plan(path: Path) -> Path:
    """The bundled example plan (it flags exactly the demo's planted mistakes) plus one
    planned event the demo never sends, as a file the capture child loads."""
    from inspector.core.resources import example_plan_path

    plan = orjson.loads(example_plan_path().read_bytes())
    plan["rules"].append({"key": "Cart Viewed", "type": "TRACK", "version": 1,
                          "jsonSchema": {"type": "object"}})
    path.write_bytes(orjson.dumps(plan))
    return path
