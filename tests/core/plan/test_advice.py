"""The problem list's advice: what to send or add, from a violation."""

from __future__ import annotations

from inspector.core.model import Source, Violation, ViolationKind
from inspector.core.plan.messages import keyword_violations
from inspector.core.plan.suggest import advice


def test_a_wrong_type_says_what_to_send() -> None:
    [violation] = keyword_violations("type", {"types": ["number"]}, ["properties", "price"],
                                     common=False, instance="12.5")
    assert advice(violation) == "send a number"
    [either] = keyword_violations("type", {"types": ["integer", "null"]}, ["properties", "n"],
                                  common=False, instance="1")
    assert advice(either) == "send an integer or null"


def test_a_missing_field_says_what_to_add() -> None:
    [violation] = keyword_violations("required", {"property": "order_id"}, ["properties"],
                                     common=False, instance={})
    assert advice(violation) == "add `order_id` to `properties`"


def test_a_near_miss_name_is_offered_and_other_kinds_say_nothing_more() -> None:
    unplanned = Violation(kind=ViolationKind.UNPLANNED_EVENT, field="event",
                          message="Event 'Completed Order' is not in the tracking plan",
                          suggestion="Order Completed", source=Source.PLAN)
    assert advice(unplanned) == "did you mean `Order Completed`?"
    pattern = Violation(kind=ViolationKind.DOES_NOT_MATCH_PATTERN, field="properties.sku",
                        message="Does not match pattern '^[A-Z]+$'", source=Source.PLAN)
    assert advice(pattern) == ""
