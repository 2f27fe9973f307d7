"""Shared fixtures for the tracking-plan tests (plans come from tests/fixtures/plans only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from inspector.core.plan import PlanValidator, TrackingPlan, compile_plan, read_plan

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "plans"
EXAMPLE = Path(__file__).resolve().parents[3] / "resources" / "plans" / "retention-example.json"


@pytest.fixture
def raw_plan() -> TrackingPlan:
    return read_plan(FIXTURES / "public-api-raw.json")


@pytest.fixture
def validator(raw_plan: TrackingPlan) -> PlanValidator:
    return PlanValidator(compile_plan(raw_plan))


def track(event: str, properties: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A minimal valid-looking track call."""
    return {"type": "track", "event": event, "userId": "u1", "messageId": "m1",
            "properties": properties or {}, **extra}


