"""The REST API under /inspector/api/, as a CI pipeline uses it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from inspector.core.capture import CaptureService
from tests.support.segment_calls import track


@pytest.fixture
async def api(capture: CaptureService) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=capture.base_url) as http:
        batch = [
            track("Product Viewed", user_id=None, anonymous_id="anon-1", sku="SKU-1"),
            track("Order Completed", user_id="user-1", order_id="o-9"),
            {"type": "identify", "userId": "user-1", "traits": {"email": "a@example.com"}},
            {"type": "track", "userId": "user-2"},
        ]
        response = await http.post("/v1/batch", json={"batch": batch, "writeKey": "web-key"})
        assert response.status_code == 200
        await http.post("/v1/t", json={**track("Order Completed", user_id="user-3"),
                                       "writeKey": "server-key"})
        yield http


async def test_events_filters(api: httpx.AsyncClient) -> None:
    async def names(**params: str) -> list[str | None]:
        response = await api.get("/inspector/api/events", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        if "limit" not in params and "offset" not in params:
            assert body["total"] == len(body["events"])
        return [e["event"] for e in body["events"]]

    assert await names() == ["Product Viewed", "Order Completed", None, None, "Order Completed"]
    assert await names(type="identify") == [None]
    assert await names(event="Order Completed") == ["Order Completed", "Order Completed"]
    assert await names(status="malformed") == [None]
    assert await names(status="malformed,not_validated", limit="1") == ["Product Viewed"]
    assert await names(user_id="user-1") == ["Order Completed", None]
    assert await names(anonymous_id="anon-1") == ["Product Viewed"]
    assert await names(write_key="server-key") == ["Order Completed"]
    assert await names(q="sku-1") == ["Product Viewed"]
    assert await names(q="a@example.com") == [None]
    assert await names(order="desc", limit="2") == ["Order Completed", None]
    assert await names(offset="4") == ["Order Completed"]
    assert await names(since="2000-01-01T00:00:00Z") != []
    assert await names(since="4102444800") == []


async def test_total_counts_beyond_the_page(api: httpx.AsyncClient) -> None:
    body = (await api.get("/inspector/api/events", params={"limit": "2"})).json()
    assert body["total"] == 5
    assert len(body["events"]) == 2


async def test_event_shape_and_detail(api: httpx.AsyncClient, capture: CaptureService) -> None:
    listing = (await api.get("/inspector/api/events", params={"type": "track",
                                                              "status": "malformed"})).json()
    [event] = listing["events"]
    assert set(event) >= {"id", "session", "received_at", "write_key", "type", "event",
                          "user_id", "anonymous_id", "message_id", "status", "violations",
                          "payload"}
    assert event["session"] == "test"
    assert event["violations"] == [{"kind": "Missing event key for track call", "field": "event",
                                    "message": "Missing event key for track call",
                                    "severity": "error", "source": "ingestion"}]
    detail = (await api.get(f"/inspector/api/events/{event['id']}")).json()
    assert detail["request"]["path"] == "/v1/batch"
    assert detail["request"]["write_key_source"] == "body"
    assert '"web-key"' in detail["request"]["body_text"]
    missing = await api.get("/inspector/api/events/999999")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"


async def test_bad_query_parameters_are_400_with_a_reason(api: httpx.AsyncClient) -> None:
    for params, expected in (({"limit": "lots"}, "limit"), ({"order": "sideways"}, "order"),
                             ({"since": "last tuesday"}, "since")):
        response = await api.get("/inspector/api/events", params=params)
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_query"
        assert expected in response.json()["message"]
    huge = str(2**64)
    for params, expected in (({"offset": huge}, "offset"), ({"since_id": huge}, "since_id"),
                             ({"since": "nan"}, "since"), ({"since": "inf"}, "since"),
                             ({"since": "-Infinity"}, "since"), ({"since_id": "-1"}, "since_id")):
        response = await api.get("/inspector/api/events", params=params)
        assert response.status_code == 400, params
        assert response.json()["code"] == "invalid_query"
        assert expected in response.json()["message"]
    for event_id in (huge, str(2**63)):
        response = await api.get(f"/inspector/api/events/{event_id}")
        assert response.status_code == 400
        assert "event id" in response.json()["message"]
    assert (await api.get("/inspector/api/events", params={"session": huge})).status_code == 404
    unknown = await api.get("/inspector/api/events", params={"session": "nope"})
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "unknown_session"


async def test_summary(api: httpx.AsyncClient) -> None:
    summary = (await api.get("/inspector/api/summary")).json()
    assert summary["total"] == 5
    assert summary["by_status"] == {"not_validated": 4, "malformed": 1}
    assert summary["by_type"] == {"track": 4, "identify": 1}
    assert summary["by_event"]["Order Completed"] == 2
    assert summary["by_violation_kind"] == {"Missing event key for track call": 1}


async def test_reset_starts_a_new_session_and_sessions_lists_both(
    api: httpx.AsyncClient, capture: CaptureService
) -> None:
    response = await api.post("/inspector/api/reset", json={"name": "checkout run 2"})
    assert response.status_code == 200
    assert response.json()["session"]["name"] == "checkout run 2"
    assert (await api.get("/inspector/api/events")).json()["total"] == 0
    await api.post("/v1/t", json=track())
    assert (await api.get("/inspector/api/events")).json()["total"] == 1
    assert (await api.get("/inspector/api/events", params={"session": "test"})).json()[
        "total"] == 5
    assert (await api.get("/inspector/api/events", params={"session": "all"})).json()[
        "total"] == 6
    sessions = (await api.get("/inspector/api/sessions")).json()
    assert [s["name"] for s in sessions["sessions"]] == ["checkout run 2", "test"]
    assert [s["event_count"] for s in sessions["sessions"]] == [1, 5]
    assert sessions["current"] == capture.session.id


async def test_named_write_keys_label_events(api: httpx.AsyncClient) -> None:
    response = await api.put("/inspector/api/write-keys/web-key", json={"name": "staging web"})
    assert response.status_code == 200
    assert (await api.get("/inspector/api/write-keys")).json() == {"web-key": "staging web"}
    events = (await api.get("/inspector/api/events")).json()["events"]
    assert [e["source"] for e in events] == ["staging web"] * 4 + [None]


async def test_health(api: httpx.AsyncClient, capture: CaptureService) -> None:
    health = (await api.get("/inspector/api/health")).json()
    assert health["status"] == "ok"
    assert health["endpoint"] == capture.base_url
    assert health["session"]["name"] == "test"
