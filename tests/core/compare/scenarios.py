"""A small checkout flow, the way a release sends it (``baseline_flow``), and the same flow with
one planted regression of every kind (``regressed_flow``)."""

from __future__ import annotations

from typing import Any

from tests.core.compare.conftest import Traffic

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
