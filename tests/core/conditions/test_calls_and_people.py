"""WHEN (call match) and person-level conditions, asked of the identity graph's people."""

from __future__ import annotations

from itertools import count
from typing import Any

import pytest
from pydantic import ValidationError

from inspector.core.conditions import (
    CallMatch,
    Expectation,
    PersonCondition,
    compile_expectation,
    compile_match,
    compile_person,
)
from inspector.core.observed import ObservedEvent
from inspector.core.people import IdentityGraph, Person

_ids = count(1)


def call(type_: str, *, key: str = "web-key", library: str = "analytics.js",
         names: dict[str, str] | None = None, **body: Any) -> ObservedEvent:
    payload = {"type": type_, "context": {"library": {"name": library}}, **body}
    number = next(_ids)
    return ObservedEvent.build(
        id=number, received_at=1_700_000_000.0 + number, write_key=key, type=type_,
        name=body.get("event") or body.get("name"), user_id=body.get("userId"),
        anonymous_id=body.get("anonymousId"), message_id=f"m-{number}", payload=payload,
        write_key_names=names or {"web-key": "web", "backend-key": "backend"})


def match(**rule: Any) -> Any:
    return compile_match(CallMatch.model_validate(rule), consent_trait="marketing_opt_in")


ORDER = call("track", key="backend-key", library="analytics-python", userId="81001",
             event="Order Completed", properties={"order_id": "o-1", "total": 25})
CART = call("track", anonymousId="a-1", event="Added to Cart", properties={"cart_id": "c-1"})


@pytest.mark.parametrize(("rule", "order", "cart"), [
    ({}, True, True),
    ({"type": "track"}, True, True),
    ({"type": ["identify", "page"]}, False, False),
    ({"event": "Order Completed"}, True, False),
    ({"event": ["Added to Cart", "Product Added"]}, False, True),
    ({"source": "backend"}, True, False),
    ({"library": "server"}, True, False),
    ({"library": "browser"}, False, True),
    ({"library": "analytics.js"}, False, True),
    ({"write_key": "web-key"}, False, True),
    ({"fields": {"properties.cart_id": {"exists": True}}}, False, True),
    ({"event": "Order Completed", "fields": {"properties.total": {"min": 30}}}, False, False),
])
def test_a_call_match_picks_by_every_key(rule: dict[str, Any], order: bool, cart: bool) -> None:
    compiled = match(**rule)
    assert compiled.picks_call(ORDER) is order
    assert compiled.picks_call(CART) is cart


def test_a_misspelt_call_type_is_an_error_not_a_match_nothing() -> None:
    with pytest.raises(ValidationError, match="'track'"):
        CallMatch.model_validate({"type": "trak"})
    with pytest.raises(ValidationError, match="Extra inputs"):
        CallMatch.model_validate({"evnt": "Order Completed"})
    with pytest.raises(ValidationError, match="segment"):
        CallMatch.model_validate({"fields": {"properties..total": {"exists": True}}})


def person_after(*calls: ObservedEvent) -> Person:
    graph = IdentityGraph()
    person = None
    for item in calls:
        person = graph.observe(item) or person
    assert person is not None
    return graph.find(person.id) or person


def messages(condition: dict[str, Any], person: Person | None, as_of: int | None = None
             ) -> list[str]:
    compiled = compile_person(PersonCondition.model_validate(condition),
                              consent_trait="marketing_opt_in")
    assert compiled is not None
    return [violation.message for violation in compiled.violations(person, as_of=as_of)]


def test_person_conditions_now_and_as_of_a_call() -> None:
    cart = call("track", anonymousId="a-9", event="Added to Cart")
    identify = call("identify", anonymousId="a-9", userId="jo@shop.test",
                    traits={"email": "jo@shop.test", "marketing_opt_in": False,
                            "vip_tier": "gold"})
    person = person_after(cart, identify)
    everything = {"identified": True, "email_known": True, "consent_known": True,
                  "single_user_id": True, "user_id_shape": "email",
                  "traits": {"vip_tier": {"one_of": ["gold", "silver"]}}}
    assert messages(everything, person) == []
    # Before the identify arrived, none of it was known.
    assert messages(everything, person, as_of=cart.id) == [
        "jo@shop.test has no userId (never identified)",
        "no email is known for jo@shop.test",
        "jo@shop.test never sent traits.marketing_opt_in as true or false",
        "traits.vip_tier is required",
    ]
    assert messages({"email_known": False, "identified": False}, person) == [
        "jo@shop.test is identified as jo@shop.test",
        "an email is known for jo@shop.test: jo@shop.test",
    ]


def test_user_id_shapes_and_several_user_ids() -> None:
    person = person_after(
        call("identify", anonymousId="a-3", userId="8412", traits={}),
        call("identify", anonymousId="a-3", userId="ann@shop.test", traits={}))
    assert messages({"single_user_id": True, "user_id_shape": ["email", "uuid"]}, person) == [
        "ann@shop.test carries 2 userIds: 8412, ann@shop.test",
        "userId 8412 is numeric, expected: email or uuid",
    ]


def test_a_call_with_no_identifier_has_no_person() -> None:
    assert messages({"email_known": True}, None) == ["no email is known for this call's sender"]


def test_an_expectation_reports_fields_then_person() -> None:
    expectation = compile_expectation(Expectation.model_validate({
        "fields": {"properties.total": {"type": "number"}},
        "person": {"email_known": True}}), consent_trait="marketing_opt_in")
    bad = call("track", anonymousId="a-5", event="Order Completed",
               properties={"total": "25.00"})
    graph = IdentityGraph()
    person = graph.observe(bad)
    assert [v.message for v in expectation.violations(bad, person)] == [
        "Invalid type. Expected: number, given: string",
        "no email is known for a-5",
    ]
    assert not compile_expectation(None, consent_trait="marketing_opt_in")
