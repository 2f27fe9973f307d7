"""Every event acknowledged with a 200 survives a kill -9 of the server under load."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

import httpx
import pytest

from inspector.core.store import EventStore
from tests.support.processes import start_serve
from tests.support.segment_calls import track


@pytest.mark.slow
async def test_acknowledged_events_survive_kill_9(db_path: Path) -> None:
    # Slow commits (20 ms each) widen the gap between "received" and "on disk": a server that
    # answered before committing would lose the events of the commit in progress.
    process, base_url = start_serve(db_path, "--quiet",
                                    env={"INSPECTOR_SLOW_COMMIT_SECONDS": "0.02"})
    acknowledged: set[str] = set()
    kill_after = 1500
    killed = asyncio.Event()

    async def sender(client: httpx.AsyncClient, worker: int) -> None:
        sequence = 0
        while not killed.is_set():
            sequence += 1
            if sequence % 3:
                calls = [track(f"E{worker}")]
                path, body = "/v1/t", calls[0]
            else:
                calls = [track(f"B{worker}") for _ in range(20)]
                path, body = "/v1/batch", {"batch": calls}
            try:
                response = await client.post(path, json=body)
            except httpx.HTTPError:
                return  # the server is gone
            if response.status_code == 200:
                acknowledged.update(call["messageId"] for call in calls)
                if len(acknowledged) >= kill_after and not killed.is_set():
                    # Kill while the other senders still have requests in flight.
                    process.send_signal(signal.SIGKILL)
                    killed.set()

    limits = httpx.Limits(max_connections=16)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=10) as client:
        await asyncio.wait_for(asyncio.gather(*(sender(client, n) for n in range(12))),
                               timeout=120)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL

    # A fresh open replays the WAL, exactly as the next start of inspector would.
    store = EventStore(db_path)
    stored = {row[0] for row in sqlite3.connect(db_path).execute(
        "SELECT message_id FROM events")}
    store.close()
    missing = acknowledged - stored
    assert len(acknowledged) >= kill_after
    assert missing == set(), f"{len(missing)} acknowledged events lost"
