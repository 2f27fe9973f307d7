"""Audit segments: the audit file's own rules, planted over real HTTP and fed directly."""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from typing import Any

import pytest

from inspector.core.audit import AuditConfig, FindingSeverity
from inspector.core.audit.config import AuditConfigError, parse_audit_config
from inspector.core.audit.framework import Auditor
from inspector.core.observed import ObservedEvent
from tests.core.audit.conftest import Traffic, checks_found, only
from tests.core.audit.test_retention_checks import ITEMS, clean_checkout, mid

Audit = Callable[..., Any]
ORDER_SEGMENT = "segment.order_completed_missing_order_id_or_total"
CART_SEGMENT = "segment.added_to_cart_in_the_last_day_and_email_is_blank"


async def test_the_bundled_order_segment_names_what_is_missing(audit_traffic: Audit) -> None:
    ids: list[str] = []

    def orders(traffic: Traffic) -> None:
        clean_checkout(traffic)
        ids.append(mid())
        traffic.backend.track("81001", "Order Completed", {"total": 30.0, "items": ITEMS},
                              message_id=ids[-1])
        ids.append(mid())
        traffic.backend.track("81001", "Order Completed", {"order_id": " ", "items": ITEMS},
                              message_id=ids[-1])

    result = await audit_traffic(orders)
    [finding] = only(result, ORDER_SEGMENT)
    assert finding.severity is FindingSeverity.ERROR
    assert finding.message_ids == tuple(ids)
    assert finding.message == (
        '2 calls match your segment "Order Completed missing order_id or total": '
        "properties.order_id is required (2); properties.total is required (1).")
    assert finding.data["calls"] == 2


async def test_the_bundled_cart_segment_counts_people_with_no_email(
    audit_traffic: Audit,
) -> None:
    ids: list[str] = []

    def carts(traffic: Traffic) -> None:
        ids.append(traffic.web("track", anonymousId="ghost-1", event="Added to Cart",
                               properties={"cart_id": "c-1", "items": ITEMS}))
        ids.append(traffic.ios("track", anonymousId="ghost-2", event="Product Added",
                               properties={"cart_id": "c-2", "items": ITEMS}))
        # This shopper's email arrives after the cart: they leave the segment.
        traffic.web("track", anonymousId="later", event="Added to Cart",
                    properties={"cart_id": "c-3", "items": ITEMS})
        traffic.web("identify", anonymousId="later", userId="81003",
                    traits={"email": "lu@shop.test", "marketing_opt_in": True})

    result = await audit_traffic(carts)
    [finding] = only(result, CART_SEGMENT)
    assert finding.severity is FindingSeverity.WARNING
    assert finding.message_ids == tuple(ids)
    assert finding.person is None
    assert finding.message == (
        '2 people match your segment "Added to Cart in the last day and email is blank" '
        "(2 calls): no email is known for the person (2): ghost-1 and ghost-2.")
    assert finding.data["people"] == 2


async def test_a_clean_checkout_is_in_no_segment(audit_traffic: Audit) -> None:
    result = await audit_traffic(clean_checkout)
    assert checks_found(result) == set()


USER_SEGMENTS = """
segments:
  - name: Browser orders without currency
    severity: error
    match:
      type: track
      event: [Order Completed, Checkout Started]
      library: browser
      fields:
        properties.total: {type: number}
    expect:
      fields:
        properties.currency: {one_of: [USD, EUR, GBP]}
        properties.items[].price: {min: 0}
        properties.items[].sku: {matches: "^[A-Z]+-\\\\d+$"}
  - name: Identified by a numeric id
    match: {type: identify, source: backend}
    expect:
      person: {user_id_shape: [email, uuid]}
  - name: Every page view
    severity: info
    match: {type: page, write_key: web-key}
"""


