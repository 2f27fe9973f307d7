"""Each violation kind from a concrete event: kind, field (Segment's path) and message."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.core.model import Severity, Status, Violation
from inspector.core.plan import PlanValidator, compile_plan, load_data, load_plan_file
from tests.core.plan.conftest import FIXTURES, track


def _kinds(violations: list[Violation]) -> list[tuple[str, str, str]]:
    return [(str(v.kind), v.field, v.message) for v in violations]


def _order(**properties: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"order_id": "o1", "total": 10, "currency": "USD"}
    base.update(properties)
    return track("Order Completed", {k: v for k, v in base.items() if v is not None})


def test_valid_event(validator: PlanValidator) -> None:
    assert validator.validate(_order()) == (Status.VALID, [])


def test_unplanned_event_with_suggestion(validator: PlanValidator) -> None:
    status, violations = validator.validate(track("Completed Order"))
    assert status is Status.UNPLANNED
    assert _kinds(violations) == [("Unplanned Event", "event",
        "Event 'Completed Order' is not in the tracking plan; did you mean 'Order Completed'?")]
    assert violations[0].suggestion == "Order Completed"
    assert violations[0].severity is Severity.ERROR


def test_matching_is_exact(validator: PlanValidator) -> None:
    for name in ("order completed", "Order  Completed", "Order Completed "):
        status, violations = validator.validate(track(name))
        assert status is Status.UNPLANNED
        assert violations[0].suggestion == "Order Completed"


def test_required(validator: PlanValidator) -> None:
    status, violations = validator.validate(_order(order_id=None, total=None))
    assert status is Status.INVALID
    assert _kinds(violations) == [
        ("Required", "properties.order_id", "properties.order_id is required"),
        ("Required", "properties.total", "properties.total is required"),
    ]


def test_required_member_object(validator: PlanValidator) -> None:
    payload = _order()
    del payload["properties"]
    assert _kinds(validator.validate(payload)[1])[0] == (
        "Required", "properties", "properties is required")


def test_invalid_type_nested_array_path(validator: PlanValidator) -> None:
    status, violations = validator.validate(
        _order(total="10", items=[{"sku": "a", "price": 1}, {"sku": "b", "price": "2"}])
    )
    assert status is Status.INVALID
    assert _kinds(violations) == [
        ("Invalid Type", "properties.total", "Invalid type. Expected: number, given: string"),
        ("Invalid Type", "properties.items.1.price",
         "Invalid type. Expected: number, given: string"),
    ]


def test_invalid_type_union_and_integer(validator: PlanValidator) -> None:
    payload = {"type": "group", "groupId": "g", "userId": "u",
               "traits": {"name": "Acme", "employees": 2.5}}
    assert _kinds(validator.validate(payload)[1]) == [(
        "Invalid Type", "traits.employees", "Invalid type. Expected: [null,integer], given: number"
    )]


def test_pattern(validator: PlanValidator) -> None:
    assert _kinds(validator.validate(_order(currency="usd"))[1]) == [
        ("Does Not Match Pattern", "properties.currency", "Does not match pattern '^[A-Z]{3}$'")]


def test_enum(validator: PlanValidator) -> None:
    payload = {"type": "identify", "userId": "u", "traits": {"email": "a@b.co", "plan": "gold"}}
    assert _kinds(validator.validate(payload)[1]) == [(
        "Not In Enum", "traits.plan",
        'traits.plan must be one of the following: "free", "pro", "enterprise"')]


def test_format_date_time_and_email(validator: PlanValidator) -> None:
    _status, violations = validator.validate(_order(placed_at="yesterday"))
    assert _kinds(violations) == [
        ("Invalid Format", "properties.placed_at", "Does not match format 'date-time'")]
    payload = {"type": "identify", "userId": "u", "traits": {"email": "not-an-email"}}
    assert _kinds(validator.validate(payload)[1]) == [
        ("Invalid Format", "traits.email", "Does not match format 'email'")]


def test_out_of_range(validator: PlanValidator) -> None:
    assert _kinds(validator.validate(_order(total=-1))[1]) == [
        ("Out Of Range", "properties.total", "Must be greater than or equal to 0")]
    payload = {"type": "identify", "userId": "u", "traits": {"email": "a@b.co", "age": 200}}
    assert _kinds(validator.validate(payload)[1]) == [
        ("Out Of Range", "traits.age", "Must be less than or equal to 130")]


def test_common_json_schema_violation(validator: PlanValidator) -> None:
    payload = _order(timestamp=None)
    payload["timestamp"] = "not a date"
    payload["context"] = {"app": {"version": "v1"}}
    status, violations = validator.validate(payload)
    assert status is Status.INVALID
    assert sorted(_kinds(violations)) == [
        ("Common JSON Schema Violation", "context.app.version",
         "Does not match pattern '^[0-9]+\\.[0-9]+\\.[0-9]+$'"),
        ("Common JSON Schema Violation", "timestamp", "Does not match format 'date-time'"),
    ]


def test_alias_valid_unless_common_fails(validator: PlanValidator) -> None:
    alias = {"type": "alias", "userId": "u", "previousId": "a"}
    assert validator.validate(alias) == (Status.VALID, [])
    status, violations = validator.validate({**alias, "timestamp": "soon"})
    assert status is Status.INVALID
    assert violations[0].kind == "Common JSON Schema Violation"


def test_unplanned_property_and_trait_with_suggestions(validator: PlanValidator) -> None:
    status, violations = validator.validate(_order(total=None, cart_total=3))
    assert status is Status.INVALID  # total is required; the unplanned property only warns
    unplanned = [v for v in violations if v.kind == "Unplanned Property"]
    assert [(v.field, v.suggestion, v.severity) for v in unplanned] == [
        ("properties.cart_total", "total", Severity.WARNING)]
    assert "did you mean 'total'?" in unplanned[0].message
    payload = {"type": "identify", "userId": "u", "traits": {"email": "a@b.co", "Plan": "pro"}}
    status, violations = validator.validate(payload)
    assert status is Status.VALID
    assert [(str(v.kind), v.field, v.suggestion) for v in violations] == [
        ("Unplanned Trait", "traits.Plan", "plan")]


def test_nested_unplanned_property(validator: PlanValidator) -> None:
    _, violations = validator.validate(_order(items=[{"sku": "a", "colour": "red"}]))
    assert [v.field for v in violations] == ["properties.items.0.colour"]


def test_additional_properties_false_is_an_error(validator: PlanValidator) -> None:
    payload = track("Signed Up", {"method": "sso", "referrer": "x"})
    payload["context"] = {"protocols": {"event_version": 2}}
    status, violations = validator.validate(payload)
    assert status is Status.INVALID
    assert _kinds(violations) == [("Unplanned Property", "properties.referrer",
                                   "Additional property referrer is not allowed")]


def test_all_violations_are_collected(validator: PlanValidator) -> None:
    status, violations = validator.validate(
        _order(order_id=1, total="x", currency="eur", placed_at="now", extra=True)
    )
    assert status is Status.INVALID
    assert {str(v.kind) for v in violations} == {
        "Invalid Type", "Does Not Match Pattern", "Invalid Format", "Unplanned Property"}
    assert len(violations) == 5


def test_versions(validator: PlanValidator) -> None:
    # v1 (the oldest, the default) does not require currency; v2 does.
    no_currency = _order(currency=None)
    assert validator.validate(no_currency)[0] is Status.VALID
    no_currency["context"] = {"protocols": {"event_version": 2}}
    assert _kinds(validator.validate(no_currency)[1]) == [
        ("Required", "properties.currency", "properties.currency is required")]
    no_currency["context"] = {"protocols": {"event_version": 9}}  # unknown: the oldest
    assert validator.validate(no_currency)[0] is Status.VALID
    sso = track("Signed Up", {"method": "sso"})
    assert validator.validate(sso)[1][0].kind == "Not In Enum"
    sso["context"] = {"protocols": {"event_version": 2}}
    assert validator.validate(sso) == (Status.VALID, [])


def test_page_and_screen_rules(validator: PlanValidator) -> None:
    page = {"type": "page", "name": "Pricing", "userId": "u", "properties": {}}
    assert _kinds(validator.validate(page)[1]) == [
        ("Required", "properties.path", "properties.path is required")]
    # A page without a rule of its own is not "unplanned": Segment only plans track events.
    assert validator.validate({**page, "name": "Home"}) == (Status.VALID, [])
    screen = {"type": "screen", "name": "Home", "userId": "u", "properties": {"name": 3}}
    assert validator.validate(screen)[1][0].field == "properties.name"


def test_settings_flags() -> None:
    rules = [{"type": "TRACK", "key": "A", "version": 1, "jsonSchema": {"properties": {
        "properties": {"properties": {"x": {}}}}}}]
    strict = PlanValidator(compile_plan(load_data({"rules": rules, "settings": {
        "allow_unplanned_track_events": True,
        "allow_unplanned_track_event_properties": False}})))
    status, violations = strict.validate(track("A", {"y": 1}))
    assert status is Status.INVALID
    assert violations[0].severity is Severity.ERROR
    status, violations = strict.validate(track("B"))
    assert status is Status.UNPLANNED
    assert violations[0].severity is Severity.WARNING


def test_non_object_payloads_do_not_raise(validator: PlanValidator) -> None:
    for payload in (None, 1, "x", [], {"type": 3}, {"type": "track", "event": None},
                    {"type": "track", "event": "Order Completed", "properties": [1]},
                    {"type": "identify", "traits": "x", "context": {"protocols": []}}):
        status, _ = validator.validate(payload)  # type: ignore[arg-type]
        assert status in (Status.VALID, Status.INVALID, Status.UNPLANNED)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    call=st.sampled_from(["track", "identify", "group", "page", "screen", "alias", "x"]),
    event=st.sampled_from(["Order Completed", "Signed Up", "Nope"]) | _json,
    properties=_json,
    traits=_json,
    context=_json,
)
def test_never_raises_on_any_json(
    call: str, event: Any, properties: Any, traits: Any, context: Any
) -> None:
    validator = _cached()
    payload = {"type": call, "event": event, "name": event, "properties": properties,
               "traits": traits, "context": context, "timestamp": event}
    status, violations = validator.validate(payload)
    assert status is not Status.MALFORMED
    assert all(v.message and not v.message.startswith("The event could not") for v in violations)


_VALIDATORS: dict[str, PlanValidator] = {}


def _cached() -> PlanValidator:
    # Hypothesis re-runs the body many times; function-scoped fixtures are not allowed there.
    if "raw" not in _VALIDATORS:
        _VALIDATORS["raw"] = PlanValidator(load_plan_file(FIXTURES / "public-api-raw.json"))
    return _VALIDATORS["raw"]


def test_thread_safe(validator: PlanValidator) -> None:
    payloads = [_order(), _order(total="x"), track("Completed Order"), _order(extra_prop=1)]
    expected = [validator.validate(p) for p in payloads]
    failures: list[str] = []

    def work() -> None:
        for _ in range(300):
            for payload, want in zip(payloads, expected, strict=True):
                if validator.validate(payload) != want:
                    failures.append("mismatch")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


@pytest.mark.parametrize("value", [True, "2", 2.5, None])
def test_event_version_must_be_an_integer(validator: PlanValidator, value: Any) -> None:
    payload = _order(currency=None)
    payload["context"] = {"protocols": {"event_version": value}}
    # Not an integer: Segment falls back to the oldest version, which does not need currency.
    assert validator.validate(payload)[0] is Status.VALID


def test_const_is_named_like_an_enum() -> None:
    plan = load_data({"rules": [{
        "type": "TRACK", "key": "Plan Chosen", "version": 1,
        "jsonSchema": {"type": "object", "properties": {"properties": {
            "type": "object", "properties": {"currency": {"const": "USD"}}}}},
    }]})
    status, violations = PlanValidator(compile_plan(plan)).validate(
        track("Plan Chosen", {"currency": "EUR"}))
    assert status is Status.INVALID
    assert _kinds(violations) == [
        ("Not In Enum", "properties.currency", 'properties.currency does not match: "USD"')]
