"""Pass-through: send each captured request on to a real upstream (``--forward URL``).

The capture is committed before forwarding starts, and forwarding runs in the background, so
an upstream that is slow, down or rejecting never delays the client's ``200`` nor loses the
capture; its answer is recorded on the request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping

import httpx

from inspector.core.store import EventStore

__all__ = ["Forwarder"]

log = logging.getLogger(__name__)

# Headers that describe the body or the caller, and so must travel with it.
_FORWARDED_HEADERS = ("Content-Type", "Content-Encoding", "Authorization", "User-Agent",
                      "X-Retry-Count")


class Forwarder:
    """Forwards requests to ``upstream`` and records the status each one got."""

    def __init__(self, upstream: str, store: EventStore, *, timeout: float = 15.0) -> None:
        self.upstream = upstream.rstrip("/")
        self._store = store
        self._client = httpx.AsyncClient(timeout=timeout)
        self._tasks: set[asyncio.Task[None]] = set()
        #: Called on the loop once each forward's outcome is stored: (request id, status, error).
        self.listeners: list[Callable[[int, int | None, str | None], None]] = []

    def forward(self, request_id: int, method: str, path_qs: str, headers: Mapping[str, str],
                body: bytes) -> None:
        """Start forwarding one request in the background."""
        task = asyncio.get_running_loop().create_task(
            self._send(request_id, method, path_qs, headers, body)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, request_id: int, method: str, path_qs: str,
                    headers: Mapping[str, str], body: bytes) -> None:
        outgoing = {name: headers[name] for name in _FORWARDED_HEADERS if name in headers}
        status: int | None = None
        error: str | None = None
        try:
            response = await self._client.request(
                method, self.upstream + path_qs, content=body, headers=outgoing
            )
            status = response.status_code
            if status >= 400:
                error = response.text[:500]
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"
            log.warning("forwarding request %d to %s failed: %s", request_id, self.upstream, error)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._store.record_forward, request_id, status, error)
        for listener in list(self.listeners):
            listener(request_id, status, error)

    async def close(self) -> None:
        """Wait for requests in flight (briefly), then close the client."""
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        await self._client.aclose()
