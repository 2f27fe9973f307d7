"""Capture sessions over real HTTP for the comparison tests: a backend on analytics-python
(sync mode, so arrival order is call order) and browser calls shaped as analytics.js sends
them, one raw request per call."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from segment.analytics import Client

from inspector.core.capture import CaptureConfig, CaptureService
from inspector.core.store import SessionInfo
from tests.support.capture import running


@dataclass
class Traffic:
    """Sends calls to one running capture."""

    service: CaptureService
    backend: Client
    message_ids: list[str] = field(default_factory=list)

    def web(self, type_: str, **body: Any) -> str:
        """A call as analytics.js (analytics-next) sends it."""
        message_id = f"ajs-next-{uuid.uuid4().hex}"
        call = {"type": type_, "messageId": message_id, "writeKey": "web-key",
                "timestamp": "2026-11-29T10:00:00.000Z", "sentAt": "2026-11-29T10:00:00.050Z",
                "context": {"library": {"name": "analytics.js", "version": "npm:next-1.84.1"},
                            "page": {"path": "/p/mug", "url": "https://shop.test/p/mug",
                                     "title": "Mug"},
                            "userAgent": f"Mozilla/5.0 {uuid.uuid4().hex[:6]}"},
                **body}
        response = httpx.post(f"{self.service.base_url}/v1/{type_[0]}", json=call, timeout=10)
        response.raise_for_status()
        self.message_ids.append(message_id)
        return message_id


Scenario = Callable[[Traffic], None]


async def capture_into(db_path: Path, name: str, scenario: Scenario) -> SessionInfo:
    """A session called ``name`` in ``db_path``, captured over HTTP from what ``scenario``
    sends."""
    config = CaptureConfig(port=0, db_path=db_path, session_name=name)
    async with running(config) as service:
        errors: list[Any] = []
        backend = Client("backend-key", host=service.base_url, sync_mode=True,
                         max_retries=0, on_error=lambda error, batch: errors.append(error))
        traffic = Traffic(service, backend)
        await asyncio.get_running_loop().run_in_executor(None, scenario, traffic)
        assert errors == []
        session = service.session
    return session


@pytest.fixture
def capture_session(db_path: Path) -> Callable[[str, Scenario], Awaitable[SessionInfo]]:
    """``await capture_session(name, scenario)``: a session of that name in ``db_path``."""

    async def capture(name: str, scenario: Scenario) -> SessionInfo:
        return await capture_into(db_path, name, scenario)

    return capture


@pytest.fixture(scope="package")
def regressed_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with "production" (the baseline flow) and "staging" (the regressed flow),
    captured once for the package's tests (read-only for them)."""
    from tests.core.compare.scenarios import baseline_flow, regressed_flow

    path = tmp_path_factory.mktemp("regressed") / "captures.sqlite3"

    async def both() -> None:
        await capture_into(path, "production", baseline_flow)
        await capture_into(path, "staging", regressed_flow)

    asyncio.run(both())
    return path
