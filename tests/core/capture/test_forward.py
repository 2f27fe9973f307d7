"""--forward: every request also goes upstream, byte for byte, through a durable queue that
survives outages and restarts; the capture never depends on the upstream."""

from __future__ import annotations

import asyncio
import base64
import gzip
from collections.abc import AsyncIterator, Callable
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from inspector.core.capture import CaptureConfig, CaptureService
from inspector.core.capture.forward import forwarded_headers, retry_after_seconds
from inspector.core.store.forward_queue import ForwardAttempt
from tests.support.segment_calls import track
from tests.support.upstream import Received, Upstream

API = "/inspector/api"
#: What a forwarded request may differ in from the one received: the connection's own headers.
_CONNECTION_HEADERS = {"host", "content-length", "connection", "transfer-encoding",
                       "x-forwarded-for"}


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    stand_in = Upstream()
    await stand_in.start()
    yield stand_in
    await stand_in.stop()


class Outcomes:
    """The forwarder's outcomes as they are written to the store; wait on conditions."""

    def __init__(self, service: CaptureService) -> None:
        assert service.forwarder is not None
        self.seen: list[ForwardAttempt] = []
        self._changed = asyncio.Event()
        service.forwarder.listeners.append(self._on)

    def _on(self, attempt: ForwardAttempt) -> None:
        self.seen.append(attempt)
        self._changed.set()

    def settled(self) -> list[ForwardAttempt]:
        """The final outcomes (delivered or failed)."""
        return [attempt for attempt in self.seen if attempt.state != "queued"]

    async def until(self, condition: Callable[[], bool], timeout: float = 20.0) -> None:
        async with asyncio.timeout(timeout):
            while not condition():
                self._changed.clear()
                await self._changed.wait()


def forwarding_service(db_path: Path, url: str, **options: Any) -> CaptureService:
    service = CaptureService(CaptureConfig(port=0, db_path=db_path, session_name="forward",
                                           forward_url=url, **options))
    assert service.forwarder is not None
    # Quick retries: the tests wait for outcomes, never for the clock.
    service.forwarder.backoff_base, service.forwarder.backoff_cap = 0.02, 0.2
    return service


def basic(write_key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()}


async def send_tracks(service: CaptureService, write_key: str, count: int) -> list[str]:
    """``count`` track calls, one request each, in order; their messageIds."""
    ids = []
    async with httpx.AsyncClient(base_url=service.base_url) as http:
        for index in range(count):
            call = track(index=index)
            ids.append(call["messageId"])
            response = await http.post("/v1/t", json=call, headers=basic(write_key))
            assert response.status_code == 200
    return ids


def message_ids(received: list[Received], write_key: str) -> list[str]:
    auth = basic(write_key)["Authorization"]
    return [orjson.loads(item.body)["messageId"] for item in received
            if item.header("Authorization") == auth]


