"""Replaying across environments: events captured over HTTP, counted by environment, warned."""

from __future__ import annotations

import uuid

import httpx

from inspector.core.audit.config import EnvironmentConfig
from inspector.core.capture import CaptureService
from inspector.core.environments import EnvironmentMap
from inspector.core.fixes import CorrectionStore
from inspector.core.replay import Destination, Marking, cross_environment, replay_scope
from inspector.core.store import EventQuery

ENVIRONMENTS = EnvironmentMap([
    EnvironmentConfig(name="staging", write_keys=["stg-key"], hosts=["staging.shop.test"],
                      destination="Staging EU"),
    EnvironmentConfig(name="production", production=True, write_keys=["web prod"],
                      hosts=["shop.test"], destination="Production"),
])


async def _send(service: CaptureService, key: str, url: str, user_id: str) -> None:
    """One analytics.js-shaped track call with its page."""
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{service.base_url}/v1/t", json={
            "type": "track", "event": "Added to Cart", "userId": user_id, "writeKey": key,
            "messageId": str(uuid.uuid4()),
            "context": {"library": {"name": "analytics.js"}, "page": {"url": url}},
        })
        response.raise_for_status()


async def test_production_events_to_a_staging_workspace_are_flagged(
    capture: CaptureService,
) -> None:
    capture.store.name_write_key("prod-key", "web prod")  # listed by its --name-key name
    await _send(capture, "prod-key", "https://shop.test/cart", "81001")
    await _send(capture, "prod-key", "https://shop.test/cart", "81002")
    await _send(capture, "stg-key", "https://staging.shop.test/", "tester")
    # A key no environment lists, from a host no environment lists: counted nowhere.
    await _send(capture, "other", "http://localhost/", "dev")
    scope = replay_scope(
        CorrectionStore(capture.store).iter_effective(EventQuery(session_id=capture.session.id)),
        ENVIRONMENTS, capture.store.write_key_names())
    assert len(scope.pairs) == 4
    assert dict(scope.environments) == {"production": 2, "staging": 1}

    staging = Destination(name="Staging EU")
    crossing = cross_environment(ENVIRONMENTS, staging, scope.environments)
    assert crossing is not None
    assert crossing.crossing == {"production": 2}
    assert crossing.destination_environment == "staging"
    assert crossing.message == (
        "2 events to replay were captured with production write keys, and 'Staging EU' is "
        "the staging workspace: real customers' personal data would land in a test "
        "workspace, where testers and test campaigns reach it.")

    # The reverse: staging events to production.
    production = Destination(name="Production", marking=Marking.PRODUCTION)
    reverse = cross_environment(ENVIRONMENTS, production, scope.environments)
    assert reverse is not None
    assert reverse.crossing == {"staging": 1}
    assert "test profiles, fake orders and test emails would land among real customers" \
        in reverse.message


def test_an_unmapped_destination_is_judged_by_its_marking() -> None:
    unmapped = Destination(name="Sandbox")  # marked staging, named by no environment
    assert cross_environment(ENVIRONMENTS, unmapped, {"staging": 5}) is None
    warned = cross_environment(ENVIRONMENTS, unmapped, {"staging": 5, "production": 1})
    assert warned is not None
    assert warned.events == 1
    assert "'Sandbox' is a staging workspace" in warned.message
    live = Destination(name="Live", marking=Marking.PRODUCTION)
    assert cross_environment(ENVIRONMENTS, live, {"production": 3}) is None
    assert cross_environment(ENVIRONMENTS, live, {"staging": 3}) is not None
    # Without environments nothing is known, so nothing is said.
    assert cross_environment(EnvironmentMap(), unmapped, {}) is None
