"""Drift and item-payload checks on planted-fault sessions sent over real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from inspector.core.audit import AuditConfig, Auditor, FindingSeverity
from inspector.core.observed import ObservedEvent
from tests.core.audit.conftest import Traffic, only
from tests.core.audit.test_retention_checks import ITEMS

Audit = Callable[..., Any]

USER = {"anonymousId": "anon-d", "userId": "82001"}


def mid() -> str:
    return str(uuid.uuid4())


def without(item: dict[str, Any], key: str) -> dict[str, Any]:
    return {name: value for name, value in item.items() if name != key}


def checkout(**extra: Any) -> dict[str, Any]:
    return {"cart_id": "c-1", "items": ITEMS, **extra}


async def test_a_property_sent_as_a_string_and_a_number(audit_traffic: Audit) -> None:
    ids: list[str] = []

    def drifting(traffic: Traffic) -> None:
        ids.append(traffic.web("track", **USER, event="Checkout Started",
                               properties=checkout(value="49.90")))
        ids.append(mid())
        traffic.backend.track("82001", "Checkout Started", checkout(value=49.9),
                              message_id=ids[-1])
        traffic.web("track", **USER, event="Checkout Started", properties=checkout(value=50))
        # Inside items too: quantity "1" against 2.
        ids.append(traffic.web("track", **USER, event="Checkout Started", properties=checkout(
            value=12.5, items=[{**ITEMS[0], "quantity": "1"}])))

    result = await audit_traffic(drifting)
    by_path = {f.data["path"]: f for f in only(result, "drift.property_type")}
    assert set(by_path) == {"value", "items[].quantity"}
    value = by_path["value"]
    assert value.severity is FindingSeverity.ERROR
    assert value.message_ids == (ids[0], ids[1])  # the first of each type
    assert value.message.startswith(
        'Checkout Started sends value as a number in 75% (e.g. 49.9) and a string in 25% '
        '(e.g. "49.90") of 4 values: Customer.io segments')
    assert value.data["types"] == {"string": 1, "number": 3}
    quantity = by_path["items[].quantity"]
    assert quantity.message_ids == (ids[0], ids[2])
    assert 'items[].quantity as a number in 75% (e.g. 2) and a string in 25% (e.g. "1")' in \
        quantity.message


async def test_integers_and_fractions_are_one_number(audit_traffic: Audit) -> None:
    def numbers(traffic: Traffic) -> None:
        traffic.web("track", **USER, event="Checkout Started", properties=checkout(value=50))
        traffic.web("track", **USER, event="Checkout Started", properties=checkout(value=49.9))

    assert only(await audit_traffic(numbers), "drift.property_type") == []


def order_names(traffic: Traffic, ids: list[str]) -> None:
    ids.append(mid())
    traffic.backend.track("82001", "Order Completed",
                          {"order_id": "o-1", "total": 25.0, "items": ITEMS}, message_id=ids[-1])
    for name in ("order_completed", "Completed Order", "Order completed"):
        ids.append(traffic.web("track", **USER, event=name,
                               properties={"order_id": "o-2", "total": 25.0, "items": ITEMS}))
    traffic.web("track", **USER, event="Order Completed",
                properties={"order_id": "o-3", "total": 25.0, "items": ITEMS})


async def test_one_event_under_four_spellings(audit_traffic: Audit) -> None:
    ids: list[str] = []
    result = await audit_traffic(lambda traffic: order_names(traffic, ids))
    [finding] = only(result, "drift.event_name")
    assert finding.severity is FindingSeverity.ERROR
    assert finding.message_ids == tuple(ids)
    assert finding.message.startswith(
        '"Order Completed" (2 calls), "Completed Order" (1 call), "Order completed" (1 call) '
        'and "order_completed" (1 call) are one event name spelled differently: Customer.io '
        "treats each spelling as its own event")
    assert finding.data["names"] == {"Order Completed": 2, "Completed Order": 1,
                                     "Order completed": 1, "order_completed": 1}


def completed_order(traffic: Traffic, ids: list[str]) -> None:
    ids.append(traffic.web("track", **USER, event="Completed Order",
                           properties={"order_id": "o-2", "total": 25.0, "items": ITEMS}))
    traffic.web("track", **USER, event="Product Added",
                properties={"cart_id": "c-1", **ITEMS[0]})


async def test_an_event_name_against_the_plan(audit_traffic: Audit) -> None:
    ids: list[str] = []
    config = AuditConfig(planned_events=["Order Completed", "Product Added"])
    result = await audit_traffic(lambda traffic: completed_order(traffic, ids), config)
    [finding] = only(result, "drift.event_name")
    assert finding.severity is FindingSeverity.ERROR
    assert finding.message_ids == tuple(ids)
    assert finding.message.startswith(
        "\"Completed Order\" (1 call) is the tracking plan's \"Order Completed\" spelled "
        "differently: Customer.io treats each spelling as its own event")
    assert finding.data["planned"] == ["Order Completed"]


async def test_one_spelling_and_no_plan_is_no_drift(audit_traffic: Audit) -> None:
    ids: list[str] = []
    result = await audit_traffic(lambda traffic: completed_order(traffic, ids))
    assert only(result, "drift.event_name") == []


def test_the_auditor_takes_a_loaded_plans_names() -> None:
    event = ObservedEvent.build(
        id=1, received_at=1_800_000_000.0, write_key="k", type="track", name="order_completed",
        user_id="u", anonymous_id=None, message_id="m-1", payload={}, write_key_names={})
    without = Auditor()
    without.feed([event])
    assert only_check(without, "drift.event_name") == []
    planned = Auditor(AuditConfig(planned_events=["Product Added"]),
                      planned_events=["Order Completed"])
    assert planned.config.planned_events == ["Product Added", "Order Completed"]
    planned.feed([event])
    [finding] = only_check(planned, "drift.event_name")
    assert "the tracking plan's \"Order Completed\"" in finding.message


def only_check(auditor: Auditor, check: str) -> list[Any]:
    return [finding for finding in auditor.findings() if finding.check == check]


async def test_one_property_under_two_names(audit_traffic: Audit) -> None:
    ids: list[str] = []

    def renamed(traffic: Traffic) -> None:
        ids.append(traffic.web("track", **USER, event="Checkout Started",
                               properties=checkout(total=80.0)))
        traffic.web("track", **USER, event="Checkout Started", properties=checkout(total=25.0))
        ids.append(mid())
        traffic.backend.track("82001", "Checkout Started", checkout(
            cart_total=25.0, items=[{**without(ITEMS[0], "sku"), "SKU": "MUG-11"}]),
            message_id=ids[-1])
        # Sent together, so two properties: not drift.
        traffic.web("track", **USER, event="Cart Viewed",
                    properties={"cart_id": "c-1", "items": ITEMS, "total": 25.0,
                                "cart_total": 25.0})

    result = await audit_traffic(renamed)
    findings = {tuple(f.data["names"]): f for f in only(result, "drift.property_name")}
    assert set(findings) == {("total", "cart_total"), ("items[].sku", "items[].SKU")}
    total = findings[("total", "cart_total")]
    assert total.severity is FindingSeverity.WARNING
    assert total.message_ids == tuple(ids)
    assert total.message == (
        "Checkout Started sends one property under two names that never appear together: "
        "total (2 times) and cart_total (1 time): a Customer.io segment built on one of them "
        "(like Cart Value > $75 on cart_total) misses every event that sends the other.")


async def test_product_id_and_productid_are_one_property(audit_traffic: Audit) -> None:
    def camel(traffic: Traffic) -> None:
        traffic.web("track", **USER, event="Product Viewed", properties={"product_id": "p-1"})
        traffic.web("track", **USER, event="Product Viewed", properties={"productId": "p-1"})

    [finding] = only(await audit_traffic(camel), "drift.property_name")
    assert "productId (1 time) and product_id (1 time)" in finding.message


async def test_values_that_change_format(audit_traffic: Audit) -> None:
    ids: list[str] = []

    def formats(traffic: Traffic) -> None:
        ids.append(traffic.web("track", **USER, event="Checkout Started", properties=checkout(
            currency="GBP", delivery_date="2026-01-12", display_price="49.90")))
        ids.append(traffic.web("track", **USER, event="Checkout Started", properties=checkout(
            currency="gbp", delivery_date="12/01/2026", display_price="£49.90")))
        traffic.web("track", **USER, event="Checkout Started", properties=checkout(
            currency="GBP", delivery_date="2026-01-13", display_price="49.90",
            variant_note="red"))

    result = await audit_traffic(formats)
    by_path = {f.data["path"]: f for f in only(result, "drift.value_format")}
    assert set(by_path) == {"currency", "delivery_date", "display_price"}
    assert all(f.severity is FindingSeverity.WARNING for f in by_path.values())
    assert all(f.message_ids == tuple(ids) for f in by_path.values())
    assert by_path["currency"].message.startswith(
        'Checkout Started sends currency in 2 formats: an upper-case currency code in 67% '
        '(e.g. "GBP") and a lower-case currency code in 33% (e.g. "gbp") of 3 values. '
        "Customer.io compares text exactly")
    assert 'a dd/mm/yyyy or mm/dd/yyyy date in 33% (e.g. "12/01/2026")' in \
        by_path["delivery_date"].message
    assert 'an amount with a currency sign in 33% (e.g. "£49.90")' in \
        by_path["display_price"].message


async def test_items_missing_what_recovery_needs(audit_traffic: Audit) -> None:
    ids: dict[str, list[str]] = {"variant": [], "cart_id": [], "items": [], "order_id": []}
    no_variant = without(ITEMS[0], "variant")

    def incomplete(traffic: Traffic) -> None:
        ids["variant"].append(traffic.web("track", **USER, event="Added to Cart", properties={
            "cart_id": "c-1", "items": [no_variant, ITEMS[0]]}))
        traffic.web("track", **USER, event="Added to Cart", properties=checkout())
        # Segment's Product Added: the product at the top level, here without a variant.
        ids["variant"].append(traffic.web("track", **USER, event="Product Added",
                                          properties={"cart_id": "c-1", **no_variant}))
        ids["cart_id"].append(traffic.web("track", **USER, event="Checkout Started",
                                          properties={"products": ITEMS}))
        ids["items"].append(mid())
        traffic.backend.track("82001", "Order Completed", {"order_id": "o-1", "total": 25.0},
                              message_id=ids["items"][-1])
        ids["order_id"].append(traffic.web("track", **USER, event="Order Completed",
                                           properties={"total": 25.0, "items": ITEMS}))

    result = await audit_traffic(incomplete)
    findings = {(f.data["event"], f.data["missing"]): f for f in only(result, "items.incomplete")}
    assert set(findings) == {("Added to Cart", "variant"), ("Product Added", "variant"),
                             ("Checkout Started", "cart_id"), ("Order Completed", "items"),
                             ("Order Completed", "order_id")}
    assert all(f.severity is FindingSeverity.ERROR for f in findings.values())
    variant = findings[("Added to Cart", "variant")]
    assert variant.message_ids == (ids["variant"][0],)
    assert variant.message == (
        "variant is missing from 1 of 3 items in 1 of 2 Added to Cart calls: item-level cart "
        "recovery needs sku, name, variant, price and quantity on every item to show and "
        "rebuild the cart.")
    assert findings[("Product Added", "variant")].message_ids == (ids["variant"][1],)
    cart = findings[("Checkout Started", "cart_id")]
    assert cart.message_ids == tuple(ids["cart_id"])
    assert cart.message.startswith(
        "1 of 1 Checkout Started call has no cart_id: without it Customer.io cannot tie the "
        "events of one cart together")
    items = findings[("Order Completed", "items")]
    assert items.message_ids == tuple(ids["items"])
    assert items.message.startswith("1 of 2 Order Completed calls carries no items[]")
    assert findings[("Order Completed", "order_id")].message_ids == tuple(ids["order_id"])


async def test_a_total_that_is_not_the_items_sum(audit_traffic: Audit) -> None:
    ids: list[str] = []

    def totals(traffic: Traffic) -> None:
        ids.append(mid())
        traffic.backend.track("82001", "Order Completed", {"order_id": "o-1", "total": 60.0,
                                                          "items": ITEMS}, message_id=ids[-1])
        # 12.5 x 2 = 25: 27.5 is within the default 25% (tax and shipping).
        traffic.backend.track("82001", "Order Completed", {"order_id": "o-2", "total": 27.5,
                                                          "items": ITEMS}, message_id=mid())
        # A price as text: no sum to compare (drift.property_type reports the string).
        traffic.backend.track("82001", "Order Completed", {
            "order_id": "o-3", "total": 99.0, "items": [{**ITEMS[0], "price": "12.5"}]},
            message_id=mid())

    result = await audit_traffic(totals)
    [finding] = only(result, "items.total_mismatch")
    assert finding.severity is FindingSeverity.WARNING
    assert finding.message_ids == tuple(ids)
    assert finding.message == (
        "Order Completed's total differs from the sum of its items' price x quantity in 1 of "
        "2 calls, by more than 0.01 or 25%: e.g. total 60.00 against items summing to 25.00. "
        "Order emails and revenue segments will disagree with the items they list.")


async def test_the_total_tolerance_from_the_configuration(audit_traffic: Audit) -> None:
    def taxed(traffic: Traffic) -> None:
        traffic.backend.track("82001", "Order Completed", {"order_id": "o-2", "total": 27.5,
                                                          "items": ITEMS}, message_id=mid())

    assert only(await audit_traffic(taxed), "items.total_mismatch") == []
    strict = AuditConfig(item_total_tolerance_relative=0)
    [finding] = only(await audit_traffic(lambda traffic: None, strict), "items.total_mismatch")
    assert "in 1 of 1 call, by more than 0.01 or 0%: e.g. total 27.50" in finding.message


async def test_item_fields_and_events_from_the_configuration(audit_traffic: Audit) -> None:
    config = AuditConfig(item_events={"Wishlist Updated": None}, item_fields=["sku", "image_url"])

    def wishlist(traffic: Traffic) -> None:
        traffic.web("track", **USER, event="Wishlist Updated", properties={"items": ITEMS})
        traffic.web("track", **USER, event="Added to Cart", properties={})

    result = await audit_traffic(wishlist, config)
    [finding] = only(result, "items.incomplete")
    assert finding.data["event"] == "Wishlist Updated"
    assert finding.data["missing"] == "image_url"
    assert "needs sku and image_url on every item" in finding.message


def test_drift_variants_side_by_side() -> None:
    """variants_of pairs each variant with its own first event and value (the finding's
    event ids are sorted by id, which need not be the variants' order)."""
    from inspector.core.audit import Auditor
    from inspector.core.audit.overview import variants_of
    from inspector.core.observed import ObservedEvent

    values = [49.9, "49.90", 50, 51]  # the number arrives first, the string second
    auditor = Auditor()
    auditor.feed(ObservedEvent.build(
        id=10 + number, received_at=1_800_000_000.0 + number, write_key="k", type="track",
        name="Checkout Started", user_id="u-1", anonymous_id=None, message_id=f"m-{number}",
        payload={"properties": {"value": value}}, write_key_names={})
        for number, value in enumerate(values))
    drift = [f for f in auditor.findings() if f.check == "drift.property_type"]
    assert len(drift) == 1
    assert variants_of(drift[0]) == [
        {"variant": "number", "label": "a number", "count": 3, "share": 0.75,
         "example": "49.9", "event_id": 10, "message_id": "m-0"},
        {"variant": "string", "label": "a string", "count": 1, "share": 0.25,
         "example": '"49.90"', "event_id": 11, "message_id": "m-1"},
    ]
    others = [f for f in auditor.findings() if f.check != "drift.property_type"]
    assert all(variants_of(f) == [] for f in others)