def comparable(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted((name.lower(), value) for name, value in headers
                  if name.lower() not in _CONNECTION_HEADERS)


async def api_json(service: CaptureService, path: str) -> Any:
    async with httpx.AsyncClient(base_url=service.base_url) as http:
        response = await http.get(API + path)
    assert response.status_code == 200, response.text
    return response.json()


# ---- byte for byte


async def test_a_gzip_batch_goes_upstream_byte_for_byte_with_every_header(
        upstream: Upstream, db_path: Path) -> None:
    service = forwarding_service(db_path, upstream.url)
    outcomes = Outcomes(service)
    await service.start()
    try:
        body = gzip.compress(orjson.dumps({"batch": [track()], "writeKey": "wk"}))
        async with httpx.AsyncClient() as http:
            response = await http.post(
                f"{service.base_url}/v1/batch?trace=1", content=body,
                headers={"Content-Encoding": "gzip", **basic("wk"), "Origin":
                         "https://shop.example", "X-Custom-Thing": "kept", "Accept-Encoding":
                         "br", "User-Agent": "analytics-node-next/1.0",
                         "X-Forwarded-For": "203.0.113.9"})
        assert response.status_code == 200
        [received] = await upstream.wait_for(1)
        assert (received.method, received.target, received.body) == (
            "POST", "/v1/batch?trace=1", body)
        stored = service.store.get_request(1)
        assert stored is not None
        assert comparable(received.headers) == comparable(list(stored["headers"].items()))
        # The client's chain, then the client itself.
        assert received.header("X-Forwarded-For") == "203.0.113.9, 127.0.0.1"
        assert received.header("Content-Length") == str(len(body))
        await outcomes.until(lambda: len(outcomes.settled()) == 1)
        [event] = (await api_json(service, "/events"))["events"]
        assert event["forward"] == {"state": "delivered", "attempts": 1, "last_status": 200,
                                    "last_error": None}
    finally:
        await service.stop()


async def test_a_pixel_get_stays_a_get_without_a_body(upstream: Upstream,
                                                      db_path: Path) -> None:
    service = forwarding_service(db_path, upstream.url)
    await service.start()
    try:
        data = base64.b64encode(orjson.dumps({**track(), "writeKey": "wk"})).decode()
        async with httpx.AsyncClient() as http:
            response = await http.get(f"{service.base_url}/v1/pixel/track",
                                      params={"data": data}, headers={"X-Pixel": "1"})
        assert response.status_code == 200
        [received] = await upstream.wait_for(1)
        assert received.method == "GET"
        assert received.target == f"/v1/pixel/track?data={data.replace('=', '%3D')}"
        assert received.body == b""
        assert received.header("Content-Length") is None
        assert received.header("Transfer-Encoding") is None
        assert received.header("X-Pixel") == "1"
    finally:
        await service.stop()


async def test_analytics_js_telemetry_is_forwarded_too(upstream: Upstream,
                                                       db_path: Path) -> None:
    service = forwarding_service(db_path, upstream.url)
    await service.start()
    try:
        body = orjson.dumps({"series": [{"type": "Counter", "metric": "analytics_js.invoke",
                                         "value": 1, "tags": {}}]})
        async with httpx.AsyncClient() as http:
            response = await http.post(f"{service.base_url}/v1/m", content=body,
                                       headers={"Content-Type": "text/plain"})
        assert response.status_code == 200
        [received] = await upstream.wait_for(1)
        assert (received.method, received.target, received.body) == ("POST", "/v1/m", body)
        assert received.header("Content-Type") == "text/plain"
        # Telemetry is no event: nothing shows in the session.
        assert (await api_json(service, "/events"))["total"] == 0
    finally:
        await service.stop()


# ---- what is retried and what is not


async def test_a_400_is_recorded_as_failed_and_not_retried(upstream: Upstream,
                                                           db_path: Path) -> None:
    service = forwarding_service(db_path, upstream.url)
    outcomes = Outcomes(service)
    await service.start()
    try:
        upstream.answer(400)
        first, second = await send_tracks(service, "wk", 2)
        await outcomes.until(lambda: len(outcomes.settled()) == 2)
        assert [attempt.state for attempt in outcomes.seen] == ["failed", "delivered"]
        assert message_ids(upstream.received, "wk") == [first, second]  # sent once each
        events = (await api_json(service, "/events?order=asc"))["events"]
        forward = events[0]["forward"]
        assert (forward["state"], forward["attempts"], forward["last_status"]) == (
            "failed", 1, 400)
        assert '"success":false' in forward["last_error"].replace(" ", "")
        assert events[1]["forward"]["state"] == "delivered"
        summary = await api_json(service, "/summary")
        assert summary["forward"] == {"queued": 0, "delivered": 1, "failed": 1}
        health = await api_json(service, "/health")
        assert (health["forward"]["upstream"], health["forward"]["failed"],
                health["forward"]["delivered"]) == (upstream.url, 1, 1)
    finally:
        await service.stop()


async def test_503_and_429_are_retried_after_retry_after(upstream: Upstream,
                                                         db_path: Path) -> None:
    service = forwarding_service(db_path, upstream.url)
    outcomes = Outcomes(service)
    await service.start()
    try:
        upstream.answer(503, Retry_After="1")
        upstream.answer(429, Retry_After="0")
        [message_id] = await send_tracks(service, "wk", 1)
        await outcomes.until(lambda: len(outcomes.settled()) == 1)
        received = upstream.received
        assert message_ids(received, "wk") == [message_id] * 3
        # Retry-After: 1 was honoured (the backoff alone would have retried after 0.02 s).
        assert received[1].at - received[0].at >= 0.9
        assert [(a.state, a.attempts, a.status) for a in outcomes.seen] == [
            ("queued", 1, 503), ("queued", 2, 429), ("delivered", 3, 200)]
    finally:
        await service.stop()


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    now = 1_800_000_000.0
    assert retry_after_seconds("120", now) == 120.0
    assert retry_after_seconds(formatdate(now + 30, usegmt=True), now) == 30.0
    assert retry_after_seconds(formatdate(now - 30, usegmt=True), now) == 0.0
    assert retry_after_seconds("86400", now) == 600.0  # capped
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


def test_hop_by_hop_headers_are_dropped_and_the_client_is_appended() -> None:
    raw = [(b"Host", b"127.0.0.1:8787"), (b"Connection", b"keep-alive, X-Private"),
           (b"X-Private", b"secret hop"), (b"Keep-Alive", b"timeout=5"),
           (b"Content-Length", b"12"), (b"Origin", b"https://shop.example"),
           (b"X-Dup", b"1"), (b"X-Dup", b"2"), (b"User-Agent", b"caf\xe9")]
    assert forwarded_headers(raw, "192.0.2.1") == [
        ("Origin", "https://shop.example"), ("X-Dup", "1"), ("X-Dup", "2"),
        ("User-Agent", "caf\xe9"), ("X-Forwarded-For", "192.0.2.1")]


# ---- outages, restarts, the bound


async def test_an_outage_loses_nothing_and_keeps_each_write_keys_order(
        upstream: Upstream, db_path: Path) -> None:
    await upstream.stop()  # connections refused
    service = forwarding_service(db_path, upstream.url)
    outcomes = Outcomes(service)
    await service.start()
    try:
        web_ids = await send_tracks(service, "web", 4)
        app_ids = await send_tracks(service, "app", 3)
        # Both lanes have tried and are waiting to retry; nothing got through.
        await outcomes.until(lambda: {a.request_id for a in outcomes.seen} >= {1, 5})
        assert all(attempt.state == "queued" for attempt in outcomes.seen)
        assert outcomes.seen[0].error is not None
        assert outcomes.seen[0].error.startswith("ConnectError")
        health = await api_json(service, "/health")
        assert health["forward"]["queued"] == 7
        event = (await api_json(service, "/events?order=asc&limit=1"))["events"][0]
        assert event["forward"]["state"] == "queued"
        assert event["forward"]["attempts"] >= 1
        await upstream.start()
        await outcomes.until(lambda: len(outcomes.settled()) == 7)
        assert message_ids(upstream.received, "web") == web_ids
        assert message_ids(upstream.received, "app") == app_ids
        assert (await api_json(service, "/summary"))["forward"] == {
            "queued": 0, "delivered": 7, "failed": 0}
    finally:
        await service.stop()


async def test_the_queue_survives_a_restart(upstream: Upstream, db_path: Path) -> None:
    await upstream.stop()
    first = forwarding_service(db_path, upstream.url)
    outcomes = Outcomes(first)
    await first.start()
    try:
        ids = await send_tracks(first, "web", 5)
        await outcomes.until(lambda: bool(outcomes.seen))
    finally:
        await first.stop()
    await upstream.start()
    second = forwarding_service(db_path, upstream.url)
    assert second.forwarder is not None
    outcomes = Outcomes(second)
    await second.start()
    try:
        assert second.forwarder.resumed == 5
        more = await send_tracks(second, "web", 2)
        await outcomes.until(lambda: len(outcomes.settled()) == 7)
        assert message_ids(upstream.received, "web") == ids + more
        health = await api_json(second, "/health")
        assert (health["forward"]["queued"], health["forward"]["delivered"]) == (0, 7)
    finally:
        await second.stop()


async def test_a_full_queue_records_new_requests_as_failed(upstream: Upstream,
                                                           db_path: Path) -> None:
    await upstream.stop()
    service = forwarding_service(db_path, upstream.url, forward_queue_limit=2)
    outcomes = Outcomes(service)
    await service.start()
    try:
        ids = await send_tracks(service, "web", 4)
        events = (await api_json(service, "/events?order=asc"))["events"]
        assert [event["forward"]["state"] for event in events] == [
            "queued", "queued", "failed", "failed"]
        assert "forward queue is full" in events[2]["forward"]["last_error"]
        await upstream.start()
        await outcomes.until(lambda: len(outcomes.settled()) == 2)
        assert message_ids(upstream.received, "web") == ids[:2]
        assert (await api_json(service, "/summary"))["forward"] == {
            "queued": 0, "delivered": 2, "failed": 2}
    finally:
        await service.stop()


async def test_a_body_over_the_hard_cap_is_not_forwarded(upstream: Upstream,
                                                         db_path: Path) -> None:
    service = forwarding_service(db_path, upstream.url)
    outcomes = Outcomes(service)
    await service.start()
    try:
        async with httpx.AsyncClient() as http:
            oversized = await http.post(f"{service.base_url}/v1/batch",
                                        content=b"x" * (2 * 1024 * 1024))
            assert oversized.status_code == 400
            assert (await http.post(f"{service.base_url}/v1/t", json=track())).status_code == 200
        await outcomes.until(lambda: len(outcomes.settled()) == 1)
        [received] = upstream.received
        assert received.target == "/v1/t"
        events = (await api_json(service, "/events?order=asc"))["events"]
        assert events[0]["forward"]["state"] == "failed"
        assert "only a prefix was kept" in events[0]["forward"]["last_error"]
    finally:
        await service.stop()


async def test_capture_without_forward_says_off(capture: CaptureService) -> None:
    async with httpx.AsyncClient(base_url=capture.base_url) as http:
        assert (await http.post("/v1/t", json=track())).status_code == 200
        [event] = (await http.get(API + "/events")).json()["events"]
        health = (await http.get(API + "/health")).json()
    assert event["forward"] == {"state": "off"}
    assert health["forward"] == {"upstream": None, "queued": 0, "delivered": 0, "failed": 0}
