"""A stand-in for api.segment.io on a loopback port, for ``--forward`` tests.

It records every request exactly as it arrived (method, path and query, raw headers, body
bytes), can be taken down (connections refused) and brought back on the same port, and answers
what the test scripts (a status and headers for each of the next requests; 200 after that).
Tests wait on :meth:`Upstream.wait_for`, woken by each arrival, never on a sleep.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

__all__ = ["Received", "Upstream", "until"]


@dataclass(frozen=True)
class Received:
    """One request as the upstream saw it."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    at: float

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case)."""
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)


class Upstream:
    """Records requests; answers as scripted (see the module docstring)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._script: deque[tuple[int, dict[str, str]]] = deque()
        self._arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """The base URL to forward to."""
        return f"http://127.0.0.1:{self.port}"

    def answer(self, status: int, times: int = 1, **headers: str) -> None:
        """Answer the next ``times`` requests with ``status`` and ``headers`` (underscores in
        names become dashes)."""
        named = {name.replace("_", "-"): value for name, value in headers.items()}
        self._script.extend([(status, named)] * times)

    async def start(self) -> None:
        """Listen (on the port used before, if any: a restart after :meth:`stop`)."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, auto_decompress=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self._runner = runner

    async def stop(self) -> None:
        """Stop listening: connections to the port are refused until :meth:`start`."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = [(name.decode("latin-1"), value.decode("latin-1"))
                   for name, value in request.raw_headers]
        status, extra = self._script.popleft() if self._script else (200, {})
        async with self._arrived:
            self.received.append(Received(request.method, request.path_qs, headers, body,
                                          time.monotonic()))
            self._arrived.notify_all()
        return web.json_response({"success": status == 200}, status=status, headers=extra)

    async def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        """Wait until at least ``count`` requests have arrived; all of them."""
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: len(self.received) >= count)
        return list(self.received)


async def until(condition: Callable[[], bool], wake: asyncio.Condition,
                timeout: float = 20.0) -> None:
    """Wait until ``condition()`` holds, checking it each time ``wake`` is notified."""
    async with asyncio.timeout(timeout), wake:
        await wake.wait_for(condition)
