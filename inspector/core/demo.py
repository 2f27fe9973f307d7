"""Demo traffic: a realistic storefront checkout sent through the real capture endpoint.

The browser speaks HTTP exactly as analytics.js does: one request per call to ``/v1/p``,
``/v1/t`` and ``/v1/i``, the write key in the body, ``messageId``, ``anonymousId`` and browser
``context`` on every call. A backend (analytics-python's batch shape) and an iPhone
(analytics-ios's) join in. Mistakes are planted so a newcomer sees them at once:

* ``Product Viewed`` with ``price`` sent as the string ``"12.5"`` (a violation, and type drift
  against the other Product Viewed: ``drift.property_type``);
* an ``Order Completed`` missing ``order_id`` (``items.incomplete``), and both sent from the
  browser;
* an event named ``Completed Order`` (not in the plan: the name is the wrong way round,
  ``drift.event_name``);
* the backend identifies the same shopper by a numeric userId (``8412``) where the web uses
  ``user_8412``: one shopper, two Customer.io people (linked here by the email);
* the iPhone browses and adds to cart without ever identifying: a ghost cart.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from inspector.core.timeutil import format_iso

__all__ = ["DEMO_CALLS", "demo_calls", "send_demo_traffic", "send_demo_traffic_async"]

#: How many calls the demo sends (13 from the browser, 1 from the backend, 2 from the app).
DEMO_CALLS = 16

_PATHS = {"page": "/v1/p", "track": "/v1/t", "identify": "/v1/i"}
_USER_AGENT = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0 Safari/537.36"
)
_SITE = "https://shop.example.com"


def demo_calls(write_key: str = "demo-web") -> list[tuple[str, dict[str, Any]]]:
    """The checkout as ``(path, body)`` pairs, in order, with fresh ids."""
    anonymous_id = str(uuid.uuid4())
    user_id = "user_8412"
    cart_id = f"cart_{uuid.uuid4().hex[:8]}"
    mug = {"sku": "MUG-11-BLK", "name": "Logo Mug", "variant": "black", "price": 12.5,
           "quantity": 2}
    tee = {"sku": "TEE-M-NVY", "name": "Organic Tee", "variant": "navy / M", "price": 24.0,
           "quantity": 1}

    def viewed(item: dict[str, Any], price: Any) -> dict[str, Any]:
        return {"product_id": item["sku"], "sku": item["sku"], "name": item["name"],
                "price": price, "currency": "GBP"}
    calls: list[tuple[str, dict[str, Any]]] = []

    def call(type_: str, path: str, user: bool, **fields: Any) -> None:
        now = format_iso(datetime.now(UTC))
        page_path = fields.pop("_page", "/")
        body: dict[str, Any] = {
            "type": type_,
            "anonymousId": anonymous_id,
            "messageId": f"ajs-next-{uuid.uuid4().hex}",
            "timestamp": now,
            "sentAt": now,
            "writeKey": write_key,
            "context": {
                "library": {"name": "analytics.js", "version": "next-1.70.0"},
                "page": {"path": page_path, "url": f"{_SITE}{page_path}",
                         "title": "Example Shop", "referrer": "", "search": ""},
                "userAgent": _USER_AGENT,
                "locale": "en-GB",
            },
            "integrations": {},
            **fields,
        }
        if user:
            body["userId"] = user_id
        calls.append((_PATHS[type_] if path == "" else path, body))

    # Anonymous browsing.
    call("page", "", False, name="Home", properties={"path": "/", "url": _SITE},
         _page="/")
    call("page", "", False, name="Product", properties={"path": "/p/logo-mug"},
         _page="/p/logo-mug")
    call("track", "", False, event="Product Viewed", _page="/p/logo-mug",
         properties=viewed(mug, "12.5"))  # mistake 1: the price as a string
    call("track", "", False, event="Added to Cart", _page="/p/logo-mug",
         properties={"cart_id": cart_id, "product_id": mug["sku"], **mug})
    call("track", "", False, event="Product Viewed", _page="/p/organic-tee",
         properties=viewed(tee, 24.0))
    call("track", "", False, event="Added to Cart", _page="/p/organic-tee",
         properties={"cart_id": cart_id, "product_id": tee["sku"], **tee})
    # Sign in.
    call("identify", "", True, _page="/login",
         traits={"email": "ada@shop.test", "first_name": "Ada", "vip_tier": "gold",
                 "subscription_status": "active", "marketing_opt_in": True})
    call("track", "", True, event="Checkout Started", _page="/checkout",
         properties={"cart_id": cart_id, "total": 49.0, "currency": "GBP",
                     "items": [mug, tee]})
    call("track", "", True, event="Order Completed", _page="/checkout/done",
         properties={"order_id": "ord_1001", "cart_id": cart_id, "total": 49.0,
                     "currency": "GBP", "items": [mug, tee]})
    # A second order, sent by a buggy code path.
    call("track", "", True, event="Order Completed", _page="/checkout/done",
         properties={"cart_id": cart_id, "total": 12.5, "currency": "GBP",
                     "items": [{**mug, "quantity": 1}]})  # mistake 2: no order_id
    call("track", "", True, event="Completed Order", _page="/checkout/done",
         properties={"order_id": "ord_1002", "total": 12.5, "currency": "GBP"})  # mistake 3
    call("page", "", True, name="Account", properties={"path": "/account"}, _page="/account")
    call("track", "", True, event="Subscription Canceled", _page="/account",
         properties={"subscription_id": "sub_2291", "reason": "too_expensive"})
    calls.append(_backend_identify(write_key))
    calls.extend(_app_browsing(write_key, mug))
    return calls


def _backend_identify(write_key: str) -> tuple[str, dict[str, Any]]:
    """The order service identifies the shopper by its own numeric id (the planted mistake)."""
    now = format_iso(datetime.now(UTC))
    item = {"type": "identify", "userId": "8412", "messageId": str(uuid.uuid4()),
            "timestamp": now, "traits": {"email": "ada@shop.test", "lifetime_value": 49.0},
            "context": {"library": {"name": "analytics-python", "version": "2.3.4"}}}
    return "/v1/batch", {"batch": [item], "sentAt": now, "writeKey": f"{write_key}-backend"}


def _app_browsing(write_key: str, item: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """An iPhone that browses and adds to cart, never identified: a ghost cart."""
    device = str(uuid.uuid4()).upper()
    anonymous_id = str(uuid.uuid4()).upper()
    context = {"library": {"name": "analytics-ios", "version": "4.1.8"},
               "device": {"id": device, "model": "iPhone15,2", "type": "ios"},
               "os": {"name": "iOS", "version": "17.5"},
               "app": {"name": "Example Shop", "namespace": "com.example.shop",
                       "version": "3.2.0", "build": "320"}}
    calls = []
    for event, properties in (
        ("Product Viewed", {"product_id": item["sku"], "sku": item["sku"],
                            "name": item["name"], "price": item["price"], "currency": "GBP"}),
        ("Added to Cart", {"cart_id": f"cart_{uuid.uuid4().hex[:8]}", "product_id": item["sku"],
                           **item}),
    ):
        now = format_iso(datetime.now(UTC))
        calls.append(("/v1/batch", {
            "batch": [{"type": "track", "event": event, "anonymousId": anonymous_id,
                       "messageId": str(uuid.uuid4()).upper(), "timestamp": now,
                       "properties": properties, "context": context}],
            "sentAt": now, "writeKey": f"{write_key}-ios"}))
    return calls


def send_demo_traffic(base_url: str, write_key: str = "demo-web") -> int:
    """Send the demo checkout to ``base_url``; returns how many calls were accepted."""
    accepted = 0
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        for path, body in demo_calls(write_key):
            response = client.post(path, json=body, headers=_headers(body))
            accepted += response.status_code == 200
    return accepted


async def send_demo_traffic_async(base_url: str, write_key: str = "demo-web") -> int:
    """:func:`send_demo_traffic` for asyncio callers."""
    accepted = 0
    async with httpx.AsyncClient(base_url=base_url, timeout=10.0) as client:
        for path, body in demo_calls(write_key):
            response = await client.post(path, json=body, headers=_headers(body))
            accepted += response.status_code == 200
    return accepted


def _headers(body: dict[str, Any]) -> dict[str, str]:
    """What each library sends: analytics.js a text/plain "simple" request from the browser,
    the server and app libraries JSON with their own User-Agent."""
    items = body.get("batch")
    if not items:
        return {"Content-Type": "text/plain", "User-Agent": _USER_AGENT}
    library = items[0]["context"]["library"]
    return {"Content-Type": "application/json",
            "User-Agent": f"{library['name']}/{library['version']}"}
