"""A session for the report tests: the demo checkout (planted mistakes) sent over real HTTP
against the bundled plan, plus calls, a source name, a session name and notes holding hostile
markup."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from inspector.core.capture import CaptureConfig, CaptureService
from inspector.core.demo import send_demo_traffic_async
from inspector.core.notes import NoteStore
from inspector.core.report import ReportData, build_report, describe_plan_file
from inspector.core.resources import example_plan_path
from inspector.core.store import EventQuery

#: Markup that would run if a report printed it unescaped.
SCRIPT = "<script>alert(1)</script>"
#: Markup that would run in a browser even where <script> is stripped, and leave a trace.
IMG = '<img src=x onerror="document.title=\'pwned\'">'


@dataclass
class ReportSession:
    """The captured session, its report data and the ids the tests look for."""

    service: CaptureService
    data: ReportData
    invalid_price_id: int
    hostile_event_id: int


async def _post_hostile(service: CaptureService) -> None:
    calls = [
        {"type": "track", "event": SCRIPT, "userId": "user_8412", "messageId": "hostile-1",
         "properties": {SCRIPT: SCRIPT, "comment": IMG}},
        {"type": "identify", "userId": SCRIPT, "messageId": "hostile-2",
         "traits": {"email": "ada@shop.test", IMG: "x"}},
    ]
    async with httpx.AsyncClient(base_url=service.base_url) as client:
        for call in calls:
            response = await client.post("/v1/t" if call["type"] == "track" else "/v1/i",
                                         json={**call, "writeKey": "evil-key"})
            assert response.status_code == 200


@pytest.fixture
async def report_session(db_path: Path) -> ReportSession:
    import asyncio

    service = CaptureService(CaptureConfig(port=0, db_path=db_path,
                                           session_name=f"checkout QA {SCRIPT}"))
    await service.start()
    try:
        service.load_plan(example_plan_path())
        assert await send_demo_traffic_async(service.base_url) > 0
        await _post_hostile(service)
        service.store.name_write_key("evil-key", SCRIPT)
        store, session = service.store, service.session
        [price] = store.query_events(EventQuery(session_id=session.id, event="Product Viewed",
                                                status=["invalid"])).events
        [hostile] = store.query_events(EventQuery(session_id=session.id, event=SCRIPT)).events
        notes = NoteStore(store)
        notes.add(session.id, "event", str(price.id), f"{SCRIPT} price sent as a string",
                  "fail")
        notes.add(session.id, "event", str(hostile.id), IMG)
        data = await asyncio.to_thread(build_report, store, session,
                                       plan=describe_plan_file(example_plan_path()))
        return ReportSession(service, data, price.id, hostile.id)
    finally:
        await service.stop()
