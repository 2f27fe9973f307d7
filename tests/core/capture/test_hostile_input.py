"""Hostile and broken input over real HTTP: deep nesting, huge integers, odd ids, huge heads,
clients that stop sending. Each case must be answered precisely, stored (or not) as documented,
and leave the rest of its batch and the server unaffected."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from inspector.core.capture import CaptureConfig, CaptureService
from inspector.core.model import Severity, Status
from inspector.core.store import EventQuery
from tests.support.segment_calls import track


@pytest.fixture
async def client(capture: CaptureService) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=capture.base_url) as http:
        yield http


def stored(capture: CaptureService) -> list[Any]:
    query = EventQuery(session_id=capture.session.id, limit=1000, order="asc")
    return capture.store.query_events(query).events


def nested(depth: int) -> Any:
    """``depth`` levels of arrays and objects around a string."""
    value: Any = "bottom"
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


@pytest.mark.parametrize("depth", [200, 252, 253, 254, 300, 1019])
async def test_a_deeply_nested_event_is_stored_malformed_and_its_batch_is_unaffected(
    client: httpx.AsyncClient, capture: CaptureService, depth: int
) -> None:
    # The request body nests {"batch": [{"properties": {"deep": ...}}]}: 4 levels above
    # ``deep``, so 1019 inside it makes 1023 in all, the deepest orjson reads.
    batch = [track(f"Event {index}", user_id=f"u{index}") for index in range(100)]
    batch[37]["properties"] = {"deep": nested(depth)}
    body = b'{"batch":' + orjson.dumps(batch) + b"}" if depth < 250 else (
        b'{"batch":[' + b",".join(
            orjson.dumps(item) if index != 37 else _deep_item(item, depth)
            for index, item in enumerate(batch)
        ) + b"]}"
    )
    response = await client.post("/v1/batch", content=body)
    assert response.status_code == 200
    events = stored(capture)
    assert len(events) == 100
    others = [event for index, event in enumerate(events) if index != 37]
    assert {event.status for event in others} == {Status.NOT_VALIDATED}
    assert [event.name for event in others] == [f"Event {i}" for i in range(100) if i != 37]
    deep = events[37]
    assert deep.name == "Event 37"
    assert deep.user_id == "u37"
    if depth + 2 <= 254:  # event object + properties + the value: orjson writes it as is
        assert deep.status is Status.NOT_VALIDATED
        assert deep.violations == []
        return
    assert deep.status is Status.MALFORMED
    [violation] = deep.violations
    assert violation.kind == "Invalid JSON"
    assert "nested deeper than 254 levels" in violation.message
    assert deep.payload is not None
    assert deep.payload["event"] == "Event 37"
    # The raw request keeps every level.
    raw = capture.store.get_request(deep.request_id or 0)
    assert raw is not None
    assert raw["body"] == body


def _deep_item(item: dict[str, Any], depth: int) -> bytes:
    # Built as text: orjson cannot write what these tests send.
    opening = b"".join(b'{"k":' if level % 2 == 0 else b"[" for level in range(depth))
    closing = b"".join(b"}" if level % 2 == 0 else b"]" for level in reversed(range(depth)))
    head = orjson.dumps({**item, "properties": {"deep": None}})
    return head.replace(b'"deep":null', b'"deep":' + opening + b'"bottom"' + closing)


async def test_nesting_beyond_what_orjson_reads_is_one_malformed_request(
    client: httpx.AsyncClient, capture: CaptureService
) -> None:
    body = b'{"batch":[{"type":"track","userId":"u","event":"E","properties":{"deep":' + (
        b"[" * 1021 + b"]" * 1021) + b"}}]}"
    response = await client.post("/v1/batch", content=body)
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["message"]
    [event] = stored(capture)
    assert event.status is Status.MALFORMED


async def test_integers_beyond_64_bits_are_a_warning_naming_the_field(
    client: httpx.AsyncClient, capture: CaptureService
) -> None:
    body = (b'{"context":{"big":-99999999999999999999},"batch":['
            b'{"type":"track","userId":"u1","event":"E","properties":'
            b'{"order":12345678901234567890123,"ok":18446744073709551615,'
            b'"text":"12345678901234567890123"}},'
            b'{"type":"identify","userId":"u2","traits":{"n":[1,100000000000000000000000]}}]}')
    assert (await client.post("/v1/batch", content=body)).status_code == 200
    first, second = stored(capture)
    assert first.status is Status.NOT_VALIDATED  # a warning, not an error
    assert [(v.field, v.message, v.severity) for v in first.violations] == [
        ("context.big", "integer -99999999999999999999 exceeds 64-bit; stored as -1e+20 (the raw "
         "request keeps the original digits)", Severity.WARNING),
        ("properties.order", "integer 12345678901234567890123 exceeds 64-bit; stored as "
         "1.2345678901234568e+22 (the raw request keeps the original digits)",
         Severity.WARNING),
    ]
    assert first.payload["properties"]["ok"] == 18446744073709551615
    assert [v.field for v in second.violations] == ["context.big", "traits.n.1"]


@pytest.mark.parametrize("field", ["userId", "anonymousId"])
@pytest.mark.parametrize(("value", "given", "column"), [
    ({"id": 7}, "object", '{"id":7}'), (["a", "b"], "array", '["a","b"]'),
])
async def test_an_object_or_array_id_is_a_violation_and_kept_as_text(
    client: httpx.AsyncClient, capture: CaptureService, field: str, value: Any, given: str,
    column: str,
) -> None:
    call = {"type": "track", "event": "E", field: value}
    assert (await client.post("/v1/batch", json={"batch": [call]})).status_code == 200
    [event] = stored(capture)
    assert event.status is Status.MALFORMED
    assert [(v.kind, v.field, v.message) for v in event.violations] == [
        ("Invalid Field Type", field, f"{field} must be a string, given: {given}")
    ]
    assert (event.user_id if field == "userId" else event.anonymous_id) == column


async def test_too_many_headers_get_431_in_json(capture: CaptureService) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", capture.port)
    headers = b"".join(b"X-Junk-%d: %s\r\n" % (index, b"v" * 8000) for index in range(120))
    writer.write(b"POST /v1/t HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n" + headers + b"\r\n{}")
    async with asyncio.timeout(10):
        answer = await reader.read()
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"431"
    assert orjson.loads(body)["code"] == "request_header_fields_too_large"
    assert stored(capture) == []


async def test_a_header_line_too_long_gets_431(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/t", json=track(), headers={"X-Big": "v" * 9000})
    assert response.status_code == 431
    assert "too large" in response.json()["message"]


async def test_stored_header_values_are_capped(
    client: httpx.AsyncClient, capture: CaptureService
) -> None:
    headers = {f"X-Filler-{index}": "v" * 8000 for index in range(50)}
    assert (await client.post("/v1/t", json=track(), headers=headers)).status_code == 200
    [event] = stored(capture)
    raw = capture.store.get_request(event.request_id or 0)
    assert raw is not None
    assert raw["headers"]["X-Filler-0"].startswith("v" * 1024)
    assert raw["headers"]["X-Filler-0"].endswith("(8,000 characters, truncated)")
    assert len(orjson.dumps(raw["headers"])) < 64 * 1024


async def test_a_client_that_disconnects_mid_body_is_one_quiet_line_and_nothing_stored(
    capture: CaptureService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    _, writer = await asyncio.open_connection("127.0.0.1", capture.port)
    writer.write(b"POST /v1/batch HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"
                 b'{"batch": [')
    await writer.drain()
    # Wait until the handler is reading the body, then hang up.
    await _until(lambda: any("/v1/batch" in str(c) for c in _reading_requests(capture)))
    writer.close()
    await _until(lambda: "client stopped sending" in caplog.text)
    lines = [r for r in caplog.records if "client stopped sending" in r.getMessage()]
    assert len(lines) == 1
    assert lines[0].exc_info is None
    assert "unexpected error" not in caplog.text
    assert "Traceback" not in caplog.text
    assert stored(capture) == []


def _reading_requests(capture: CaptureService) -> list[Any]:
    runner = capture._runner
    assert runner is not None
    assert runner.server is not None
    return [handler._current_request for handler in runner.server.connections
            if handler._current_request is not None]


async def _until(condition: Any, timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def running(db_path: Path, **settings: float) -> AsyncIterator[CaptureService]:
    service = CaptureService(CaptureConfig(port=0, db_path=db_path, session_name="t",
                                           **settings))
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


async def test_a_slow_body_is_answered_408(db_path: Path) -> None:
    async with running(db_path, body_timeout=0.5) as service:
        reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
        writer.write(b"POST /v1/t HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{")
        async with asyncio.timeout(10):
            answer = await reader.read()
        writer.close()
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.split(b" ")[1] == b"408"
        assert orjson.loads(body)["code"] == "request_timeout"
        assert service.store.query_events(EventQuery(session_id=service.session.id)).total == 0


async def test_an_idle_connection_is_closed_after_the_idle_timeout(db_path: Path) -> None:
    async with running(db_path, idle_timeout=0.5) as service:
        reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
        async with asyncio.timeout(10):
            assert await reader.read() == b""  # closed by the server, having sent nothing
        writer.close()
