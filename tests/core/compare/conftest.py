"""Fixtures of the comparison tests (the traffic itself is in tests/support)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from inspector.core.store import SessionInfo
from tests.support.compare_traffic import Scenario, capture_into, regressed_db

__all__ = ["regressed_db"]


@pytest.fixture
def capture_session(db_path: Path) -> Callable[[str, Scenario], Awaitable[SessionInfo]]:
    """``await capture_session(name, scenario)``: a session of that name in ``db_path``."""

    async def capture(name: str, scenario: Scenario) -> SessionInfo:
        return await capture_into(db_path, name, scenario)

    return capture
