"""The real segment-analytics-python client sending every call type to the endpoint."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from segment.analytics import Client

from inspector.core.capture import CaptureService
from inspector.core.store import EventQuery


def send_all_six(client: Client) -> None:
    client.identify("user-42", {"email": "ada@example.com", "vip_tier": "gold"})
    client.track("user-42", "Order Completed", {"order_id": "o-1", "total": 12.5})
    client.page("user-42", "Shop", "Checkout", {"url": "https://shop.test/checkout"})
    client.screen("user-42", "App", "Cart", {"items": 2})
    client.group("user-42", "acme", {"plan": "enterprise"})
    client.alias("anon-7", "user-42")


@pytest.mark.parametrize(
    ("gzip", "sync_mode"),
    [(False, False), (True, False), (False, True), (True, True)],
    ids=["batched", "batched-gzip", "sync", "sync-gzip"],
)
async def test_analytics_python_calls_arrive_with_the_right_fields(
    capture: CaptureService, gzip: bool, sync_mode: bool
) -> None:
    errors: list[Any] = []
    client = Client(
        "py-write-key", host=capture.base_url, gzip=gzip, sync_mode=sync_mode,
        on_error=lambda error, batch: errors.append(error), max_retries=0, upload_interval=0.05,
    )

    def run() -> None:
        send_all_six(client)
        if not sync_mode:  # sync mode has no consumer threads (shutdown() would fail on None)
            client.flush()
            client.shutdown()

    # The client blocks (requests library); keep the server's loop free to answer it.
    await asyncio.get_running_loop().run_in_executor(None, run)
    assert errors == []
    events = capture.store.query_events(EventQuery(session_id=capture.session.id)).events
    assert [e.type for e in events] == ["identify", "track", "page", "screen", "group", "alias"]
    assert all(e.write_key == "py-write-key" for e in events)
    assert all(e.library and e.library.startswith("analytics-python ") for e in events)
    assert all(e.message_id for e in events)
    identify, track, page, screen, group, alias = (e.payload or {} for e in events)
    assert identify["traits"] == {"email": "ada@example.com", "vip_tier": "gold"}
    assert track["event"] == "Order Completed"
    assert track["properties"]["total"] == 12.5
    assert (page["name"], page["category"]) == ("Checkout", "Shop")
    assert events[2].name == "Checkout"
    assert events[3].name == "Cart"
    assert screen["properties"] == {"items": 2}
    assert group["groupId"] == "acme"
    assert group["traits"] == {"plan": "enterprise"}
    assert (alias["previousId"], alias["userId"]) == ("anon-7", "user-42")
    for payload in (identify, track, page, screen, group, alias):
        # analytics-python sends "anonymousId": null; Segment treats it as absent.
        assert "anonymousId" not in payload
        assert {"originalTimestamp", "sentAt", "receivedAt", "timestamp"} <= payload.keys()
    raw = capture.store.get_request(events[0].request_id or 0)
    assert raw is not None
    assert raw["path"] == "/v1/batch"
    assert raw["headers"]["User-Agent"].startswith("analytics-python/")
    assert (raw["headers"].get("Content-Encoding") == "gzip") is gzip
