"""The REST API's query contract: every typo a 400, typed field filters, paging, wait."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from segment.analytics import Client

from inspector.core.capture import CaptureService
from inspector.core.query_params import MAX_WAIT_SECONDS
from tests.support.segment_calls import track

EVENTS = "/inspector/api/events"


def _order(total: Any, **extra: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {"order_id": "o-1", "currency": "USD",
                                  "items": [{"sku": "MUG-1"}, {"sku": "TEE-2"}], **extra}
    if total is not _ABSENT:
        properties["total"] = total
    return {**track("Order Completed"), "properties": properties}


_ABSENT = object()


@pytest.fixture
async def api(capture: CaptureService) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=capture.base_url) as http:
        batch = [
            _order(12.5),                     # 1: a number
            _order("12.5"),                   # 2: the same digits as a string
            _order(None),                     # 3: null
            _order(_ABSENT),                  # 4: no total at all
            _order(12.55, coupon=True),       # 5: a close number
            {**track("Signed In"), "timestamp": "yesterday"},  # 6: a warning (total 12.5)
            {"type": "track", "userId": "user-2"},             # 7: an error (no event name)
        ]
        response = await http.post("/v1/batch", json={"batch": batch, "writeKey": "web"})
        assert response.status_code == 200
        yield http


async def _ids(api: httpx.AsyncClient, **params: str) -> list[int]:
    response = await api.get(EVENTS, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    return [event["id"] for event in body["events"]]


async def _totals(api: httpx.AsyncClient, params: dict[str, str]) -> list[Any]:
    response = await api.get(EVENTS, params=params)
    assert response.status_code == 200, response.text
    return [event["payload"]["properties"].get("total", "<absent>")
            for event in response.json()["events"]]


async def _refused(api: httpx.AsyncClient, path: str, params: dict[str, str] | list[Any],
                   *words: str) -> str:
    response = await api.get(path, params=params)
    assert response.status_code == 400, (path, params, response.text)
    body = response.json()
    assert body["code"] == "invalid_query"
    for word in words:
        assert word in body["message"], (word, body["message"])
    message: str = body["message"]
    return message


# ---- every typo is a 400


async def test_unknown_parameters_are_refused_on_every_route(api: httpx.AsyncClient) -> None:
    message = await _refused(api, EVENTS, {"evnt": "Nope"}, "evnt", "valid:", "event",
                             "field.<path>")
    assert "limit" in message
    await _refused(api, EVENTS, {"properties.total": "12.5"}, "properties.total")
    await _refused(api, "/inspector/api/summary", {"evnt": "Nope"}, "evnt", "event")
    # summary has no pages: a paging parameter there is a mistake too
    await _refused(api, "/inspector/api/summary", {"limit": "5"}, "limit")
    for route in ("sessions", "health", "write-keys", "events/1"):
        await _refused(api, f"/inspector/api/{route}", {"session": "x"}, "session",
                       "valid: none")
    await _refused(api, "/inspector/api/audit", {"chek": "x"}, "chek")
    await _refused(api, "/inspector/api/people", {"mod": "x"}, "mod")
    await _refused(api, "/inspector/api/notes", {"sesion": "x"}, "sesion", "session")
    await _refused(api, "/inspector/api/audit", [("check", "a"), ("check", "b")],
                   "more than once")


async def test_unknown_enum_values_are_refused_with_the_valid_ones(
        api: httpx.AsyncClient) -> None:
    await _refused(api, EVENTS, {"status": "invald"}, "invald", "valid", "not_validated",
                   "problems")
    await _refused(api, EVENTS, {"status": "valid,invald"}, "invald")
    await _refused(api, EVENTS, {"type": "trak"}, "trak", "track", "identify")
    await _refused(api, EVENTS, {"order": "sideways"}, "sideways", "asc", "desc")
    await _refused(api, EVENTS, {"severity": "fatal"}, "fatal", "error", "warning")
    await _refused(api, EVENTS, {"violation_kind": "Requird"}, "Requird", "Required")
    await _refused(api, "/inspector/api/summary", {"status": "invald"}, "invald")
    await _refused(api, EVENTS, {"status": ""}, "status is empty")


async def test_a_parameter_given_twice_is_refused(api: httpx.AsyncClient) -> None:
    await _refused(api, EVENTS, [("event", "A"), ("event", "B")], "event", "more than once")


async def test_enum_values_and_violation_kinds_ignore_case(api: httpx.AsyncClient) -> None:
    assert len(await _ids(api, type="TRACK")) == 7
    assert len(await _ids(api, status="MALFORMED")) == 1
    assert len(await _ids(api, order="DESC", limit="1")) == 1
    kind = "missing event key for track call"
    assert len(await _ids(api, violation_kind=kind)) == 1
    assert len(await _ids(api, violation_kind=kind.upper())) == 1


# ---- field filters


async def test_field_filters_are_typed(api: httpx.AsyncClient) -> None:
    def field(value: str) -> dict[str, str]:
        return {"event": "Order Completed", "field.properties.total": value}

    assert await _totals(api, field("12.5")) == [12.5]
    assert await _totals(api, field('"12.5"')) == ["12.5"]
    assert await _totals(api, field("null")) == [None]
    assert await _totals(api, field("*")) == [12.5, "12.5", 12.55]
    assert await _totals(api, field("12.50")) == [12.5]
    assert await _totals(api, field("12")) == []
    assert await _totals(api, field("true")) == []
    assert await _totals(api, {"field_type.properties.total": "number"}) == [12.5, 12.55, 12.5]
    assert await _totals(api, {"field_type.properties.total": "STRING"}) == ["12.5"]
    assert await _totals(api, {"field_type.properties.total": "null"}) == [None]
    assert await _totals(api, {"field.properties.coupon": "true"}) == [12.55]
    assert await _totals(api, {"field.properties.coupon": "1"}) == []


async def test_field_filters_reach_into_arrays_and_are_anded(api: httpx.AsyncClient) -> None:
    assert len(await _totals(api, {"field.properties.items.1.sku": '"TEE-2"'})) == 5
    assert await _totals(api, {"field.properties.items.2.sku": "*"}) == []
    assert await _totals(api, [("field.properties.items.0.sku", '"MUG-1"'),
                               ("field.properties.total", "12.55")]) == [12.55]
    assert await _totals(api, [("field.properties.total", "12.5"),
                               ("field.properties.total", "12.55")]) == []
    assert len(await _totals(api, {"field.properties.currency": '"USD"', "q": "o-1"})) == 6


async def test_field_filters_find_what_a_client_wrote_in_any_json_style(
        capture: CaptureService) -> None:
    # The filters look for the stored text ('"city":"Zürich"') before parsing it, which holds
    # because the payload is stored as orjson writes it, whatever the client sent: spaces,
    # \u escapes, an escaped slash, a key that needs escaping.
    body = ('{"writeKey": "web", "batch": [ {"type" : "track", "event" : "Order Completed",'
            ' "userId": "u-1", "properties" : { "city" : "Z\\u00fcrich", "url": "a\\/b",'
            ' "back\\\\slash" : true, "n" : 1.0 } } ]}')
    async with httpx.AsyncClient(base_url=capture.base_url) as http:
        response = await http.post("/v1/batch", content=body,
                                   headers={"Content-Type": "application/json"})
        assert response.status_code == 200, response.text
        for name, value in (("city", '"Zürich"'), ("city", '"Z\\u00fcrich"'), ("url", '"a/b"'),
                            ("back\\slash", "true"), ("n", "1"), ("city", "*")):
            found = (await http.get(EVENTS, params={f"field.properties.{name}": value})).json()
            assert found["total"] == 1, (name, value)


async def test_field_filter_values_must_be_json(api: httpx.AsyncClient) -> None:
    message = await _refused(api, EVENTS, {"field.properties.currency": "USD"},
                             "field.properties.currency", "not a JSON value", '"USD"')
    assert 'field.properties.currency="USD"' in message
    await _refused(api, EVENTS, {"field.properties.total": "12.5x"}, "12.5x")
    await _refused(api, EVENTS, {"field.properties": '{"total": 12.5}'}, "not an object")
    await _refused(api, EVENTS, {"field.": "1"}, "path is empty")
    await _refused(api, EVENTS, {"field.properties..total": "1"}, "is not a name")
    await _refused(api, EVENTS, {"field_type.properties.total": "numeric"}, "numeric",
                   "number", "string")
    await _refused(api, "/inspector/api/summary", {"field.properties.total": "abc"}, "abc")


# ---- severity and problems


async def test_severity_and_problems(api: httpx.AsyncClient) -> None:
    events = (await api.get(EVENTS, params={"severity": "warning"})).json()["events"]
    assert [event["event"] for event in events] == ["Signed In"]
    assert events[0]["status"] == "not_validated"  # a warning leaves the status alone...
    problems = (await api.get(EVENTS, params={"status": "problems"})).json()["events"]
    # ...and status=problems still counts it, beside the malformed event.
    assert [(event["event"], event["status"]) for event in problems] == [
        ("Signed In", "not_validated"), (None, "malformed")]
    errors = (await api.get(EVENTS, params={"severity": "error"})).json()["events"]
    assert [event["status"] for event in errors] == ["malformed"]
    both = (await api.get(EVENTS, params={"severity": "Warning,ERROR"})).json()
    assert both["total"] == 2
    with_not_validated = await api.get(EVENTS, params={"status": "problems,not_validated"})
    assert with_not_validated.json()["total"] == 7


# ---- paging


@pytest.mark.parametrize(("filters", "total"), [
    ({}, 7), ({"q": "o-1"}, 6), ({"field_type.properties.total": "number"}, 3),
    ({"q": "order", "event": "Order Completed"}, 5),
])
async def test_every_page_says_returned_and_gives_a_cursor(
        api: httpx.AsyncClient, filters: dict[str, str], total: int) -> None:
    for order in ("asc", "desc"):
        seen: list[int] = []
        params: dict[str, str] = {"limit": "2", "order": order, **filters}
        while True:
            body = (await api.get(EVENTS, params=params)).json()
            assert body["total"] == total
            assert body["returned"] == len(body["events"])
            seen.extend(event["id"] for event in body["events"])
            if body["next"] is None:
                break
            params = {"limit": "2", "order": order, **filters, "cursor": body["next"]}
        assert len(seen) == total
        assert seen == sorted(seen, reverse=order == "desc")
        assert len(set(seen)) == total
    last = (await api.get(EVENTS, params={"limit": "7"})).json()
    assert (last["returned"], last["next"]) == (7, None)


async def test_a_cursor_page_counts_the_whole_match_beside_since_id(
        api: httpx.AsyncClient) -> None:
    # The total of a cursor page is counted in two parts (the page's side of the cursor and
    # the side it passed): with since_id beside the cursor, neither may count an event twice
    # or miss one.
    ids = await _ids(api, limit="all")
    for since in (ids[0], ids[2], ids[-2]):
        expected = len([event_id for event_id in ids if event_id > since])
        for order in ("asc", "desc"):
            params: dict[str, str] = {"limit": "1", "order": order, "since_id": str(since)}
            pages = 0
            while True:
                body = (await api.get(EVENTS, params=params)).json()
                assert body["total"] == expected, (since, order, pages)
                pages += 1
                if body["next"] is None:
                    break
                params = {"limit": "1", "order": order, "since_id": str(since),
                          "cursor": body["next"]}
            assert pages == expected


async def test_cursors_belong_to_their_query(api: httpx.AsyncClient) -> None:
    first = (await api.get(EVENTS, params={"limit": "1", "type": "track"})).json()
    await _refused(api, EVENTS, {"limit": "1", "cursor": first["next"]}, "another query")
    await _refused(api, EVENTS, {"limit": "1", "type": "track", "order": "desc",
                                 "cursor": first["next"]}, "another query")
    await _refused(api, EVENTS, {"cursor": "not-a-cursor"}, "cursor")
    await _refused(api, EVENTS, {"cursor": first["next"], "type": "track", "offset": "2"},
                   "cursor or offset")
    # limit may change between pages
    rest = (await api.get(EVENTS, params={"limit": "all", "type": "track",
                                          "cursor": first["next"]})).json()
    assert (rest["returned"], rest["total"], rest["next"]) == (6, 7, None)


async def test_limit_all_is_capped(api: httpx.AsyncClient,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    body = (await api.get(EVENTS, params={"limit": "ALL"})).json()
    assert (body["returned"], body["next"]) == (7, None)
    monkeypatch.setattr("inspector.core.capture.api.LIMIT_ALL_CAP", 5)
    await _refused(api, EVENTS, {"limit": "all"}, "at most 5", "7 match", "next")
    await _refused(api, EVENTS, {"limit": "lots"}, "limit")


# ---- summary and health


async def test_summary_takes_the_same_filters(api: httpx.AsyncClient) -> None:
    summary = (await api.get("/inspector/api/summary",
                             params={"event": "Order Completed"})).json()
    assert summary["total"] == 5
    assert summary["by_event"] == {"Order Completed": 5}
    typed = (await api.get("/inspector/api/summary",
                           params={"field_type.properties.total": "number"})).json()
    assert typed["total"] == 3
    problems = (await api.get("/inspector/api/summary", params={"status": "problems"})).json()
    assert problems["by_status"] == {"not_validated": 1, "malformed": 1}
    assert problems["by_violation_kind"] == {"Invalid Format": 1,
                                             "Missing event key for track call": 1}
    assert (await api.get("/inspector/api/summary")).json()["total"] == 7


async def test_health_counts_the_events_captured_since_it_started(
        api: httpx.AsyncClient) -> None:
    health = (await api.get("/inspector/api/health")).json()
    assert health["session"]["event_count"] == 7
    sessions = (await api.get("/inspector/api/sessions")).json()["sessions"]
    assert sessions[0]["event_count"] == health["session"]["event_count"]


# ---- wait


async def test_wait_returns_when_the_event_arrives(capture: CaptureService) -> None:
    client = Client("py-key", host=capture.base_url, max_retries=0, upload_interval=0.05)

    def send() -> None:
        client.track("user-9", "Late Event", {"total": 3})
        client.flush()
        client.shutdown()

    async with httpx.AsyncClient(base_url=capture.base_url, timeout=90) as http:
        started = time.monotonic()
        answer = asyncio.create_task(http.get(EVENTS, params={
            "event": "Late Event", "wait": "60", "field.properties.total": "3"}))
        await asyncio.wait_for(capture.waiters.until_waiting(), 30)
        assert not answer.done()
        await asyncio.get_running_loop().run_in_executor(None, send)
        body = (await answer).json()
        assert time.monotonic() - started < 30  # woken by the commit, not by the time-out
    assert body["timed_out"] is False
    assert body["total"] == 1
    assert body["events"][0]["payload"]["properties"]["total"] == 3
    assert len(capture.waiters) == 0


async def test_wait_for_several_and_time_out_cleanly(capture: CaptureService) -> None:
    async with httpx.AsyncClient(base_url=capture.base_url, timeout=30) as http:
        answer = asyncio.create_task(http.get(EVENTS, params={
            "event": "Order Completed", "wait": "1", "min": "2"}))
        await asyncio.wait_for(capture.waiters.until_waiting(), 30)
        # one event of two: an unrelated event first, then one that matches
        await http.post("/v1/t", json=track("Signed In"))
        await http.post("/v1/t", json=track("Order Completed"))
        body = (await answer).json()
        assert (body["timed_out"], body["total"], body["returned"]) == (True, 1, 1)
        plain = (await http.get(EVENTS)).json()
        assert "timed_out" not in plain
    assert len(capture.waiters) == 0


async def test_wait_is_bounded(api: httpx.AsyncClient) -> None:
    await _refused(api, EVENTS, {"wait": str(MAX_WAIT_SECONDS + 1)}, "wait", "120")
    await _refused(api, EVENTS, {"wait": "soon"}, "wait")
    await _refused(api, EVENTS, {"wait": "-1"}, "wait")
    await _refused(api, EVENTS, {"min": "2"}, "min", "wait")
    await _refused(api, EVENTS, {"wait": "1", "min": "0"}, "min")
    # already satisfied: answers at once
    body = (await api.get(EVENTS, params={"wait": "100", "min": "7"})).json()
    assert (body["timed_out"], body["total"]) == (False, 7)


async def test_a_wait_counts_anew_when_a_revalidation_changes_statuses(
        capture: CaptureService) -> None:
    plan = {"rules": [{"type": "TRACK", "key": "Order Completed", "version": 1,
                       "jsonSchema": {}}]}
    async with httpx.AsyncClient(base_url=capture.base_url, timeout=60) as http:
        await http.post("/v1/t", json=track("Order Completed"))  # not validated: no plan
        answer = asyncio.create_task(http.get(EVENTS, params={
            "status": "valid", "wait": "30"}))
        await asyncio.wait_for(capture.waiters.until_waiting(), 30)
        started = time.monotonic()
        assert (await http.post("/inspector/api/plan", json={"content": plan})).is_success
        # the same event becomes valid in place: no new id for a count of new events to see
        assert (await http.post("/inspector/api/revalidate", json={})).is_success
        body = (await answer).json()
        assert time.monotonic() - started < 20
    assert (body["timed_out"], body["total"]) == (False, 1)
