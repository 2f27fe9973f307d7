"""Shared fixtures for the tracking-plan tests (plans come from tests/fixtures/plans only)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend

from inspector.core.plan import PlanValidator, TrackingPlan

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "plans"
EXAMPLE = Path(__file__).resolve().parents[3] / "resources" / "plans" / "retention-example.json"


@pytest.fixture
def raw_plan() -> TrackingPlan:
    return TrackingPlan.load(FIXTURES / "public-api-raw.json")


@pytest.fixture
def validator(raw_plan: TrackingPlan) -> PlanValidator:
    return PlanValidator(raw_plan)


def track(event: str, properties: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A minimal valid-looking track call."""
    return {"type": "track", "event": event, "userId": "u1", "messageId": "m1",
            "properties": properties or {}, **extra}


class MemoryKeyring(KeyringBackend):
    """A keyring that lives in a dict, so tests never touch the developer's real keyring."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
