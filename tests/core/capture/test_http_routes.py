"""Every Tracking API route, auth style, CORS and bad input, over real HTTP."""

from __future__ import annotations

import base64
import gzip
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from inspector.core.capture import CaptureService
from inspector.core.capture.ingest import REJECTED_BODY_PREFIX
from inspector.core.model import Status
from inspector.core.store import EventQuery
from tests.support.segment_calls import track


@pytest.fixture
async def client(capture: CaptureService) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=capture.base_url) as http:
        yield http


def stored(capture: CaptureService) -> list[Any]:
    return capture.store.query_events(EventQuery(session_id=capture.session.id, limit=1000)).events


@pytest.mark.parametrize(
    ("path", "expected_type"),
    [
        ("/v1/identify", "identify"), ("/v1/track", "track"), ("/v1/page", "page"),
        ("/v1/screen", "screen"), ("/v1/group", "group"), ("/v1/alias", "alias"),
        ("/v1/i", "identify"), ("/v1/t", "track"), ("/v1/p", "page"), ("/v1/s", "screen"),
        ("/v1/g", "group"), ("/v1/a", "alias"), ("/v1/track/", "track"),
    ],
)
async def test_single_call_routes_take_their_type_from_the_path(
    client: httpx.AsyncClient, capture: CaptureService, path: str, expected_type: str
) -> None:
    body = {"userId": "u1", "event": "Order Completed", "groupId": "g1", "previousId": "a1",
            "writeKey": "wk"}
    response = await client.post(path, content=orjson.dumps(body),
                                 headers={"Content-Type": "text/plain"})
    assert response.status_code == 200
    assert response.json() == {"success": True}
    [event] = stored(capture)
    assert event.type == expected_type
    assert event.status is Status.NOT_VALIDATED
    assert event.write_key == "wk"


@pytest.mark.parametrize("path", ["/v1/batch", "/v1/import", "/v1/b", "/v1/batch/"])
async def test_batch_routes_split_items_and_merge_the_envelope(
    client: httpx.AsyncClient, capture: CaptureService, path: str
) -> None:
    body = {
        "batch": [track("Product Viewed"), {"type": "identify", "userId": "u1",
                                            "traits": {"email": "a@example.com"},
                                            "context": {"locale": "en-GB"}}],
        "sentAt": "2026-11-29T10:00:00.000Z",
        "context": {"ip": "203.0.113.7"},
        "writeKey": "batch-key",
    }
    response = await client.post(path, json=body)
    assert response.status_code == 200
    events = stored(capture)
    assert [(e.type, e.name) for e in events] == [("track", "Product Viewed"), ("identify", None)]
    identify = events[1].payload
    assert identify is not None
    assert identify["context"] == {"ip": "203.0.113.7", "locale": "en-GB"}
    assert identify["sentAt"] == "2026-11-29T10:00:00.000Z"
    assert {e.write_key for e in events} == {"batch-key"}


async def test_write_key_sources_are_recorded(client: httpx.AsyncClient,
                                              capture: CaptureService) -> None:
    basic = "Basic " + base64.b64encode(b"basic-key:").decode()
    await client.post("/v1/t", json=track(), headers={"Authorization": basic})
    await client.post("/v1/t", json={**track(), "writeKey": "body-key"})
    await client.post("/v1/t", json={**track(), "secret": "legacy-key"})
    await client.post("/v1/t", json=track())  # no key at all: still accepted
    events = stored(capture)
    sources = [capture.store.get_request(e.request_id or 0) for e in events]
    assert [(e.write_key, s and s["write_key_source"]) for e, s in zip(events, sources,
                                                                        strict=True)] == [
        ("basic-key", "basic"), ("body-key", "body"), ("legacy-key", "secret"), (None, None)
    ]


async def test_gzip_and_chunked_bodies(client: httpx.AsyncClient, capture: CaptureService) -> None:
    body = orjson.dumps({"batch": [track("A"), track("B")]})
    response = await client.post("/v1/batch", content=gzip.compress(body),
                                 headers={"Content-Encoding": "gzip"})
    assert response.status_code == 200

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 7):
            yield body[start:start + 7]

    response = await client.post("/v1/batch", content=chunks())  # Transfer-Encoding: chunked
    assert response.status_code == 200
    assert [e.name for e in stored(capture)] == ["A", "B", "A", "B"]


