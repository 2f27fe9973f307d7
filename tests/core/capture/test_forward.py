"""--forward: every request also goes upstream; the capture never depends on the upstream."""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest
from aiohttp import web

from inspector.core.capture import CaptureConfig, CaptureService
from tests.support.segment_calls import track


class Upstream:
    """A stand-in for api.segment.io that records what it receives."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.received: asyncio.Queue[tuple[str, dict[str, str], bytes]] = asyncio.Queue()

    async def handle(self, request: web.Request) -> web.Response:
        await self.received.put((request.path, dict(request.headers), await request.read()))
        return web.json_response({"success": self.status == 200}, status=self.status)


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[Upstream, str]]:
    recorder = Upstream(200)
    app = web.Application()
    app.router.add_post("/{tail:.*}", recorder.handle)
    runner = web.AppRunner(app, auto_decompress=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield recorder, f"http://127.0.0.1:{port}"
    await runner.cleanup()


def forward_outcomes(service: CaptureService) -> asyncio.Queue[tuple[int, int | None, str | None]]:
    """The forwards' outcomes, as the service records them (after the client's 200)."""
    outcomes: asyncio.Queue[tuple[int, int | None, str | None]] = asyncio.Queue()
    assert service.forwarder is not None
    service.forwarder.listeners.append(lambda *outcome: outcomes.put_nowait(outcome))
    return outcomes


async def forwarded_status(service: CaptureService,
                           outcomes: asyncio.Queue[tuple[int, int | None, str | None]],
                           ) -> tuple[int | None, str | None]:
    request_id, _, _ = await asyncio.wait_for(outcomes.get(), timeout=20)
    raw = service.store.get_request(request_id)
    assert raw is not None
    return raw["forward_status"], raw["forward_error"]


async def test_requests_are_forwarded_byte_for_byte(upstream: tuple[Upstream, str],
                                                    db_path: Path) -> None:
    recorder, url = upstream
    service = CaptureService(CaptureConfig(port=0, db_path=db_path, forward_url=url))
    await service.start()
    outcomes = forward_outcomes(service)
    try:
        body = gzip.compress(orjson.dumps({"batch": [track()], "writeKey": "wk"}))
        async with httpx.AsyncClient() as http:
            response = await http.post(f"{service.base_url}/v1/batch", content=body,
                                       headers={"Content-Encoding": "gzip",
                                                "Authorization": "Basic d2s6"})
        assert response.status_code == 200
        path, headers, received = await asyncio.wait_for(recorder.received.get(), timeout=10)
        assert (path, received) == ("/v1/batch", body)
        assert headers["Content-Encoding"] == "gzip"
        assert headers["Authorization"] == "Basic d2s6"
        assert await forwarded_status(service, outcomes) == (200, None)
    finally:
        await service.stop()


async def test_an_upstream_rejection_is_recorded(upstream: tuple[Upstream, str],
                                                 db_path: Path) -> None:
    recorder, url = upstream
    recorder.status = 400
    service = CaptureService(CaptureConfig(port=0, db_path=db_path, forward_url=url))
    await service.start()
    outcomes = forward_outcomes(service)
    try:
        async with httpx.AsyncClient() as http:
            response = await http.post(f"{service.base_url}/v1/t", json=track())
        assert response.status_code == 200  # the client sees inspector's answer
        status, error = await forwarded_status(service, outcomes)
        assert status == 400
        assert error is not None
        assert '"success":false' in error.replace(" ", "")
    finally:
        await service.stop()


async def test_a_dead_upstream_never_loses_the_capture(db_path: Path) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{unused.getsockname()[1]}"
    service = CaptureService(CaptureConfig(port=0, db_path=db_path, forward_url=dead))
    await service.start()
    outcomes = forward_outcomes(service)
    try:
        async with httpx.AsyncClient() as http:
            response = await http.post(f"{service.base_url}/v1/t", json=track())
        assert response.status_code == 200
        status, error = await forwarded_status(service, outcomes)
        assert status is None
        assert error is not None
        assert error.startswith("ConnectError")
    finally:
        await service.stop()


async def test_a_body_over_the_hard_cap_is_not_forwarded(upstream: tuple[Upstream, str],
                                                         db_path: Path) -> None:
    recorder, url = upstream
    service = CaptureService(CaptureConfig(port=0, db_path=db_path, forward_url=url))
    await service.start()
    try:
        async with httpx.AsyncClient() as http:
            oversized = await http.post(f"{service.base_url}/v1/batch",
                                        content=b"x" * (2 * 1024 * 1024))
            assert oversized.status_code == 400
            assert (await http.post(f"{service.base_url}/v1/t", json=track())).status_code == 200
        # Only the second request goes upstream (the first, had it been sent, goes out first).
        path, _, received = await asyncio.wait_for(recorder.received.get(), timeout=10)
        assert path == "/v1/t"
        assert orjson.loads(received)["event"] == "Order Completed"
    finally:
        await service.stop()
