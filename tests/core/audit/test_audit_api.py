"""``GET /inspector/api/audit``, ``/people`` and ``/people/{id}`` on a live capture, and the
CLI's ``--url`` and ``serve --audit`` paths."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from inspector.cli import main
from inspector.core.capture import CaptureService
from tests.core.audit.conftest import Traffic
from tests.core.audit.test_customerio_holdings import fragmented_shopper

Audit = Callable[..., Any]


async def get(capture: CaptureService, path: str, **params: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=capture.base_url + "/inspector/api") as client:
        return await client.get(path, params=params)


async def test_audit_route_is_live_and_filters(
    audit_traffic: Audit, capture: CaptureService,
) -> None:
    await audit_traffic(fragmented_shopper)
    answer = (await get(capture, "/audit")).json()
    checks = {finding["check"] for finding in answer["findings"]}
    assert {"identity.multiple_user_ids", "identity.anonymous_intent"} <= checks
    assert answer["counts"]["identity.multiple_user_ids"] == {"error": 1}
    assert answer["total"] == len(answer["findings"])

    errors = (await get(capture, "/audit", severity="ERROR")).json()["findings"]
    assert errors
    assert all(finding["severity"] == "error" for finding in errors)
    ghost = (await get(capture, "/audit", check="identity.anonymous_intent")).json()
    assert [finding["person"] for finding in ghost["findings"]] == ["anon:ghost"]

    def more(traffic: Traffic) -> None:  # arrives after the first audit: only it is read
        traffic.web("track", anonymousId="ghost-2", event="Checkout Started")

    await audit_traffic(more)
    again = (await get(capture, "/audit", check="identity.anonymous_intent")).json()
    assert [finding["person"] for finding in again["findings"]] == ["anon:ghost", "anon:ghost-2"]


@pytest.mark.parametrize(("params", "message"), [
    ({"chek": "identity.anonymous_intent"}, "unknown parameter chek; valid: session, check"),
    ({"check": "identity.anonymus_intent"}, "unknown check identity.anonymus_intent; valid:"),
    ({"severity": "fatal"}, "unknown severity fatal; valid: error, warning, info"),
])
async def test_audit_route_refuses_typos(
    capture: CaptureService, params: dict[str, str], message: str,
) -> None:
    response = await get(capture, "/audit", **params)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_query"
    assert response.json()["message"].startswith(message)


async def test_people_and_one_person(audit_traffic: Audit, capture: CaptureService) -> None:
    await audit_traffic(fragmented_shopper)
    listed = (await get(capture, "/people", mode="classic")).json()
    assert [person["id"] for person in listed["people"]] == ["user:jane@shop.test", "anon:ghost"]
    assert len(listed["customerio"]["profiles"]) == 3
    jane = (await get(capture, "/people/8412")).json()["person"]
    assert jane["id"] == "user:jane@shop.test"
    assert {user["value"] for user in jane["user_ids"]} == {
        "jane@shop.test", "8412", "5f0c7a8e-2b1d-4c3e-9f6a-0a1b2c3d4e5f"}
    assert "identity.multiple_user_ids" in {f["check"] for f in jane["findings"]}
    missing = await get(capture, "/people/user:nobody")
    assert missing.status_code == 404
    assert missing.json()["code"] == "unknown_person"
    assert (await get(capture, "/people", mode="clasic")).status_code == 400


async def test_cli_audit_against_a_running_serve(
    audit_traffic: Audit, capture: CaptureService, capsys: pytest.CaptureFixture[str],
) -> None:
    await audit_traffic(fragmented_shopper)
    code = await asyncio.get_running_loop().run_in_executor(
        None, main, ["audit", "--url", capture.base_url, "--format", "json"])
    assert code == 1
    assert '"identity.multiple_user_ids"' in capsys.readouterr().out
    code = await asyncio.get_running_loop().run_in_executor(
        None, main, ["audit", "--url", capture.base_url, "--session", "nope"])
    assert code == 2
    assert "HTTP 404: No session 'nope'" in capsys.readouterr().err


def test_serve_refuses_a_bad_audit_file(tmp_path: Path) -> None:
    bad = tmp_path / "audit.yaml"
    bad.write_text("intent_events:\n  - Added to Cart\nconsent_trait: [a]\n")
    result = subprocess.run(
        [sys.executable, "-m", "inspector", "serve", "--port", "0", "--db",
         str(tmp_path / "x.sqlite3"), "--audit", str(bad)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"inspector: audit configuration: {bad}:3:16: consent_trait: Input should be a "
        "valid string")
    assert not (tmp_path / "x.sqlite3").exists()


async def test_audit_routes_are_behind_the_api_policy(capture: CaptureService) -> None:
    async with httpx.AsyncClient(base_url=capture.base_url) as client:
        rebinding = await client.get("/inspector/api/audit",
                                     headers={"Host": "rebind.evil.example"})
        page = await client.get("/inspector/api/people",
                                headers={"Origin": "https://evil.example"})
    assert rebinding.status_code == 403
    assert page.status_code == 403
    assert "access-control-allow-origin" not in page.headers


async def test_the_loaded_plan_reaches_the_audit(
    audit_traffic: Audit, capture: CaptureService,
) -> None:
    from inspector.core.resources import example_plan_path

    def misspelt(traffic: Traffic) -> None:
        traffic.web("track", userId="81001", event="Completed Order",
                    properties={"order_id": "o-1"})

    await audit_traffic(misspelt)
    before = (await get(capture, "/audit", check="drift.event_name")).json()
    assert before["findings"] == []  # one spelling, and no plan to compare it with
    async with httpx.AsyncClient(base_url=capture.base_url + "/inspector/api") as client:
        loaded = await client.post("/plan", json={
            "content": example_plan_path().read_text(), "name": "retention-example.json"})
    assert loaded.status_code == 200, loaded.text
    after = (await get(capture, "/audit", check="drift.event_name")).json()
    [finding] = after["findings"]
    assert finding["message"].startswith(
        '"Completed Order" (1 call) is the tracking plan\'s "Order Completed" spelled '
        "differently")