async def test_telemetry_is_acknowledged_but_not_stored(client: httpx.AsyncClient,
                                                        capture: CaptureService) -> None:
    response = await client.post("/v1/m", content=b'{"series":[{"type":"Counter"}]}',
                                 headers={"Content-Type": "text/plain"})
    assert response.status_code == 200
    assert stored(capture) == []


async def test_pixel_api(client: httpx.AsyncClient, capture: CaptureService) -> None:
    call = {"writeKey": "px", "userId": "u1", "event": "Opened Email"}
    data = base64.b64encode(orjson.dumps(call))
    response = await client.get("/v1/pixel/track", params={"data": data.decode().rstrip("=")})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/gif"
    assert response.content.startswith(b"GIF89a")
    [event] = stored(capture)
    assert (event.type, event.name, event.write_key) == ("track", "Opened Email", "px")


async def test_settings_point_analytics_next_back_here(client: httpx.AsyncClient,
                                                        capture: CaptureService) -> None:
    response = await client.get("/v1/projects/my-key/settings")
    assert response.status_code == 200
    segment = response.json()["integrations"]["Segment.io"]
    assert segment["apiKey"] == "my-key"
    assert segment["apiHost"] == f"127.0.0.1:{capture.port}/v1"
    assert segment["protocol"] == "http"


async def test_cors_preflight_and_origin_echo(client: httpx.AsyncClient) -> None:
    preflight = await client.options(
        "/v1/t",
        headers={"Origin": "http://shop.test:3000", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type,x-retry-count"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://shop.test:3000"
    allowed = preflight.headers["Access-Control-Allow-Headers"].lower()
    for header in ("authorization", "content-type", "x-retry-count"):
        assert header in allowed
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    post = await client.post("/v1/t", json=track(), headers={"Origin": "http://shop.test:3000"})
    assert post.headers["Access-Control-Allow-Origin"] == "http://shop.test:3000"
    assert post.headers["Access-Control-Allow-Credentials"] == "true"


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/v1/track", 405, "method_not_allowed"),
        ("POST", "/v1/purchase", 404, "not_found"),
        ("GET", "/favicon.ico", 404, "not_found"),
        ("POST", "/v2/track", 404, "not_found"),
    ],
)
async def test_unknown_paths_and_wrong_methods_get_json(
    client: httpx.AsyncClient, method: str, path: str, status: int, code: str
) -> None:
    response = await client.request(method, path, content=b"{}")
    assert response.status_code == status
    assert response.json()["code"] == code
    assert path in response.json()["message"]


def deep_json() -> bytes:
    return b'{"batch":' + b"[" * 100_000 + b"]" * 100_000 + b"}"


