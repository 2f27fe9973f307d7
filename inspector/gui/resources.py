"""Find the bundled resources: in a wheel, an editable checkout, or a PyInstaller bundle."""

from __future__ import annotations

import contextlib
import sys
from importlib import resources
from pathlib import Path

__all__ = ["example_plan_path", "resources_dir"]


def resources_dir() -> Path | None:
    """The ``resources`` folder, wherever this installation keeps it."""
    candidates: list[Path] = []
    with contextlib.suppress(ModuleNotFoundError, TypeError):
        candidates.append(Path(str(resources.files("inspector") / "_resources")))
    candidates.append(Path(__file__).resolve().parents[2] / "resources")
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / "resources")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None


def example_plan_path() -> Path | None:
    """The bundled example tracking plan, if this build has it."""
    base = resources_dir()
    if base is None:
        return None
    path = base / "plans" / "retention-example.json"
    return path if path.is_file() else None
