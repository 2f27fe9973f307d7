"""Locate files shipped in ``resources/`` (a wheel, an editable checkout or a frozen app)."""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["example_plan_path", "resource_path"]


def resource_path(*parts: str) -> Path:
    """Path of a bundled resource, wherever inspector is installed."""
    candidates = [
        Path(__file__).resolve().parent.parent / "_resources",  # installed wheel
        Path(__file__).resolve().parent.parent.parent / "resources",  # source checkout
    ]
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        candidates.insert(0, Path(frozen) / "resources")
    for base in candidates:
        path = base.joinpath(*parts)
        if path.exists():
            return path
    return candidates[-1].joinpath(*parts)


def example_plan_path() -> Path:
    """The bundled retention tracking plan loaded on first run and by ``--demo``."""
    return resource_path("plans", "retention-example.json")