@pytest.mark.parametrize(
    ("path", "body", "headers", "code", "message"),
    [
        ("/v1/batch", b'{"batch": [', {}, "invalid_json", "Invalid JSON"),
        ("/v1/t", b'{"event": "caf\xe9"}', {}, "invalid_json", "UTF-8"),
        ("/v1/batch", b'{"batch": "' + b"x" * (600 * 1024) + b'"}', {}, "payload_too_large",
         "Payload is too large"),
        ("/v1/t", b'{"event": "' + b"x" * (40 * 1024) + b'"}', {}, "payload_too_large",
         "limit is 32,768 bytes"),
        ("/v1/batch", gzip.compress(b" " * (64 * 1024 * 1024)), {"Content-Encoding": "gzip"},
         "payload_too_large", "inflates to more than"),
        ("/v1/batch", deep_json(), {}, "invalid_json", "nested too deeply"),
        ("/v1/batch", b"[1, 2]", {}, "invalid_request", "Expected a JSON object"),
    ],
    ids=["invalid-json", "invalid-utf8", "over-500kb", "single-over-32kb", "gzip-bomb",
         "deep-nesting", "wrong-shape"],
)
async def test_bad_input_is_answered_precisely_stored_and_the_server_keeps_serving(
    client: httpx.AsyncClient, capture: CaptureService, path: str, body: bytes,
    headers: dict[str, str], code: str, message: str,
) -> None:
    response = await client.post(path, content=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert message in response.json()["message"]
    # The request is kept, raw, as a malformed capture.
    [event] = stored(capture)
    assert event.status is Status.MALFORMED
    assert event.violations[0].message == response.json()["message"]
    raw = capture.store.get_request(event.request_id or 0)
    assert raw is not None
    # A long rejected body is kept as a prefix, with its length and hash.
    assert raw["body"] == body[:REJECTED_BODY_PREFIX]
    assert raw["body_size"] == len(body)
    assert raw["body_sha256"] == (
        hashlib.sha256(body).hexdigest() if len(body) > REJECTED_BODY_PREFIX else None
    )
    assert raw["http_status"] == 400
    # And the next good request is served as usual.
    assert (await client.post("/v1/t", json=track())).status_code == 200


async def test_body_beyond_the_hard_cap_is_drained_and_only_a_prefix_kept(
    client: httpx.AsyncClient, capture: CaptureService
) -> None:
    body = b"x" * (9 * 1024 * 1024 + 5)
    response = await client.post("/v1/batch", content=body)
    assert response.status_code == 400
    assert response.json() == {
        "code": "payload_too_large",
        "message": "Payload is too large: 9,437,189 bytes, the limit is 512,000 bytes",
    }
    [event] = stored(capture)
    raw = capture.store.get_request(event.request_id or 0)
    assert raw is not None
    assert raw["body"] == body[:REJECTED_BODY_PREFIX]
    assert raw["body_size"] == len(body)
    assert raw["body_sha256"] == hashlib.sha256(body).hexdigest()
    # The REST API says the stored body is only a prefix.
    detail = (await client.get(f"/inspector/api/events/{event.id}")).json()["request"]
    assert detail["body_truncated"] is True
    assert detail["body_size"] == len(body)
    assert detail["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert len(detail["body_text"]) == REJECTED_BODY_PREFIX
    # The connection stays usable: the rest of the body was read, not left in the socket.
    assert (await client.post("/v1/t", json=track())).status_code == 200


async def test_ingestion_checks_are_stored_on_the_event(client: httpx.AsyncClient,
                                                         capture: CaptureService) -> None:
    duplicate = track("Order Completed")
    body = {"batch": [
        {"type": "track", "event": "Anonymous Thing"},
        {"type": "track", "userId": "u1"},
        {**track(), "messageId": "m" * 101},
        duplicate,
        duplicate,
        {**track(), "properties": {"blob": "x" * (33 * 1024)}},
        "not an object",
    ]}
    response = await client.post("/v1/batch", json=body)
    assert response.status_code == 200  # violations are shown, never returned as HTTP errors
    events = stored(capture)
    assert [e.status for e in events] == [
        Status.MALFORMED, Status.MALFORMED, Status.MALFORMED, Status.NOT_VALIDATED,
        Status.MALFORMED, Status.MALFORMED, Status.MALFORMED,
    ]
    messages = [[v.message for v in e.violations] for e in events]
    assert messages[0] == ["Missing userId or anonymousId"]
    assert messages[1] == ["Missing event key for track call"]
    assert "Segment requires fewer than 100" in messages[2][0]
    assert messages[3] == []
    assert messages[4][0].startswith(f"Duplicate messageId {duplicate['messageId']!r}")
    assert "Segment drops events over 32,768 bytes" in messages[5][0]
    assert "Each batch item must be an object" in messages[6][0]


async def test_batch_over_2500_events_is_accepted_but_flagged(
    client: httpx.AsyncClient, capture: CaptureService
) -> None:
    small = {"type": "track", "event": "E", "userId": "u"}
    response = await client.post("/v1/batch", json={"batch": [small] * 2501})
    assert response.status_code == 200
    summary = capture.store.summary(capture.session.id)
    assert summary["by_violation_kind"] == {"Batch Too Large": 2501}


async def test_odd_values_in_ids_and_library_do_not_break_ingest(
    client: httpx.AsyncClient, capture: CaptureService
) -> None:
    odd = {"type": "track", "event": ["a"], "userId": 42, "anonymousId": {"x": 1},
           "messageId": True, "context": {"library": {"name": {"n": 1}, "version": [1]}}}
    assert (await client.post("/v1/batch", json={"batch": [odd]})).status_code == 200
    [event] = stored(capture)
    # An object id is kept as its JSON text (searchable), and is a violation of its own.
    assert (event.user_id, event.anonymous_id, event.library) == ("42", '{"x":1}', None)
    assert event.status is Status.MALFORMED  # event must be a string; messageId too
    assert ("anonymousId", "anonymousId must be a string, given: object") in [
        (v.field, v.message) for v in event.violations
    ]
