"""Demo traffic against the real running endpoint (no Qt needed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inspector.core.capture.service import CaptureConfig, CaptureService, CaptureThread
from inspector.core.demo import DEMO_CALLS, send_demo_traffic, send_demo_traffic_async
from inspector.core.store import EventQuery


@pytest.fixture
def service(tmp_path: Path) -> Iterator[CaptureService]:
    svc = CaptureService(CaptureConfig(port=0, db_path=tmp_path / "d.sqlite3"))
    thread = CaptureThread(svc)
    thread.start()
    yield svc
    thread.stop()


def _events(service: CaptureService) -> list:  # type: ignore[type-arg]
    return service.store.query_events(EventQuery(session_id=service.session.id)).events


def test_demo_checkout_has_the_planted_mistakes(service: CaptureService) -> None:
    assert send_demo_traffic(service.base_url) == DEMO_CALLS
    events = _events(service)
    names = [e.name for e in events]
    assert names.count("Order Completed") == 2
    assert "Completed Order" in names
    viewed = [e for e in events if e.name == "Product Viewed"]
    assert viewed[0].payload["properties"]["price"] == "12.5"  # type: ignore[index]
    orders = [e.payload["properties"] for e in events if e.name == "Order Completed"]  # type: ignore[index]
    assert sum("order_id" not in p for p in orders) == 1
    complete = next(p for p in orders if "order_id" in p)
    assert set(complete["items"][0]) == {"sku", "name", "variant", "price", "quantity"}
    identify = next(e for e in events if e.type == "identify")
    assert set(identify.payload["traits"]) == {  # type: ignore[index]
        "email", "first_name", "vip_tier", "subscription_status", "marketing_opt_in"}
    request = service.store.get_request(events[0].request_id)  # type: ignore[arg-type]
    assert request is not None
    assert request["path"] == "/v1/p"
    assert request["write_key_source"] == "body"
    assert {e.write_key for e in events} == {"demo-web", "demo-web-backend", "demo-web-ios"}
    assert {e.library.split()[0] for e in events if e.library} == {
        "analytics.js", "analytics-python", "analytics-ios"}


def test_the_demo_shows_a_fragmented_shopper_and_a_ghost_cart(service: CaptureService) -> None:
    from inspector.core.audit.session import audit_session

    assert send_demo_traffic(service.base_url) == DEMO_CALLS
    result = audit_session(service.store, service.session.id)
    found = {finding.check: finding for finding in result.findings}
    assert found["identity.multiple_user_ids"].message.startswith(
        'One shopper (ada@shop.test) carries 2 userIds: analytics.js sends "user_8412"')
    assert found["identity.anonymous_intent"].message.startswith("Ghost cart: anonymousId")
    assert "analytics-python sends a number" in found["identity.user_id_shape"].message
    assert len(result.auditor.graph) == 2  # the web and backend shopper, the iPhone


def test_the_demo_shows_drift(service: CaptureService) -> None:
    from inspector.core.audit.session import audit_session

    send_demo_traffic(service.base_url)
    result = audit_session(service.store, service.session.id)
    found = {finding.check: finding for finding in result.findings}
    assert found["drift.property_type"].message.startswith(
        'Product Viewed sends price as a number in 67% (e.g. 24.0) and a string in 33% '
        '(e.g. "12.5")')
    assert found["drift.event_name"].message.startswith(
        '"Order Completed" (2 calls) and "Completed Order" (1 call) are one event name')
    assert found["items.incomplete"].message.startswith(
        "1 of 2 Order Completed calls has no order_id")
    # Sent from the browser, where ad blockers and payment redirects lose them.
    client_side = [finding.message for finding in result.findings
                   if finding.check == "source.client_side_event"]
    assert any(message.startswith("Order Completed is sent from analytics.js on 2 calls")
               for message in client_side), client_side
    # The bundled segment catches the same order with no order_id.
    assert found["segment.order_completed_missing_order_id_or_total"].message == (
        '1 call matches your segment "Order Completed missing order_id or total": '
        "properties.order_id is required (1).")


async def test_async_variant(service: CaptureService) -> None:
    assert await send_demo_traffic_async(service.base_url, write_key="demo-2") == DEMO_CALLS
    assert {e.write_key for e in _events(service)} == {"demo-2", "demo-2-backend", "demo-2-ios"}
