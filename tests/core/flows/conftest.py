"""Send a journey over real HTTP and evaluate flows over the stored session."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from segment.analytics import Client

from inspector.core.capture import CaptureService
from inspector.core.flows import FlowResult, load_flow
from inspector.core.flows.session import evaluate_session
from tests.core.audit.conftest import KEYS, Scenario, Traffic


@pytest.fixture
def flow_traffic(capture: CaptureService) -> Callable[..., Any]:
    """``await flow_traffic(scenario, "guest-checkout", ...)``: run a scenario (the audit
    tests' traffic: analytics-python as the backend, analytics.js-shaped browser calls) and
    evaluate the named flows over its session."""
    for key, name in KEYS.items():
        capture.store.name_write_key(key, name)

    async def run(scenario: Scenario, *flows: str, ended: bool = True) -> list[FlowResult]:
        errors: list[Any] = []
        backend = Client("backend-key", host=capture.base_url, sync_mode=True, max_retries=0,
                         on_error=lambda error, batch: errors.append(error))
        await asyncio.get_running_loop().run_in_executor(
            None, scenario, Traffic(capture, backend))
        assert errors == []
        return evaluate_session(capture.store, capture.session.id,
                                [load_flow(name).flow for name in flows], ended=ended)

    return run


def statuses(result: FlowResult) -> dict[str, str]:
    """Each step's status by name."""
    return {step.name: str(step.status) for step in result.steps}
