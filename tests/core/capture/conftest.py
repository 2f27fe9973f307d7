"""Fixtures shared by the capture tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from inspector.core.resources import example_plan_path


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    """A copy of the bundled example plan, free to edit."""
    path = tmp_path / "plan.json"
    shutil.copy(example_plan_path(), path)
    return path
