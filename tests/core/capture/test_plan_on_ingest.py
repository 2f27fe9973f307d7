"""Validation on ingest: the live endpoint checks each call against the loaded plan."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from inspector.core.capture import CaptureConfig, CaptureService
from inspector.core.verdict.revalidate import RevalidationReport
from tests.support.segment_calls import track

ORDER = {"order_id": "o-1", "total": 30.0, "currency": "USD",
         "items": [{"sku": "TEE-1", "name": "Tee", "variant": "M", "price": 15.0, "quantity": 2}]}


@pytest.fixture
async def validating(db_path: Path, plan_file: Path) -> AsyncIterator[CaptureService]:
    service = CaptureService(CaptureConfig(port=0, db_path=db_path, plan_path=plan_file))
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


async def events(service: CaptureService) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=service.base_url) as http:
        body: list[dict[str, Any]] = (await http.get("/inspector/api/events")).json()["events"]
        return body


async def test_violations_are_returned_by_the_rest_api(validating: CaptureService) -> None:
    bad_items = [{**ORDER["items"][0], "price": "12.5"}]  # type: ignore[index]
    async with httpx.AsyncClient(base_url=validating.base_url) as http:
        await http.post("/v1/batch", json={"batch": [
            track("Order Completed", **ORDER),
            track("Order Completed", **{**ORDER, "items": bad_items}),
            track("Completed Order", **ORDER),
            track("Order Completed", total=30.0, currency="USD"),
        ]})
    found = await events(validating)
    assert [e["status"] for e in found] == ["valid", "invalid", "unplanned", "invalid"]
    price = found[1]["violations"][0]
    assert (price["kind"], price["field"]) == ("Invalid Type", "properties.items.0.price")
    assert price["message"] == "Invalid type. Expected: number, given: string"
    unplanned = found[2]["violations"][0]
    assert unplanned["kind"] == "Unplanned Event"
    assert "Order Completed" in unplanned["suggestion"]
    required = found[3]["violations"][0]
    assert (required["kind"], required["message"]) == ("Required",
                                                       "properties.order_id is required")


async def test_malformed_wins_over_the_plan_status(validating: CaptureService) -> None:
    async with httpx.AsyncClient(base_url=validating.base_url) as http:
        await http.post("/v1/t", json={"event": "Order Completed", "properties": ORDER})
    [event] = await events(validating)
    assert event["status"] == "malformed"
    assert event["violations"][0]["kind"] == "Missing userId or anonymousId"


async def test_a_changed_plan_file_is_reloaded_and_the_session_revalidated(
    validating: CaptureService, plan_file: Path
) -> None:
    reloaded: asyncio.Queue[RevalidationReport | None] = asyncio.Queue()
    validating.plan_listeners.append(lambda description, report: reloaded.put_nowait(report))
    async with httpx.AsyncClient(base_url=validating.base_url) as http:
        await http.post("/v1/t", json=track("Gift Card Redeemed", code="X"))
    assert [e["status"] for e in await events(validating)] == ["unplanned"]

    plan = orjson.loads(plan_file.read_bytes())
    plan["rules"].append({"type": "TRACK", "key": "Gift Card Redeemed", "version": 1,
                          "jsonSchema": {"$schema": "http://json-schema.org/draft-07/schema#",
                                         "type": "object", "properties": {"properties": {
                                             "type": "object", "properties": {
                                                 "code": {"type": "string"}}}}}})
    plan_file.write_bytes(orjson.dumps(plan))
    report = await asyncio.wait_for(reloaded.get(), timeout=15)
    assert report is not None
    assert report.transitions[("unplanned", "valid")] == 1  # type: ignore[index]
    assert [e["status"] for e in await events(validating)] == ["valid"]
    assert validating.plan_description is not None
    assert validating.plan_description["rules"] == 8


async def test_a_broken_save_keeps_the_old_plan(validating: CaptureService,
                                                plan_file: Path) -> None:
    errors: asyncio.Queue[str] = asyncio.Queue()
    assert validating._watcher is not None
    validating._watcher.on_error = lambda error: (validating._on_plan_error(error),
                                                  errors.put_nowait(str(error)))[0]
    plan_file.write_text('{"rules": [')
    message = await asyncio.wait_for(errors.get(), timeout=15)
    assert str(plan_file) in message
    assert validating.plan_description is not None
    assert validating.plan_description["error"] == message
    async with httpx.AsyncClient(base_url=validating.base_url) as http:
        await http.post("/v1/t", json=track("Completed Order", **ORDER))
    assert [e["status"] for e in await events(validating)] == ["unplanned"]


async def test_revalidate_endpoint_against_another_plan(capture: CaptureService,
                                                        plan_file: Path) -> None:
    async with httpx.AsyncClient(base_url=capture.base_url) as http:
        await http.post("/v1/t", json=track("Order Completed", **ORDER))
        assert [e["status"] for e in await events(capture)] == ["not_validated"]
        response = await http.post("/inspector/api/revalidate", json={"plan": str(plan_file)})
        assert response.status_code == 200
        assert response.json()["transitions"] == {"not_validated->valid": 1}
        bad = await http.post("/inspector/api/revalidate", json={"plan": "/nonexistent.json"})
        assert bad.status_code == 400
        assert bad.json()["code"] == "invalid_plan"
        assert "/nonexistent.json" in bad.json()["message"]


async def test_plan_endpoint_loads_and_unloads_without_revalidating(
    capture: CaptureService, plan_file: Path
) -> None:
    async with httpx.AsyncClient(base_url=capture.base_url) as http:
        await http.post("/v1/t", json=track("Order Completed", **ORDER))
        loaded = await http.post("/inspector/api/plan", json={"path": str(plan_file)})
        assert loaded.status_code == 200, loaded.text
        assert loaded.json()["plan"]["path"] == str(plan_file)
        assert (await http.get("/inspector/api/health")).json()["plan"]["path"] == str(plan_file)
        await http.post("/v1/t", json=track("Completed Order", **ORDER))
        # Only the call captured after loading was validated.
        assert [e["status"] for e in await events(capture)] == ["not_validated", "unplanned"]
        bad = await http.post("/inspector/api/plan", json={"path": "/nonexistent.json"})
        assert (bad.status_code, bad.json()["code"]) == (400, "invalid_plan")
        assert "/nonexistent.json" in bad.json()["message"]
        assert capture.plan_description is not None  # the previous plan stays in force
        assert (await http.post("/inspector/api/plan", json={"plan": "x"})).status_code == 400
        unloaded = await http.post("/inspector/api/plan", json={"path": None})
        assert unloaded.json() == {"plan": None}
        await http.post("/v1/t", json=track("Completed Order", **ORDER))
        assert [e["status"] for e in await events(capture)][-1] == "not_validated"


async def test_plan_endpoint_replaces_a_watched_plan(
    validating: CaptureService, plan_file: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.json"
    shutil.copy(plan_file, other)
    assert validating._watcher is not None
    async with httpx.AsyncClient(base_url=validating.base_url) as http:
        response = await http.post("/inspector/api/plan", json={"path": str(other)})
        assert response.status_code == 200
    assert validating._watcher is None  # edits to the old file no longer replace this plan
    assert validating.plan_description is not None
    assert validating.plan_description["path"] == str(other)


async def test_revalidate_another_session(capture: CaptureService, plan_file: Path) -> None:
    async with httpx.AsyncClient(base_url=capture.base_url) as http:
        await http.post("/v1/t", json=track("Order Completed", **ORDER))
        first = capture.session.id
        await http.post("/inspector/api/reset", json={"name": "second"})
        await http.post("/inspector/api/plan", json={"path": str(plan_file)})
        response = await http.post("/inspector/api/revalidate", json={"session": first})
        assert response.status_code == 200, response.text
        assert response.json()["transitions"] == {"not_validated->valid": 1}
        missing = await http.post("/inspector/api/revalidate", json={"session": 999})
        assert (missing.status_code, missing.json()["code"]) == (404, "unknown_session")
        wrong = await http.post("/inspector/api/revalidate", json={"session": "1"})
        assert wrong.status_code == 400
