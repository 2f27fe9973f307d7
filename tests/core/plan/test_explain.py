"""The explain trees name exactly what ``iter_errors`` names, in the same order.

:mod:`inspector.core.plan.explain` replaces jsonschema_rs ``iter_errors`` on the ingest path for
speed; these tests hold it to the slow path's output on the fixture plans and on generated
values, so that a change in jsonschema_rs's error order or wording shows up here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.core.model import Status, Violation
from inspector.core.plan import (
    PlanValidator,
    compile_plan,
    explain,
    load_data,
    load_plan_file,
    read_plan,
)
from inspector.core.plan.compile import CompiledRule, explain_tree, names_validator
from inspector.core.plan.messages import to_violations
from inspector.core.plan.validator import _all_planned
from tests.core.plan.conftest import EXAMPLE, FIXTURES

_PLANS = [*sorted(FIXTURES.glob("*.json")), EXAMPLE]


def _slow(compiled: CompiledRule, value: Any, *, member: bool, common: bool) -> list[Violation]:
    validator = compiled.member_validator if member else compiled.validator
    prefix: tuple[str, ...] = (compiled.member,) if member else ()
    return [v for error in validator.iter_errors(value)
            for v in to_violations(error, common=common, prefix=prefix)]


_TREES: dict[tuple[int, bool], explain.Node] = {}


def _fast(compiled: CompiledRule, value: Any, *, member: bool, common: bool) -> list[Violation]:
    key = (id(compiled), member)
    if key not in _TREES:  # building compiles a dozen validators: once per rule, as in use
        _TREES[key] = explain_tree(compiled, member=member)
    tree = _TREES[key]
    out: list[Violation] = []
    validator = compiled.member_validator if member else compiled.validator
    if not validator.is_valid(value):
        prefix: tuple[str, ...] = (compiled.member,) if member else ()
        tree.collect(value, prefix, out, common)
    return out


_SCALARS = [None, True, False, 0, 1, -1, 2.5, 1.0, 10**20, "", "x", "USD", "usd", "a@b.co",
            "2024-05-01T10:11:12Z", "yesterday", "1.2.3", "free", "pro"]
_json = st.recursive(
    st.sampled_from(_SCALARS) | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)


def _values(schema: Any, data: st.DataObject, depth: int = 0) -> Any:
    """A value shaped like ``schema`` (so deep keywords are reached), often subtly wrong."""
    if depth > 4 or not isinstance(schema, dict) or data.draw(st.integers(0, 9)) == 0:
        return data.draw(_json)
    properties = schema.get("properties")
    if isinstance(properties, dict):
        names = [*list(properties), "unplanned", "Order_ID"]
        chosen = data.draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
        return {name: _values(properties.get(name), data, depth + 1) for name in chosen}
    items = schema.get("items")
    if isinstance(items, dict):
        return [_values(items, data, depth + 1) for _ in range(data.draw(st.integers(0, 3)))]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum and data.draw(st.booleans()):
        return data.draw(st.sampled_from(enum))
    return data.draw(st.sampled_from(_SCALARS) | _json)


def _rules() -> list[tuple[str, CompiledRule]]:
    found = []
    for path in _PLANS:
        plan = load_plan_file(path)
        for versions in plan.rules.values():
            for compiled in versions:
                found.append((f"{path.name}:{compiled.rule.label}", compiled))
    return found


_ALL = _rules()


@pytest.mark.parametrize(("label", "compiled"), _ALL, ids=[label for label, _ in _ALL])
@settings(max_examples=6, deadline=None)
@given(data=st.data())
def test_tree_and_validators_match_slow_paths(
    label: str, compiled: CompiledRule, data: st.DataObject
) -> None:
    common = not compiled.member
    schema = compiled.rule.schema
    payload = _values(schema, data)
    assert _fast(compiled, payload, member=False, common=common) == _slow(
        compiled, payload, member=False, common=common), label
    if compiled.member_validator is not None and isinstance(payload.get(compiled.member)
                                                            if isinstance(payload, dict)
                                                            else None, dict):
        value = payload[compiled.member]
        assert _fast(compiled, value, member=True, common=False) == _slow(
            compiled, value, member=True, common=False), label
    # The strict and names-only validators stand in for _all_planned (and the strict one for
    # member_validator too): check them on the same values.
    value = _values(compiled.rule.member_schema(), data)
    if compiled.strict_validator is not None and isinstance(value, dict) and (
        compiled.strict_validator.is_valid(value)
    ):
        assert compiled.member_validator.is_valid(value), label
        assert compiled.keys is None or _all_planned(compiled.keys, value), label
    names = names_validator(compiled)
    if names is not None and compiled.keys is not None:
        assert names.is_valid(value) == _all_planned(compiled.keys, value), label


_TRICKY: dict[str, Any] = {
    "type": "object",
    "required": ["a", "b", "n"],
    "properties": {
        "a": {"type": "string", "minLength": 3, "maxLength": 4, "pattern": "^[a-z]+$",
              "format": "email", "enum": ["abcd", "ab", "ABC"]},
        "b": {"type": ["integer", "null", "string"], "minimum": 2, "multipleOf": 2},
        "c": {"const": "x"},
        "d": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1.5},
        "n": {"type": "object", "required": ["z"], "properties": {
            "list": {"type": "array", "items": {"type": "object", "required": ["k"],
                                                "properties": {"k": {"type": "boolean"}}}},
            "z": {"type": ["array", "object"]}}},
        "e": {"type": "object", "additionalProperties": False, "properties": {"q": {}}},
        "f": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        "g": {"type": "array", "minItems": 2, "items": {"enum": [1, 2]}},
        "h": {"enum": [{"k": 1, "a": 2}, [1]]},
        "i": {"type": ["object", "null"], "properties": {"x": {"type": "string"}}},
        "j": True,
        "k": False,
    },
}


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_tricky_schema_matches_iter_errors(data: st.DataObject) -> None:
    plan = compile_plan(load_data({"rules": [{"type": "TRACK", "key": "E", "version": 1,
                                              "jsonSchema": {"properties": {
                                                  "properties": _TRICKY}}}]}))
    compiled = plan.rules[next(iter(plan.rules))][0]
    value = _values(_TRICKY, data)
    assert _fast(compiled, value, member=True, common=False) == _slow(
        compiled, value, member=True, common=False)
    payload = {"type": "track", "event": "E", "properties": value}
    assert _fast(compiled, payload, member=False, common=False) == _slow(
        compiled, payload, member=False, common=False)


def test_split_is_skipped_where_it_cannot_be_exact() -> None:
    import jsonschema_rs

    for schema in ({"$ref": "#/definitions/x", "definitions": {"x": {}}},
                   {"properties": {"a": {"$id": "http://x/y"}}}):
        assert explain.build(schema, jsonschema_rs.Draft7Validator) is None
    assert explain.build({"type": "string"}, jsonschema_rs.Draft4Validator) is None


def test_validator_uses_trees_and_agrees(tmp_path: Path) -> None:
    plan = read_plan(FIXTURES / "public-api-raw.json")
    validator = PlanValidator(compile_plan(plan))
    payload = {"type": "track", "event": "Order Completed", "userId": "u",
               "properties": {"total": "1", "currency": "usd", "items": [{"price": "x"}]}}
    status, violations = validator.validate(payload)
    assert status is Status.INVALID
    compiled = validator.rule_for(payload)
    assert compiled is not None
    assert violations == _slow(compiled, payload["properties"], member=True, common=False)
    assert validator.validate(payload) == (status, violations)  # cached violations: same again

