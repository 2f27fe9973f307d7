"""Sources and timing checks, each on a planted-fault session sent over real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from inspector.core.audit import AuditConfig, FindingSeverity
from inspector.core.timeutil import format_iso
from tests.core.audit.conftest import Traffic, checks_found, only

Audit = Callable[..., Any]


def mid() -> str:
    return str(uuid.uuid4())


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


def iso_ago(**delta: float) -> str:
    return format_iso(ago(**delta))


async def test_an_order_from_the_browser_or_the_app_is_an_error(audit_traffic: Audit) -> None:
    ids: dict[str, str] = {}

    def client_orders(traffic: Traffic) -> None:
        ids["web"] = traffic.web("track", userId="81001", event="Order Completed",
                                 properties={"order_id": "o-1", "total": 25.0})
        ids["ios"] = traffic.ios("track", userId="81002", event="Order Refunded",
                                 properties={"order_id": "o-2"})
        # From the backend, as it should be: nothing to say.
        traffic.backend.track("81003", "Order Completed", {"order_id": "o-3"},
                              message_id=mid())

    result = await audit_traffic(client_orders)
    web, ios = sorted(only(result, "source.client_side_event"), key=lambda f: f.event_ids)
    assert web.severity is FindingSeverity.ERROR
    assert web.message_ids == (ids["web"],)
    assert web.message.startswith(
        "Order Completed is sent from web (analytics.js) on 1 call: ad blockers and payment "
        "redirects lose client-side calls")
    assert "Send it from the backend" in web.message
    assert ios.message_ids == (ids["ios"],)
    assert ios.message.startswith("Order Refunded is sent from ios (analytics-ios) on 1 call")
    assert ios.data["library"] == "analytics-ios"


async def test_backend_only_events_are_configurable(audit_traffic: Audit) -> None:
    def client_checkout(traffic: Traffic) -> None:
        traffic.web("track", userId="81001", event="Order Completed",
                    properties={"order_id": "o-1"})
        traffic.web("track", userId="81001", event="Trial Converted",
                    properties={"plan": "pro"})

    config = AuditConfig(backend_only_events=["Trial Converted"])
    result = await audit_traffic(client_checkout, config)
    [finding] = only(result, "source.client_side_event")
    assert finding.data["event"] == "Trial Converted"


async def test_one_order_sent_by_two_sources_is_a_duplicate(audit_traffic: Audit) -> None:
    ids: list[str] = []

    def twice(traffic: Traffic) -> None:
        ids.append(traffic.web("track", userId="81001", event="Order Completed",
                               properties={"order_id": "o-7", "total": 25.0}))
        ids.append(mid())
        traffic.backend.track("81001", "Order Completed", {"order_id": "o-7", "total": 25.0},
                              message_id=ids[-1])
        # The same cart added to twice from one source is two adds, not a duplicate.
        traffic.web("track", userId="81001", event="Added to Cart", properties={"cart_id": "c-1"})
        traffic.web("track", userId="81001", event="Added to Cart", properties={"cart_id": "c-1"})
        # A cart's checkout sent by the app and the browser is.
        ids.append(traffic.ios("track", userId="81001", event="Checkout Started",
                               properties={"cart_id": "c-1"}))
        ids.append(traffic.web("track", userId="81001", event="Checkout Started",
                               properties={"cart_id": "c-1"}))

    result = await audit_traffic(twice)
    order, checkout = sorted(only(result, "source.duplicate_emitters"),
                             key=lambda f: f.event_ids)
    assert order.severity is FindingSeverity.WARNING
    assert order.message_ids == tuple(ids[:2])
    assert order.message == (
        'Order Completed with order_id "o-7" is sent by backend and web (2 calls): '
        "Customer.io counts it and triggers its campaigns once per call. Send it from one "
        "source.")
    assert checkout.message_ids == tuple(ids[2:])
    assert checkout.message.startswith('Checkout Started with cart_id "c-1" is sent by ios and web')


def _stray(traffic: Traffic, key: str) -> str:
    """A call from a write key the session never named (a forgotten staging script)."""
    message_id = mid()
    response = httpx.post(traffic.service.base_url + "/v1/track", timeout=10, json={
        "writeKey": key, "type": "track", "userId": "81001", "event": "Product Viewed",
        "messageId": message_id, "context": {"library": {"name": "analytics-node"}}})
    response.raise_for_status()
    return message_id


async def test_calls_from_an_unnamed_write_key(audit_traffic: Audit) -> None:
    ids: list[str] = []

    def stray(traffic: Traffic) -> None:
        traffic.web("page", userId="81001", name="Home")
        ids.append(_stray(traffic, "staging-key"))
        ids.append(_stray(traffic, "staging-key"))

    result = await audit_traffic(stray)
    [finding] = only(result, "source.unknown_write_key")
    assert finding.severity is FindingSeverity.WARNING
    assert finding.message_ids == tuple(ids)
    assert finding.message.startswith(
        '2 calls came with write key "staging-key" (library analytics-node), which has no '
        "name in this session")
    raised = AuditConfig.model_validate(
        {"checks": {"source.unknown_write_key": {"severity": "error"}}})
    # The same session audited again.
    [error] = only(await audit_traffic(lambda traffic: None, raised), "source.unknown_write_key")
    assert error.severity is FindingSeverity.ERROR


async def test_a_batch_job_hours_late_stands_out(audit_traffic: Audit) -> None:
    late: list[str] = []

    def batch_job(traffic: Traffic) -> None:
        for number in range(3):
            traffic.backend.track("81001", "Product Viewed", {"n": number}, message_id=mid())
        late.append(mid())
        traffic.backend.track("81001", "Order Completed", {"order_id": "o-1"},
                              timestamp=ago(minutes=10), message_id=late[-1])
        late.append(mid())
        traffic.backend.track("81002", "Order Completed", {"order_id": "o-2"},
                              timestamp=ago(hours=2), message_id=late[-1])
        traffic.web("track", userId="81003", event="Product Viewed", timestamp=iso_ago(seconds=5))

    result = await audit_traffic(batch_job)
    [finding] = only(result, "latency.late")
    assert finding.severity is FindingSeverity.ERROR  # one call past the hour
    assert finding.message_ids == tuple(late)
    assert finding.message.startswith(
        "backend sent 2 calls late (Order Completed; 1 call past the error threshold); its "
        "delays over 5 calls: p50 about 1 s, p95 about 2.0 h, max 2.0 h.")
    assert "campaigns only when the event arrives" in finding.message
    assert finding.data["calls"] == 5
    assert 7000 < finding.data["max_seconds"] < 7300
    assert 600 <= finding.data["p95_seconds"] <= finding.data["max_seconds"]


async def test_a_late_call_under_the_error_threshold_is_a_warning(audit_traffic: Audit) -> None:
    def slightly_late(traffic: Traffic) -> None:
        traffic.backend.track("81001", "Order Completed", {"order_id": "o-1"},
                              timestamp=ago(minutes=10), message_id=mid())

    [finding] = only(await audit_traffic(slightly_late), "latency.late")
    assert finding.severity is FindingSeverity.WARNING
    assert "sent 1 call late (Order Completed)" in finding.message


async def test_cart_events_can_have_tighter_thresholds(audit_traffic: Audit) -> None:
    ids: list[str] = []

    def cart_late(traffic: Traffic) -> None:
        ids.append(traffic.web("track", userId="81001", event="Added to Cart",
                               timestamp=iso_ago(minutes=2), properties={"cart_id": "c-1"}))
        traffic.web("track", userId="81001", event="Product Viewed", timestamp=iso_ago(minutes=2))

    assert only(await audit_traffic(cart_late), "latency.late") == []
    config = AuditConfig.model_validate(
        {"latency_by_event": {"Added to Cart": {"warning": 60, "error": 600}}})
    # The same session audited again, with the cart's own thresholds.
    [finding] = only(await audit_traffic(lambda traffic: None, config), "latency.late")
    assert finding.severity is FindingSeverity.WARNING
    assert finding.message_ids == tuple(ids)  # Product Viewed keeps the default: on time
    assert "web sent 1 call late (Added to Cart)" in finding.message


async def test_a_call_older_than_three_days_cannot_trigger(audit_traffic: Audit) -> None:
    ids: list[str] = []

    def offline_phone(traffic: Traffic) -> None:
        ids.append(traffic.ios("track", userId="81001", event="Product Viewed",
                               timestamp=iso_ago(days=4), sentAt=iso_ago(seconds=1)))

    result = await audit_traffic(offline_phone)
    [finding] = only(result, "latency.outside_trigger_window")
    assert finding.severity is FindingSeverity.ERROR
    assert finding.message_ids == tuple(ids)
    assert finding.message == (
        "ios sent 1 call (Product Viewed) more than 72 h after they happened (the oldest "
        "4 days): Customer.io will not trigger campaigns from them.")
    # Past the window it is this error alone, not also a late call.
    assert "latency.late" not in checks_found(result)


async def test_a_phone_clock_two_hours_ahead(audit_traffic: Audit) -> None:
    ids: list[str] = []
    ahead = datetime.now(UTC) + timedelta(hours=2)

    def wrong_clock(traffic: Traffic) -> None:
        ids.append(traffic.ios("track", userId="81001", event="Product Viewed",
                               timestamp=format_iso(ahead - timedelta(seconds=3)),
                               sentAt=format_iso(ahead)))

    result = await audit_traffic(wrong_clock)
    [finding] = only(result, "latency.clock_skew")
    assert finding.severity is FindingSeverity.WARNING
    assert finding.message_ids == tuple(ids)
    assert finding.message.startswith(
        "ios's clock is wrong on 1 call: sentAt is up to 2.0 h ahead of the time they arrived.")
    assert 7100 < finding.data["skew_seconds"] < 7300
    # Capture corrected the timestamp by the skew: the call is neither late nor early.
    assert checks_found(result) == {"latency.clock_skew"}


async def test_calls_that_arrive_out_of_order(audit_traffic: Audit) -> None:
    ids: list[str] = []

    def reordered(traffic: Traffic) -> None:
        traffic.web("track", anonymousId="anon-9", userId="81001", event="Checkout Started",
                    timestamp=iso_ago(seconds=30), properties={"cart_id": "c-1"})
        ids.append(traffic.web("track", anonymousId="anon-9", userId="81001",
                               event="Added to Cart", timestamp=iso_ago(seconds=60),
                               properties={"cart_id": "c-1"}))
        traffic.web("track", anonymousId="anon-9", userId="81002", event="Added to Cart",
                    timestamp=iso_ago(seconds=45), properties={"cart_id": "c-2"})

    result = await audit_traffic(reordered)
    [finding] = only(result, "latency.out_of_order")
    assert finding.severity is FindingSeverity.INFO
    assert finding.message_ids == tuple(ids)
    assert finding.message.startswith(
        'userId "81001": 1 call arrived after calls that happened later (Added to Cart of ')
    assert "arrived after Checkout Started of" in finding.message
    assert "Customer.io reads events in arrival order" in finding.message
