"""What Customer.io will hold, per mode, checked against a replay of the same session into the
Customer.io stand-in (which enforces the documented API rules and records what it kept)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from inspector.cli import main
from inspector.core.capture import CaptureService
from tests.core.audit.conftest import Traffic
from tests.support.customerio_standin import CustomerIOStandIn, StandInThread

Audit = Callable[..., Any]


@pytest.fixture
def standin() -> Iterator[CustomerIOStandIn]:
    with StandInThread(CustomerIOStandIn()) as server:
        yield server


def fragmented_shopper(traffic: Traffic) -> None:
    """One shopper: web uses the email as userId, the backend a number, iOS a UUID; an
    anonymous browse before the web login, and a ghost cart from another browser."""
    traffic.web("track", anonymousId="anon-1", event="Product Viewed")
    traffic.web("identify", anonymousId="anon-1", userId="jane@shop.test",
                traits={"email": "jane@shop.test"})
    traffic.web("track", anonymousId="anon-1", userId="jane@shop.test", event="Added to Cart")
    traffic.backend.identify("8412", {"email": "jane@shop.test", "vip_tier": "gold"})
    traffic.backend.track("8412", "Order Completed", {"order_id": "o-1", "total": 25.0})
    traffic.ios("identify", userId="5f0c7a8e-2b1d-4c3e-9f6a-0a1b2c3d4e5f",
                anonymousId="device-1", traits={"email": "jane@shop.test"})
    traffic.web("track", anonymousId="ghost", event="Added to Cart")


def people(capture: CaptureService, mode: str, capsys: pytest.CaptureFixture[str]
           ) -> dict[str, Any]:
    assert main(["people", "--db", str(capture.store.path), "--mode", mode,
                 "--format", "json"]) == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


async def replay(capture: CaptureService, standin: CustomerIOStandIn, mode: str) -> None:
    """``inspector replay`` in a process of its own (it runs its own event loop)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "inspector", "replay", "--db", str(capture.store.path),
        "--session", "test", "--mode", mode, "--site-id", standin.site_id,
        "--api-key-env", "CIO_TEST_KEY", "--track-host", standin.base_url,
        env={**os.environ, "CIO_TEST_KEY": standin.api_key},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, (out + err).decode()


@pytest.mark.parametrize("mode", ["classic", "actions"])
async def test_profiles_match_what_a_replay_leaves_in_the_standin(
    audit_traffic: Audit, capture: CaptureService, standin: CustomerIOStandIn, mode: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await audit_traffic(fragmented_shopper)
    holdings = people(capture, mode, capsys)["customerio"]
    await replay(capture, standin, mode)
    # The stand-in keys a person by the identifier each request names.
    assert len(holdings["profiles"]) == len(standin.people) == 3
    assert holdings["headline"] == (
        f"In {mode} mode this session creates 3 Customer.io people for what the traffic "
        "links as 2 shoppers")
    identifiers = sorted(profile["identifier"] for profile in holdings["profiles"])
    assert identifiers == ["5f0c7a8e-2b1d-4c3e-9f6a-0a1b2c3d4e5f", "8412", "jane@shop.test"]
    # Two identifies carried an email another person already holds.
    assert holdings["attribute_conflicts"] == ["jane@shop.test", "jane@shop.test"]
    sent_events = len(standin.events)
    held = sum(len(profile["events"]) for profile in holdings["profiles"])
    unmerged = sum(len(events) for events in holdings["anonymous_unmerged"].values())
    assert held + unmerged == sent_events


async def test_classic_drops_anonymous_calls_and_actions_merges_them(
    audit_traffic: Audit, capture: CaptureService, capsys: pytest.CaptureFixture[str],
) -> None:
    await audit_traffic(fragmented_shopper)
    classic = people(capture, "classic", capsys)["customerio"]
    assert [d["reason"] for d in classic["dropped"]] == [
        "Classic would drop this: no userId"] * 2
    assert classic["anonymous_unmerged"] == {}
    actions = people(capture, "actions", capsys)["customerio"]
    assert actions["dropped"] == []
    jane = next(p for p in actions["profiles"] if p["identifier"] == "jane@shop.test")
    # The anonymous Product Viewed merged on the identify carrying the same anonymousId.
    assert jane["events"] == ["Product Viewed", "Added to Cart"]
    assert jane["merged_anonymous_events"] == 1
    assert actions["anonymous_unmerged"] == {"ghost": ["Added to Cart"]}


async def test_people_text_shows_the_headline(
    audit_traffic: Audit, capture: CaptureService, capsys: pytest.CaptureFixture[str],
) -> None:
    await audit_traffic(fragmented_shopper)
    assert main(["people", "--db", str(capture.store.path), "--mode", "pipelines"]) == 0
    out = capsys.readouterr().out
    assert "In pipelines mode this session creates 3 Customer.io people for what the " \
        "traffic links as 2 shoppers" in out
    assert "anonymous ghost: 1 events never merged" in out
