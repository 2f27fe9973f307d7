"""The condition language's field vocabulary: every operator holding and failing, in
Segment's violation words."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from inspector.core.conditions import (
    EACH,
    MISSING,
    FieldCondition,
    FieldPath,
    PathError,
    compile_fields,
    parse_duration,
)
from inspector.core.model import Source


def broken(conditions: dict[str, dict[str, Any]], document: Any) -> list[tuple[str, str, str]]:
    """(kind, field, message) of every failure of ``conditions`` on ``document``."""
    compiled = compile_fields({path: FieldCondition.model_validate(rule)
                               for path, rule in conditions.items()})
    found = compiled.violations(document)
    assert all(violation.source is Source.RULE for violation in found)
    assert compiled.holds(document) == (not found)
    return [(str(v.kind), v.field, v.message) for v in found]


ORDER = {"properties": {"order_id": "o-1", "total": 12.5, "count": 2, "currency": "USD",
                        "coupon": None, "note": "  ", "tags": [], "meta": {},
                        "items": [{"sku": "a", "price": 5}, {"sku": "b", "price": 7.5}]}}


def test_exists_true_means_present_and_not_null() -> None:
    assert broken({"properties.order_id": {"exists": True}}, ORDER) == []
    assert broken({"properties.refund_id": {"exists": True}}, ORDER) == [
        ("Required", "properties.refund_id", "properties.refund_id is required")]
    assert broken({"properties.coupon": {"exists": True}}, ORDER) == [
        ("Required", "properties.coupon", "properties.coupon is required (it is null)")]


def test_exists_false_means_absent_or_null() -> None:
    assert broken({"properties.refund_id": {"exists": False},
                   "properties.coupon": {"exists": False}}, ORDER) == []
    assert broken({"properties.total": {"exists": False}}, ORDER) == [
        ("JSON Schema Violation", "properties.total",
         "properties.total must not be sent, given: 12.5")]


def test_any_condition_implies_presence_unless_optional() -> None:
    # A rule that passes on a call without the property tests nothing: it fails instead.
    assert broken({"properties.tax": {"type": "number"}}, ORDER) == [
        ("Required", "properties.tax", "properties.tax is required")]
    assert broken({"properties.tax": {"type": "number", "optional": True}}, ORDER) == []
    assert broken({"properties.total": {"type": "string", "optional": True}}, ORDER) == [
        ("Invalid Type", "properties.total", "Invalid type. Expected: string, given: number")]


@pytest.mark.parametrize(("path", "blank"), [
    ("properties.missing", True), ("properties.coupon", True), ("properties.note", True),
    ("properties.tags", True), ("properties.meta", True), ("properties.order_id", False),
    ("properties.count", False),
])
def test_blank(path: str, blank: bool) -> None:
    assert broken({path: {"blank": blank}}, ORDER) == []
    [(kind, field, message)] = broken({path: {"blank": not blank}}, ORDER)
    assert field == path
    if blank:  # asked for not blank
        assert kind == "Required"
        assert message.startswith(f"{path} is required")
    else:
        assert kind == "JSON Schema Violation"
        assert message.startswith(f"{path} must be blank, given: ")


def test_equals_is_typed() -> None:
    assert broken({"properties.total": {"equals": 12.5}}, ORDER) == []
    assert broken({"properties.count": {"equals": 2.0}}, ORDER) == []
    assert broken({"properties.total": {"equals": "12.5"}}, ORDER) == [
        ("Not In Enum", "properties.total", 'properties.total does not match: "12.5"')]
    assert broken({"properties.count": {"equals": True}}, {"properties": {"count": 1}}) == [
        ("Not In Enum", "properties.count", "properties.count does not match: true")]
    # equals: null is a condition of its own: sent as null, not left out.
    assert broken({"properties.coupon": {"equals": None}}, ORDER) == []
    assert broken({"properties.refund": {"equals": None}}, ORDER) == [
        ("Required", "properties.refund", "properties.refund is required")]
    assert broken({"properties.count": {"equals": None}}, ORDER) == [
        ("Not In Enum", "properties.count", "properties.count does not match: null")]


def test_one_of_is_typed() -> None:
    assert broken({"properties.currency": {"one_of": ["USD", "EUR"]}}, ORDER) == []
    assert broken({"properties.currency": {"one_of": ["usd", "EUR"]}}, ORDER) == [
        ("Not In Enum", "properties.currency",
         'properties.currency must be one of the following: "usd", "EUR"')]
    assert broken({"properties.count": {"one_of": ["2"]}}, ORDER) == [
        ("Not In Enum", "properties.count", 'properties.count must be one of the following: "2"')]


@pytest.mark.parametrize(("wanted", "path", "holds"), [
    ("number", "properties.total", True),
    ("number", "properties.count", True),  # number includes integer
    ("integer", "properties.count", True),
    ("integer", "properties.total", False),
    ("string", "properties.order_id", True),
    ("array", "properties.items", True),
    ("object", "properties.meta", True),
    ("boolean", "properties.total", False),
    (["string", "number"], "properties.total", True),
])
def test_type(wanted: str | list[str], path: str, holds: bool) -> None:
    result = broken({path: {"type": wanted}}, ORDER)
    assert (result == []) is holds
    if not holds:
        [(kind, field, message)] = result
        assert (kind, field) == ("Invalid Type", path)
        assert message.startswith("Invalid type. Expected: ")


def test_matches_searches_strings_only() -> None:
    assert broken({"properties.order_id": {"matches": r"^o-\d+$"}}, ORDER) == []
    assert broken({"properties.order_id": {"matches": r"^ord_"}}, ORDER) == [
        ("Does Not Match Pattern", "properties.order_id", "Does not match pattern '^ord_'")]
    assert broken({"properties.total": {"matches": r"\d"}}, ORDER) == [
        ("Invalid Type", "properties.total", "Invalid type. Expected: string, given: number")]


def test_number_range() -> None:
    assert broken({"properties.total": {"min": 0, "max": 12.5}}, ORDER) == []
    assert broken({"properties.total": {"min": 20}}, ORDER) == [
        ("Out Of Range", "properties.total", "Must be greater than or equal to 20")]
    assert broken({"properties.total": {"max": 10}}, ORDER) == [
        ("Out Of Range", "properties.total", "Must be less than or equal to 10")]
    assert broken({"properties.order_id": {"min": 0}}, ORDER) == [
        ("Invalid Type", "properties.order_id", "Invalid type. Expected: number, given: string")]


def test_length_of_strings_and_arrays() -> None:
    assert broken({"properties.items": {"min_length": 1, "max_length": 2},
                   "properties.order_id": {"min_length": 3}}, ORDER) == []
    assert broken({"properties.tags": {"min_length": 1}}, ORDER) == [
        ("Out Of Range", "properties.tags", "Array must have at least 1 items")]
    assert broken({"properties.order_id": {"max_length": 2}}, ORDER) == [
        ("Out Of Range", "properties.order_id", "String length must be less than or equal to 2")]
    assert broken({"properties.total": {"min_length": 1}}, ORDER) == [
        ("Invalid Type", "properties.total",
         "Invalid type. Expected: [string,array], given: number")]


def test_a_json_schema_fragment_reports_at_its_path() -> None:
    rule = {"schema": {"type": "object", "required": ["sku", "quantity"],
                       "properties": {"price": {"type": "number", "exclusiveMinimum": 5}}}}
    assert broken({"properties.items[]": rule}, ORDER) == [
        ("Required", "properties.items.0.quantity", "properties.items.0.quantity is required"),
        ("Out Of Range", "properties.items.0.price", "Must be greater than 5"),
        ("Required", "properties.items.1.quantity", "properties.items.1.quantity is required"),
    ]


def test_every_element_of_an_array() -> None:
    assert broken({"properties.items[].sku": {"type": "string"}}, ORDER) == []
    items = {"properties": {"items": [{"sku": "a"}, {"sku": 7}, {"name": "c"}]}}
    assert broken({"properties.items[].sku": {"type": "string"}}, items) == [
        ("Invalid Type", "properties.items.1.sku",
         "Invalid type. Expected: string, given: integer"),
        ("Required", "properties.items.2.sku", "properties.items.2.sku is required"),
    ]
    # Every element of none holds; say min_length to need some.
    assert broken({"properties.tags[].sku": {"exists": True}}, ORDER) == []
    assert broken({"properties.items[].sku": {"exists": True}}, {"properties": {}}) == [
        ("Required", "properties.items", "properties.items is required")]
    assert broken({"properties.order_id[].sku": {"exists": True}}, ORDER) == [
        ("Invalid Type", "properties.order_id", "Invalid type. Expected: array, given: string")]


def test_indexes_and_keys() -> None:
    assert broken({"properties.items.1.price": {"equals": 7.5}}, ORDER) == []
    assert broken({"properties.items.5.price": {"exists": True}}, ORDER) == [
        ("Required", "properties.items.5", "properties.items.5 is required")]
    assert broken({"context.0": {"equals": "x"}}, {"context": {"0": "x"}}) == []


def test_paths_parse() -> None:
    path = FieldPath.parse("properties.items[].sku")
    assert path.segments == ("properties", "items", EACH, "sku")
    assert path.fans_out
    assert FieldPath.parse("properties.items.0").segments == ("properties", "items", 0)
    assert FieldPath.parse("properties.total").first({"properties": {}}) is MISSING
    for text in ("", "properties..total", "items[0]", "a.[]", "a[]]"):
        with pytest.raises(PathError):
            FieldPath.parse(text)


@pytest.mark.parametrize(("rule", "message"), [
    ({"type": "trak"}, "Input should be 'string', 'number'"),
    ({"exists": False, "type": "string"}, "exists: false cannot be combined"),
    ({"matches": "("}, "invalid regular expression"),
    ({"schema": {"type": 12}}, "invalid JSON Schema"),
    ({"exist": True}, "Extra inputs are not permitted"),
    ({"min_length": -1}, "greater than or equal to 0"),
])
def test_rule_mistakes_are_errors(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        FieldCondition.model_validate(rule)


@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90), ("30m", 1800), ("24h", 86400), ("7d", 604800), ("1h30m", 5400),
    ("500ms", 0.5), (60, 60), ("2w", 1209600),
])
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "24", "1x", "-5m", "0s", "5m later", True, None])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)