async def test_user_segments_with_every_kind_of_term(audit_traffic: Audit) -> None:
    config = parse_audit_config(USER_SEGMENTS, "audit.yaml")
    assert [rule.check_id for rule in config.segments] == [
        "segment.browser_orders_without_currency", "segment.identified_by_a_numeric_id",
        "segment.every_page_view"]
    ids: dict[str, str] = {}

    def traffic_(traffic: Traffic) -> None:
        ids["page"] = traffic.web("page", anonymousId="a-1", name="Home")
        ids["bad"] = traffic.web(
            "track", anonymousId="a-1", event="Checkout Started",
            properties={"total": 10, "currency": "usd",
                        "items": [{"sku": "MUG-1", "price": -1}, {"sku": "mug"}]})
        # Picked by nothing: total is a string, so the WHEN's field condition fails.
        traffic.web("track", anonymousId="a-1", event="Order Completed",
                    properties={"total": "10"})
        traffic.web("track", anonymousId="a-1", event="Order Completed",
                    properties={"total": 10, "currency": "EUR", "items": ITEMS[:0]})
        ids["numeric"] = mid()
        traffic.backend.identify("8412", {"email": "ann@shop.test"}, message_id=ids["numeric"])

    result = await audit_traffic(traffic_, config)
    [currency] = only(result, "segment.browser_orders_without_currency")
    assert currency.severity is FindingSeverity.ERROR
    assert currency.message_ids == (ids["bad"],)
    assert currency.message == (
        '1 call matches your segment "Browser orders without currency": '
        'properties.currency must be one of the following: "USD", "EUR", "GBP" (1); '
        "Must be greater than or equal to 0 (1); "
        "properties.items.1.price is required (1); 1 other reason.")
    assert [reason["message"] for reason in currency.data["reasons"]][3] == (
        "Does not match pattern '^[A-Z]+-\\d+$'")
    [numeric] = only(result, "segment.identified_by_a_numeric_id")
    assert numeric.message_ids == (ids["numeric"],)
    assert "userId 8412 is numeric, expected: email or uuid" in numeric.message
    [pages] = only(result, "segment.every_page_view")
    assert (pages.severity, pages.message_ids) == (FindingSeverity.INFO, (ids["page"],))
    # A file that gives segments replaces the bundled two.
    assert not only(result, ORDER_SEGMENT)


_clock = count(1)


def cart(anonymous_id: str, received_at: float) -> ObservedEvent:
    number = next(_clock)
    return ObservedEvent.build(
        id=number, received_at=received_at, write_key="k", type="track",
        name="Added to Cart", user_id=None, anonymous_id=anonymous_id,
        message_id=f"m-{number}", payload={"type": "track", "event": "Added to Cart"},
        write_key_names={})


def test_within_counts_people_whose_latest_call_is_recent_enough() -> None:
    auditor = Auditor(AuditConfig())
    day = 86_400.0
    auditor.feed([cart("old", 0.0), cart("recent", 0.5 * day)])
    [finding] = [f for f in auditor.findings() if f.check == CART_SEGMENT]
    assert finding.data["labels"] == ["old", "recent"]
    # 1.2 days on, the first cart is outside the last day; the second is not yet.
    auditor.feed([cart("other", 1.2 * day)])
    [finding] = [f for f in auditor.findings() if f.check == CART_SEGMENT]
    assert finding.data["labels"] == ["recent", "other"]
    # A newer cart of the old shopper brings them back.
    auditor.feed([cart("old", 1.3 * day)])
    [finding] = [f for f in auditor.findings() if f.check == CART_SEGMENT]
    assert finding.data["labels"] == ["old", "recent", "other"]


@pytest.mark.parametrize(("text", "where"), [
    ("segments:\n  - name: x\n    match: {type: trak}\n", r"audit.yaml:3:\d+: segments\.0\.match"),
    ("segments:\n  - name: x\n    match: {}\n    within: soon\n",
     r"audit.yaml:4:13: segments\.0\.within: Value error, 'soon' is not a duration"),
    ("segments:\n  - name: x\n    match:\n      fields: {'a..b': {exists: true}}\n",
     r"audit.yaml:4:\d+: segments\.0\.match\.fields"),
    ("segments:\n  - {name: A b, match: {}}\n  - {name: a-B, match: {}}\n",
     r"the same id segment\.a_b"),
])
def test_segment_mistakes_name_file_line_and_column(text: str, where: str) -> None:
    with pytest.raises(AuditConfigError, match=where):
        parse_audit_config(text, "audit.yaml")
