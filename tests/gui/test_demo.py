"""Demo traffic against the real running endpoint (no Qt needed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inspector.core.capture.service import CaptureConfig, CaptureService, CaptureThread
from inspector.core.demo import send_demo_traffic, send_demo_traffic_async
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
    assert send_demo_traffic(service.base_url) == 13
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
    assert {e.write_key for e in events} == {"demo-web"}


async def test_async_variant(service: CaptureService) -> None:
    assert await send_demo_traffic_async(service.base_url, write_key="demo-2") == 13
    assert {e.write_key for e in _events(service)} == {"demo-2"}
