"""Each bundled flow over real HTTP: passing on a correct journey, failing at the right step
with the right reason on each planted mistake."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from inspector.core.flows import RunStatus, StepStatus
from tests.core.audit.conftest import Traffic
from tests.core.flows.conftest import statuses

Flows = Callable[..., Any]
MUG = {"sku": "MUG-11", "name": "Logo Mug", "price": 12.5, "quantity": 2}
TEE = {"sku": "TEE-M", "name": "Organic Tee", "price": 24.0, "quantity": 1}
ITEMS = [MUG, TEE]


def mid() -> str:
    return f"py-{uuid.uuid4().hex}"


def browse(traffic: Traffic, anon: str = "anon-1", *, cart: dict[str, Any] | None = None,
           **who: Any) -> None:
    """A product view and two complete cart adds."""
    traffic.web("page", anonymousId=anon, name="Product", **who)
    traffic.web("track", anonymousId=anon, event="Product Viewed",
                properties={"product_id": "MUG-11", "price": 12.5}, **who)
    for item in ITEMS:
        traffic.web("track", anonymousId=anon, event="Added to Cart",
                    properties=cart if cart is not None else {
                        "cart_id": "c-1", "product_id": item["sku"], **item}, **who)


def identify(traffic: Traffic, anon: str = "anon-1") -> str:
    return traffic.web("identify", anonymousId=anon, traits={"email": "ada@shop.test"})


def checkout(traffic: Traffic, anon: str = "anon-1") -> str:
    return traffic.web("track", anonymousId=anon, event="Checkout Started",
                       properties={"cart_id": "c-1", "total": 49.0, "items": ITEMS})


def order(traffic: Traffic, *, total: Any = 49.0, anon: str = "anon-1",
          user: str | None = None) -> str:
    message_id = mid()
    traffic.backend.track(user, "Order Completed",
                          {"order_id": "o-1", "total": total, "currency": "GBP",
                           "items": ITEMS}, anonymous_id=anon if user is None else None,
                          message_id=message_id)
    return message_id


def guest_checkout(traffic: Traffic) -> None:
    browse(traffic)
    identify(traffic)
    checkout(traffic)
    order(traffic)


async def test_guest_checkout_passes_on_a_correct_checkout(flow_traffic: Flows) -> None:
    [result] = await flow_traffic(guest_checkout, "guest-checkout")
    assert result.status is RunStatus.PASSED, result.to_dict()
    assert set(statuses(result).values()) == {"passed"}
    added = result.steps[1]
    assert len(added.events) == 2  # both adds, repeatable
    assert all(step.reason is None for step in result.steps)


async def test_guest_checkout_fails_at_the_cart_when_cart_id_is_missing(
        flow_traffic: Flows) -> None:
    def no_cart_id(traffic: Traffic) -> None:
        browse(traffic, cart={"product_id": "MUG-11", **MUG})
        identify(traffic)
        checkout(traffic)
        order(traffic)

    [result] = await flow_traffic(no_cart_id, "guest-checkout")
    assert result.status is RunStatus.FAILED
    cart = result.steps[1]
    assert (cart.name, cart.status) == ("Added to Cart", StepStatus.FAILED)
    assert cart.reason == "properties.cart_id is required"
    assert statuses(result)["Product Viewed"] == "passed"
    assert statuses(result)["Order Completed"] == "passed"


async def test_guest_checkout_fails_at_checkout_when_the_email_comes_after_it(
        flow_traffic: Flows) -> None:
    ids: dict[str, str] = {}

    def email_late(traffic: Traffic) -> None:
        browse(traffic)
        ids["checkout"] = checkout(traffic)
        identify(traffic)
        order(traffic)

    [result] = await flow_traffic(email_late, "guest-checkout")
    assert result.status is RunStatus.FAILED
    step = {step.name: step for step in result.steps}["Checkout Started"]
    assert step.status is StepStatus.FAILED
    assert step.message_ids == [ids["checkout"]]
    assert step.reason is not None
    assert "no email is known for the sender" in step.reason
    assert "this call arrived before the Identified with an email call" in step.reason
    assert statuses(result)["Identified with an email"] == "passed"


async def test_guest_checkout_fails_at_the_order_when_the_browser_sends_it(
        flow_traffic: Flows) -> None:
    ids: dict[str, str] = {}

    def browser_order(traffic: Traffic) -> None:
        browse(traffic)
        identify(traffic)
        checkout(traffic)
        ids["order"] = traffic.web("track", anonymousId="anon-1", event="Order Completed",
                                   properties={"order_id": "o-1", "total": 49.0,
                                               "currency": "GBP", "items": ITEMS})

    [result] = await flow_traffic(browser_order, "guest-checkout")
    last = result.steps[-1]
    assert (last.name, last.status) == ("Order Completed", StepStatus.FAILED)
    assert last.message_ids == [ids["order"]]
    assert last.reason == ('context.library.name is "analytics.js": this step must come from '
                           'a server library')
    assert [str(step.status) for step in result.steps[:-1]] == ["passed"] * 4


async def test_guest_checkout_fails_at_the_order_when_total_is_a_string(
        flow_traffic: Flows) -> None:
    def string_total(traffic: Traffic) -> None:
        browse(traffic)
        identify(traffic)
        checkout(traffic)
        order(traffic, total="49.00")

    [result] = await flow_traffic(string_total, "guest-checkout")
    last = result.steps[-1]
    assert last.status is StepStatus.FAILED
    assert last.reason == "properties.total: Invalid type. Expected: number, given: string"
    assert [v.field for v in last.violations] == ["properties.total"]


def returning(traffic: Traffic, *, order_user: str = "81001") -> None:
    traffic.web("identify", anonymousId="anon-r", userId="81001",
                traits={"email": "ada@shop.test"})
    traffic.web("track", anonymousId="anon-r", userId="81001", event="Checkout Started",
                properties={"cart_id": "c-1", "items": ITEMS})
    order(traffic, user=order_user)


async def test_returning_customer_passes_under_one_user_id(flow_traffic: Flows) -> None:
    [result] = await flow_traffic(returning, "returning-customer")
    assert result.status is RunStatus.PASSED, result.to_dict()


async def test_returning_customer_fails_at_the_order_with_two_user_ids(
        flow_traffic: Flows) -> None:
    def two_ids(traffic: Traffic) -> None:
        returning(traffic, order_user="8412")
        # The order service also knows the shopper's email: one person, two userIds.
        traffic.backend.identify("8412", {"email": "ada@shop.test"}, message_id=mid())

    [result] = await flow_traffic(two_ids, "returning-customer")
    assert statuses(result) == {"Signed in": "passed", "Checkout Started": "passed",
                                "Order Completed": "failed"}
    reason = result.steps[-1].reason
    assert reason is not None
    assert 'userId is "8412", not "81001" as in the Signed in call' in reason
    assert "the sender carries 2 userIds: 81001, 8412" in reason


def multi_device(traffic: Traffic, *, merge: bool = True) -> None:
    traffic.ios("track", anonymousId="anon-phone", event="Added to Cart",
                properties={"cart_id": "c-9", "product_id": "MUG-11", **MUG})
    traffic.web("identify", anonymousId="anon-web", userId="81001",
                traits={"email": "ada@shop.test"})
    if merge:
        traffic.ios("alias", anonymousId="anon-phone", userId="81001",
                    previousId="anon-phone")
    traffic.web("track", anonymousId="anon-web", userId="81001", event="Checkout Started",
                properties={"cart_id": "c-9", "items": [MUG]})
    order(traffic, user="81001")


async def test_multi_device_passes_when_an_alias_links_both_devices(flow_traffic: Flows) -> None:
    [result] = await flow_traffic(multi_device, "multi-device")
    assert result.status is RunStatus.PASSED, result.to_dict()


async def test_multi_device_without_a_merge_path_fails_at_the_account(
        flow_traffic: Flows) -> None:
    [result] = await flow_traffic(lambda traffic: multi_device(traffic, merge=False),
                                  "multi-device")
    step = result.steps[1]
    assert (step.name, step.status) == ("Account created on another device", StepStatus.FAILED)
    assert step.reason == ("this call came from ada@shop.test, not from anon-phone (the person "
                           "this flow follows): no identify or alias links them")


async def test_a_merge_arriving_later_counts_when_the_run_is_read(flow_traffic: Flows) -> None:
    def late_merge(traffic: Traffic) -> None:
        multi_device(traffic, merge=False)
        # The phone signs in after the order: Customer.io merges the anonymous cart now.
        traffic.ios("identify", anonymousId="anon-phone", userId="81001")

    [result] = await flow_traffic(late_merge, "multi-device")
    assert result.status is RunStatus.PASSED, result.to_dict()


def refund(traffic: Traffic, order_id: str) -> None:
    order(traffic, user="81001")
    traffic.backend.track("81001", "Order Refunded", {"order_id": order_id}, message_id=mid())


async def test_refund_passes_with_the_same_order_id(flow_traffic: Flows) -> None:
    [result] = await flow_traffic(lambda traffic: refund(traffic, "o-1"), "refund")
    assert result.status is RunStatus.PASSED, result.to_dict()


async def test_refund_of_another_order_fails_at_the_refund(flow_traffic: Flows) -> None:
    [result] = await flow_traffic(lambda traffic: refund(traffic, "o-2"), "refund")
    assert statuses(result) == {"Order Completed": "passed", "Order Refunded": "failed"}
    assert result.steps[1].reason == ('properties.order_id is "o-2", not "o-1" as in the Order '
                                      'Completed call')


def cancel(traffic: Traffic, consent: bool) -> None:
    traits: dict[str, Any] = {"email": "ada@shop.test"}
    if consent:
        traits["marketing_opt_in"] = False
    traffic.web("identify", anonymousId="anon-s", userId="81001", traits=traits)
    traffic.backend.track("81001", "Subscription Canceled", {"subscription_id": "sub-1"},
                          message_id=mid())


async def test_subscription_cancel_passes_with_consent_known(flow_traffic: Flows) -> None:
    [result] = await flow_traffic(lambda traffic: cancel(traffic, True), "subscription-cancel")
    assert result.status is RunStatus.PASSED, result.to_dict()


async def test_subscription_cancel_fails_without_consent_known(flow_traffic: Flows) -> None:
    [result] = await flow_traffic(lambda traffic: cancel(traffic, False),
                                  "subscription-cancel")
    assert result.status is RunStatus.FAILED
    assert result.steps[0].reason == ("the sender never sent traits.marketing_opt_in as true "
                                      "or false")


async def test_a_journey_still_under_way_is_incomplete(flow_traffic: Flows) -> None:
    def half(traffic: Traffic) -> None:
        browse(traffic)
        identify(traffic)

    [result] = await flow_traffic(half, "guest-checkout", ended=False)
    assert result.status is RunStatus.INCOMPLETE
    assert statuses(result) == {
        "Product Viewed": "passed", "Added to Cart": "passed",
        "Identified with an email": "passed", "Checkout Started": "pending",
        "Order Completed": "pending"}
