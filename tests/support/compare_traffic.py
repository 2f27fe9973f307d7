"""Sessions captured over real HTTP for the comparison tests (core and CLI): a backend on
analytics-python (sync mode, so arrival order is call order) and browser calls shaped as
analytics.js sends them, one raw request per call."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from segment.analytics import Client

from inspector.core.capture import CaptureConfig, CaptureService
from inspector.core.store import SessionInfo
from tests.support.capture import running


@dataclass
class Traffic:
    """Sends calls to one running capture."""

    service: CaptureService
    backend: Client
    message_ids: list[str] = field(default_factory=list)

    def web(self, type_: str, **body: Any) -> str:
        """A call as analytics.js (analytics-next) sends it."""
        message_id = f"ajs-next-{uuid.uuid4().hex}"
        call = {"type": type_, "messageId": message_id, "writeKey": "web-key",
                "timestamp": "2026-11-29T10:00:00.000Z", "sentAt": "2026-11-29T10:00:00.050Z",
                "context": {"library": {"name": "analytics.js", "version": "npm:next-1.84.1"},
                            "page": {"path": "/p/mug", "url": "https://shop.test/p/mug",
                                     "title": "Mug"},
                            "userAgent": f"Mozilla/5.0 {uuid.uuid4().hex[:6]}"},
                **body}
        response = httpx.post(f"{self.service.base_url}/v1/{type_[0]}", json=call, timeout=10)
        response.raise_for_status()
        self.message_ids.append(message_id)
        return message_id


Scenario = Callable[[Traffic], None]


async def capture_into(db_path: Path, name: str, scenario: Scenario) -> SessionInfo:
    """A session called ``name`` in ``db_path``, captured over HTTP from what ``scenario``
    sends."""
    config = CaptureConfig(port=0, db_path=db_path, session_name=name)
    async with running(config) as service:
        errors: list[Any] = []
        backend = Client("backend-key", host=service.base_url, sync_mode=True,
                         max_retries=0, on_error=lambda error, batch: errors.append(error))
        traffic = Traffic(service, backend)
        await asyncio.get_running_loop().run_in_executor(None, scenario, traffic)
        assert errors == []
        session = service.session
    return session


SHOPPERS = 4


def baseline_flow(traffic: Traffic, *, seed: int = 0) -> None:
    """Each shopper: a product page, a product view, identify, checkout, then the backend's
    order and newsletter sign-up. ``seed`` changes every id (users, carts, orders)."""
    for shopper in range(SHOPPERS):
        user, anonymous = str(1000 + 10 * seed + shopper), f"anon-{seed}-{shopper}"
        cart = {"cart_id": f"cart-{seed}-{shopper}", "currency": "USD"}
        traffic.web("page", name="Product", anonymousId=anonymous,
                    properties={"path": "/p/mug"})
        traffic.web("track", event="Product Viewed", anonymousId=anonymous,
                    properties={"sku": "MUG-11", "price": 12.5, "currency": "USD"})
        traffic.web("identify", userId=user, anonymousId=anonymous,
                    traits={"email": f"shopper{seed}-{shopper}@shop.test", "first_name": "Ada",
                            "plan": "pro"})
        traffic.web("track", event="Checkout Started", userId=user, anonymousId=anonymous,
                    properties={**cart, "total": 25.0})
        traffic.backend.track(user, "Order Completed", {
            "order_id": f"o-{seed}-{shopper}", "total": 25.0, "currency": "USD",
            "coupon": "SPRING"})
        traffic.backend.track(user, "Newsletter Subscribed", {"list": "weekly"})


def regressed_flow(traffic: Traffic) -> None:
    """The flow with planted regressions:

    * missing_event: no Newsletter Subscribed; unexpected_event: Promo Shown;
    * missing_property: Order Completed without coupon; Product Viewed price on half;
    * unexpected_property: Checkout Started gains step; type_changed: its total is a string;
    * values_changed: Product Viewed currency "usd" on half;
    * source_changed: Order Completed from the browser (analytics.js), not the backend;
    * identity_changed: userId is the email; identify lost first_name; the email comes later;
    * sequence_changed: Checkout Started now comes before identify.
    """
    for shopper in range(SHOPPERS):
        user, anonymous = f"shopper{shopper}@shop.test", f"anon-x-{shopper}"
        product: dict[str, Any] = {"sku": "MUG-11", "currency": "usd" if shopper % 2 else "USD"}
        if shopper % 2 == 0:
            product["price"] = 12.5
        traffic.web("page", name="Product", anonymousId=anonymous,
                    properties={"path": "/p/mug"})
        traffic.web("track", event="Product Viewed", anonymousId=anonymous, properties=product)
        traffic.web("track", event="Promo Shown", anonymousId=anonymous,
                    properties={"promo": "spring"})
        traffic.web("track", event="Checkout Started", userId=user, anonymousId=anonymous,
                    properties={"cart_id": f"cart-x-{shopper}", "currency": "USD",
                                "total": "25.00", "step": 1})
        traffic.web("identify", userId=user, anonymousId=anonymous,
                    traits={"email": user, "plan": "pro"})
        traffic.web("track", event="Order Completed", userId=user, anonymousId=anonymous,
                    properties={"order_id": f"o-x-{shopper}", "total": 25.0, "currency": "USD"})


@pytest.fixture(scope="session")
def regressed_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with "production" (the baseline flow) and "staging" (the regressed flow),
    captured once for the whole run (read-only for the tests that use it)."""
    return capture_pair(tmp_path_factory.mktemp("regressed") / "captures.sqlite3",
                        regressed_flow)


def capture_pair(path: Path, candidate: Scenario) -> Path:
    """``path`` with "production" (the baseline flow) and "staging" (``candidate``)."""

    async def both() -> None:
        await capture_into(path, "production", baseline_flow)
        await capture_into(path, "staging", candidate)

    asyncio.run(both())
    return path
