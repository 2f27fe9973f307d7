"""A stopped capture service leaves no file open on its database, though the REST API read it
from the event loop's executor threads (which outlive the service)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from segment.analytics import Client

from inspector.core.capture import CaptureConfig, CaptureService
from tests.support.fds import needs_proc_fd, open_fds

pytestmark = needs_proc_fd

#: How many reads of the REST API run at once (each may take an executor thread of its own).
READS = 8


async def test_stop_closes_the_database_on_every_thread(db_path: Path) -> None:
    service = CaptureService(CaptureConfig(port=0, db_path=db_path, session_name="test"))
    await service.start()
    try:
        errors: list[Any] = []
        client = Client("py-write-key", host=service.base_url, sync_mode=True, max_retries=0,
                        on_error=lambda error, batch: errors.append(error))

        def send() -> None:
            client.identify("user-42", {"email": "ada@example.com"})
            client.track("user-42", "Order Completed", {"order_id": "o-1"})
            client.page("user-42", "Shop", "Checkout")

        await asyncio.get_running_loop().run_in_executor(None, send)
        assert errors == []

        async with httpx.AsyncClient(base_url=service.base_url) as http:
            responses = await asyncio.gather(
                *(http.get("/inspector/api/events") for _ in range(READS)))
        totals = [response.json()["total"] for response in responses]
        assert totals == [3] * READS
        assert open_fds(db_path)
    finally:
        await service.stop()
    assert open_fds(db_path) == []
