"""Send planted-fault traffic over real HTTP and audit the stored session."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from segment.analytics import Client

from inspector.core.audit import AuditConfig, Finding
from inspector.core.audit.session import AuditResult, audit_session
from inspector.core.capture import CaptureService

#: Write keys and the names the session gives them (the audit's "sources").
KEYS = {"web-key": "web", "backend-key": "backend", "ios-key": "ios", "quiz-key": "quiz tool"}


@dataclass
class Traffic:
    """Calls from several sources, in order: a backend on analytics-python (sync mode, so
    arrival order is call order) and browser / app calls shaped as their libraries send them."""

    service: CaptureService
    backend: Client

    def _raw(self, path: str, call: dict[str, Any], library: str, key: str, *,
             batch: bool = False) -> str:
        message_id = f"{library}-{uuid.uuid4().hex}"
        call = {"messageId": message_id,
                "context": {"library": {"name": library, "version": "1.0"},
                            **call.pop("context", {})},
                **call}
        body = {"batch": [call], "writeKey": key} if batch else {**call, "writeKey": key}
        response = httpx.post(self.service.base_url + path, json=body, timeout=10)
        response.raise_for_status()
        return message_id

    def web(self, type_: str, *, key: str = "web-key", **body: Any) -> str:
        """A call as analytics.js (analytics-next) sends it, one request per call."""
        return self._raw(f"/v1/{type_[0]}", {"type": type_, **body}, "analytics.js", key)

    def ios(self, type_: str, *, key: str = "ios-key", **body: Any) -> str:
        """A call as analytics-ios sends it."""
        return self._raw("/v1/batch", {"type": type_, **body}, "analytics-ios", key,
                         batch=True)

    def backend_with(self, key: str) -> Client:
        """Another analytics-python backend (sync mode) sending with ``key``."""
        return Client(key, host=self.service.base_url, sync_mode=True, max_retries=0)

    def quiz(self, type_: str, **body: Any) -> str:
        """A third-party tool posting by hand with a library name of its own."""
        return self._raw(f"/v1/{type_}", {"type": type_, **body}, "quizzly-sync", "quiz-key")


Scenario = Callable[[Traffic], None]


@pytest.fixture
def audit_traffic(capture: CaptureService) -> Callable[..., Any]:
    """``await audit_traffic(scenario, config=None)``: run a scenario, audit its session."""
    for key, name in KEYS.items():
        capture.store.name_write_key(key, name)

    async def run(scenario: Scenario, config: AuditConfig | None = None) -> AuditResult:
        errors: list[Any] = []
        backend = Client("backend-key", host=capture.base_url, sync_mode=True, max_retries=0,
                         on_error=lambda error, batch: errors.append(error))
        traffic = Traffic(capture, backend)
        await asyncio.get_running_loop().run_in_executor(None, scenario, traffic)
        assert errors == []
        return audit_session(capture.store, capture.session.id, config)

    return run


def only(result: AuditResult, check: str) -> list[Finding]:
    """The findings of one check."""
    return [finding for finding in result.findings if finding.check == check]


def checks_found(result: AuditResult) -> set[str]:
    """The ids of the checks that found something."""
    return {finding.check for finding in result.findings}
