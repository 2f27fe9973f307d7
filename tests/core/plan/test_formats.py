"""Loading every supported plan format, and naming what is wrong with bad ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inspector.core.model import Status
from inspector.core.plan import (
    PlanError,
    PlanValidator,
    RuleType,
    TrackingPlan,
    compile_plan,
    load_data,
    load_plan_file,
    read_plan,
)
from inspector.core.plan.formats import detect_format
from tests.core.plan.conftest import EXAMPLE, FIXTURES, track


def _raw() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "public-api-raw.json").read_text())
    return data


def test_public_api_raw_export_with_every_rule_type(raw_plan: TrackingPlan) -> None:
    assert raw_plan.format == "segment-public-api"
    types = {rule_type for rule_type, _ in raw_plan.rules}
    assert types == set(RuleType)
    versions = raw_plan.rules[(RuleType.TRACK, "Order Completed")]
    assert [rule.version for rule in versions] == [1, 2]
    signed_up = raw_plan.rules[(RuleType.TRACK, "Signed Up")]
    assert [rule.deprecated for rule in signed_up] == [True, False]
    assert raw_plan.rules[(RuleType.IDENTIFY, None)][0].required_fields() == ["traits.email"]
    assert raw_plan.rules[(RuleType.TRACK, "Order Completed")][0].labels == {"team": "growth"}


def test_public_api_paginated_page_and_saved_pages() -> None:
    rules = _raw()["rules"]
    page = {"data": {"rules": rules, "pagination": {"current": "a", "next": None}}}
    assert load_data(page).format == "segment-public-api"
    assert len(load_data(page)) == len(rules)
    pages = [
        {"data": {"rules": rules[:4], "pagination": {"current": "a", "next": "b"}}},
        {"data": {"rules": rules[4:], "pagination": {"current": "b", "next": None}}},
    ]
    plan = load_data(pages)
    assert len(plan) == len(rules)
    # A bare list of rules, and a saved fetch with trackingPlan metadata, load too.
    assert len(load_data(rules)) == len(rules)
    saved = load_data({"trackingPlan": {"id": "tp_1", "name": "Web"}, "rules": rules})
    assert saved.name == "Web"


def test_typewriter_plan_json_is_unflattened() -> None:
    plan = read_plan(FIXTURES / "public-api-sanitized.json")
    assert plan.format == "typewriter"
    assert len(plan) == 25
    validator = PlanValidator(compile_plan(plan))
    # "regex property" is required and must match "Lawyer Morty|Evil Morty".
    status, violations = validator.validate(
        track("Default Violation Handler", {"regex property": "Rick"})
    )
    assert status is Status.INVALID
    assert [(v.kind, v.field) for v in violations] == [
        ("Does Not Match Pattern", "properties.regex property")
    ]
    status, _ = validator.validate(
        track("Default Violation Handler", {"regex property": "Evil Morty"})
    )
    assert status is Status.VALID


@pytest.mark.parametrize(
    ("name", "fmt", "count"),
    [
        ("config-api-v1.json", "config-api", 24),
        ("config-api-v1-edge-cases.json", "config-api", 23),
        ("legacy-local-ecommerce.json", "legacy-local", 1),
        ("legacy-local-draft04-draft06.json", "legacy-local", 7),
    ],
)
def test_legacy_formats(name: str, fmt: str, count: int) -> None:
    plan = read_plan(FIXTURES / name)
    assert plan.format == fmt
    assert len(plan) == count
    assert all(rule_type is RuleType.TRACK for rule_type, _ in plan.rules)


def test_config_api_draft04_id_annotations_do_not_break_validation() -> None:
    plan = read_plan(FIXTURES / "config-api-v1.json")
    validator = PlanValidator(compile_plan(plan))
    status, violations = validator.validate(
        track("Default Violation Handler", {"regex property": "Rick"})
    )
    assert status is Status.INVALID
    assert violations[0].field == "properties.regex property"


def test_config_api_global_identify_group_rules() -> None:
    plan = load_data({"rules": {
        "events": [],
        "global": {"properties": {"context": {"type": "object", "required": ["locale"]}}},
        "identify": {"properties": {"traits": {"properties": {"email": {"type": "string"}}}}},
        "group": {},
        "identify_traits": [],
        "group_traits": [],
    }})
    assert set(plan.rules) == {(RuleType.COMMON, None), (RuleType.IDENTIFY, None)}


def test_draft04_and_draft06_events_validate() -> None:
    validator = PlanValidator(load_plan_file(FIXTURES / "legacy-local-draft04-draft06.json"))
    for event in ("Draft-04 Event", "Draft-06 Event"):
        assert validator.validate(track(event, {}))[0] is Status.VALID
        status, violations = validator.validate({"type": "track", "event": event,
                                                 "userId": "u", "properties": "x"})
        assert status is Status.INVALID
        assert violations[0].message == "Invalid type. Expected: object, given: string"


@pytest.mark.parametrize(
    "uri",
    [
        "http://json-schema.org/draft-04/schema#",
        "http://json-schema.org/draft-06/schema#",
        "http://json-schema.org/draft-07/schema#",
        "https://json-schema.org/draft/2019-09/schema",
        "https://json-schema.org/draft/2020-12/schema",
    ],
)
def test_declared_drafts_with_date_time_format(uri: str) -> None:
    plan = load_data({"rules": [{"type": "TRACK", "key": "E", "version": 1,
        "jsonSchema": {"$schema": uri, "properties": {"properties": {"properties": {
            "at": {"type": "string", "format": "date-time"}}}}}}]})
    validator = PlanValidator(compile_plan(plan))
    ok = validator.validate(track("E", {"at": "2024-05-01T10:00:00.123+02:00"}))
    assert ok[0] is Status.VALID
    status, violations = validator.validate(track("E", {"at": "2024-05-01 10:00"}))
    assert status is Status.INVALID
    assert (violations[0].kind, violations[0].message) == (
        "Invalid Format", "Does not match format 'date-time'")


def test_retention_example_plan_loads() -> None:
    plan = read_plan(EXAMPLE)
    assert plan.format == "segment-public-api"
    assert set(plan.track_keys()) == {"Product Viewed", "Added to Cart", "Checkout Started",
                                      "Order Completed", "Subscription Canceled"}
    assert (RuleType.IDENTIFY, None) in plan.rules
    assert (RuleType.COMMON, None) in plan.rules
    order = plan.rules[(RuleType.TRACK, "Order Completed")][0]
    assert order.required_fields() == [
        "properties.order_id", "properties.total", "properties.currency"]
    validator = PlanValidator(compile_plan(plan))
    good = track("Order Completed", {"order_id": "o1", "total": 30.5, "currency": "EUR",
                                     "items": [{"sku": "A", "name": "Mug", "variant": "blue",
                                                "price": 15.25, "quantity": 2}],
                                     "cart_id": "c1"})
    assert validator.validate(good) == (Status.VALID, [])


# ---- bad input


def test_malformed_json_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text('{\n  "rules": [\n    {"type": "TRACK",, }\n  ]\n}\n')
    with pytest.raises(PlanError) as caught:
        read_plan(path)
    error = caught.value
    assert (error.file, error.line, error.column) == (str(path), 3, 22)
    assert str(error).startswith(f"{path}:3:22: invalid JSON")


def test_not_utf8_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(b'{"rules":\n [\xff]}')
    with pytest.raises(PlanError, match="not UTF-8") as caught:
        read_plan(path)
    assert caught.value.line == 2
    with pytest.raises(PlanError, match="cannot read"):
        read_plan(tmp_path / "missing.json")


def test_unknown_shape_is_not_guessed() -> None:
    for data in ({"foo": 1}, [], [1, 2], "rules", {"rules": "x"}):
        with pytest.raises(PlanError, match="not a tracking plan"):
            detect_format(data)


def _one(schema: dict[str, Any], **rule: Any) -> dict[str, Any]:
    return {"rules": [{"type": "TRACK", "key": "Order Completed", "version": 1,
                       "jsonSchema": schema, **rule}]}


def test_invalid_schema_names_the_rule() -> None:
    # Reading a plan checks its shape; compiling it checks each rule's schema.
    bad = {"properties": {"properties": {"properties": {"total": {"type": "money"}}}}}
    with pytest.raises(PlanError) as caught:
        compile_plan(load_data(_one(bad), source="plan.json"))
    assert caught.value.rule == "TRACK 'Order Completed' v1"
    assert "invalid JSON Schema" in str(caught.value)
    assert "money" in str(caught.value)


def test_lookahead_regex_is_named() -> None:
    schema = {"properties": {"properties": {"properties": {
        "sku": {"type": "string", "pattern": "^(?!TEST)[A-Z]+$"}}}}}
    with pytest.raises(PlanError) as caught:
        compile_plan(load_data(_one(schema)))
    assert caught.value.rule == "TRACK 'Order Completed' v1"
    assert "(?!TEST)" in str(caught.value)
    assert "look-ahead" in str(caught.value)
    behind = {"patternProperties": {"(?<=x)y": {}}}
    with pytest.raises(PlanError, match="look-ahead"):
        compile_plan(load_data(_one(behind)))


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"type": "EVENT"}, "unknown rule type"),
        ({"version": "two"}, "version must be an integer"),
        ({"jsonSchema": None}, "jsonSchema must be a JSON object"),
        ({"key": None}, "needs a key"),
    ],
)
def test_bad_rules(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(PlanError, match=message):
        load_data(_one({}, **rule))


def test_invalid_regex_is_reported() -> None:
    schema = {"properties": {"properties": {"properties": {"sku": {"pattern": "([A-Z"}}}}}
    with pytest.raises(PlanError, match="invalid JSON Schema"):
        compile_plan(load_data(_one(schema)))
