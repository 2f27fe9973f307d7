"""Turning a rule's JSON Schema into a compiled validator, once, at load time.

Three things happen per rule:

1. Annotations Segment adds but JSON Schema does not define (``labels``, ``eventMetadata`` and
   the draft-04 ``id`` paths such as ``/properties/properties/properties/total``) are removed:
   a draft-04 ``id`` would otherwise rebase ``$ref`` resolution on a meaningless URI.
2. Every ``pattern`` (and ``patternProperties`` key) is checked for look-around, which Segment
   rejects; accepting it here would pass events Segment flags.
3. The schema is compiled by ``jsonschema_rs`` for its declared draft (04, 06, 07, 2019-09,
   2020-12; draft-07 when none is declared, as every Segment export uses), with ``format``
   assertions on and remote ``$ref`` retrieval off.

It also precomputes :class:`KeyTree`, the declared property names used to report unplanned
properties and traits, and, for the usual rule (one that constrains only ``properties`` or
``traits``), a validator of that sub-object alone plus a *strict* one that also rejects
unplanned names, so that a valid event costs one ``is_valid`` (see the validator module).
The per-part validators that name a failing event's violations (:func:`explain_tree`) and the
names-only validator (:func:`names_validator`) are built on a rule's first failure instead,
keeping plan load time down.

Decision: the top level of ``properties``/``traits`` is always checked (a
planned event with no planned properties makes every sent property unplanned, as in Segment);
nested objects are checked only where the schema lists their ``properties``. Wherever a schema
sets ``additionalProperties`` or ``patternProperties`` the schema itself decides, and a
``false`` there is reported as an unplanned property by the validator.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import jsonschema_rs

from inspector.core.plan import explain
from inspector.core.plan.errors import PlanError
from inspector.core.plan.rules import Rule, RuleType, TrackingPlan

__all__ = ["CompiledPlan", "CompiledRule", "KeyTree", "compile_plan", "compile_rule",
           "explain_tree", "find_lookaround", "names_validator"]

_LOOKAROUND = re.compile(r"\(\?<?[=!]")

_DRAFTS: tuple[tuple[str, Any], ...] = (
    ("draft-04", jsonschema_rs.Draft4Validator),
    ("draft-06", jsonschema_rs.Draft6Validator),
    ("draft-07", jsonschema_rs.Draft7Validator),
    ("2019-09", jsonschema_rs.Draft201909Validator),
    ("2020-12", jsonschema_rs.Draft202012Validator),
)

# Keywords whose value is a subschema, a map of subschemas, or a list of subschemas.
_SUBSCHEMA = ("additionalProperties", "additionalItems", "not", "if", "then", "else", "contains",
              "propertyNames", "unevaluatedProperties", "unevaluatedItems", "items")
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "definitions", "$defs", "dependentSchemas",
                   "dependencies")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems", "items")
_ANNOTATIONS = ("labels", "eventMetadata")


@dataclass(frozen=True, slots=True)
class KeyTree:
    """Declared keys of one object level (``planned``), and where to look further down."""

    planned: frozenset[str] | None
    children: dict[str, KeyTree] = field(default_factory=dict)
    items: KeyTree | None = None


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule with its compiled validator and unplanned-key tree."""

    rule: Rule
    validator: Any
    member: str
    keys: KeyTree | None
    #: Set when the rule constrains nothing but ``properties``/``traits`` (the usual case):
    #: validating that sub-object alone is a third cheaper than walking the whole event.
    member_validator: Any = None
    #: ``member_validator``'s schema plus ``additionalProperties: false`` wherever ``keys``
    #: lists the planned names: passing it means "valid, and nothing unplanned", so the common
    #: event costs one ``is_valid`` and no Python walk over its keys (that walk cost as much as
    #: the validation). Failing it says nothing more: the caller then finds out what failed.
    #: None where the two cannot be made to agree (see :func:`_strict`).
    strict_validator: Any = None


@dataclass(frozen=True, slots=True)
class CompiledPlan:
    """A tracking plan with every rule compiled: what a ``PlanValidator`` validates against.

    A different value from the :class:`TrackingPlan` it comes from (made by
    :func:`compile_plan` only), so that no validator can ever see a plan half compiled.
    """

    plan: TrackingPlan
    #: ``plan.rules``' keys, each with its compiled versions, oldest first.
    rules: Mapping[tuple[RuleType, str | None], tuple[CompiledRule, ...]]

    def __len__(self) -> int:
        return len(self.plan)


def compile_plan(plan: TrackingPlan) -> CompiledPlan:
    """Compile every rule of ``plan``; raises PlanError naming the first bad rule."""
    return CompiledPlan(plan, MappingProxyType({
        key: tuple(compile_rule(rule, source=plan.source) for rule in versions)
        for key, versions in plan.rules.items()
    }))


def compile_rule(rule: Rule, *, source: str = "<memory>") -> CompiledRule:
    """Clean, check and compile one rule's schema."""
    cleaned = _clean(rule.schema, rule, source, "#")
    validator_cls = _validator_class(cleaned)
    try:
        validator = validator_cls(cleaned, validate_formats=True, offline=True)
    except ValueError as error:
        raise PlanError(
            f"invalid JSON Schema: {_describe(error)}", file=source, rule=rule.label
        ) from None
    except Exception as error:  # jsonschema_rs raises a few non-ValueError kinds on odd input
        raise PlanError(f"invalid JSON Schema: {error}", file=source, rule=rule.label) from None
    member = "" if rule.type is RuleType.COMMON else (
        "traits" if rule.type in (RuleType.IDENTIFY, RuleType.GROUP) else "properties"
    )
    keys = None
    member_validator = strict_validator = None
    if member:
        member_schema = rule.member_schema()
        if member_schema is not None:
            keys = _key_tree(_clean(member_schema, rule, source, "#"), top=True)
        if _member_only(cleaned, member):
            member_cleaned = cleaned["properties"][member]
            member_validator = validator_cls(member_cleaned, validate_formats=True, offline=True)
            if keys is None:
                strict_validator = member_validator  # no unplanned-key check to fold in
            else:
                strict = _strict(member_cleaned, keys)
                if strict is not None:
                    strict_validator = validator_cls(strict, validate_formats=True, offline=True)
    return CompiledRule(rule=rule, validator=validator, member=member, keys=keys,
                        member_validator=member_validator, strict_validator=strict_validator)


def _strict(schema: Any, tree: KeyTree | None) -> Any:
    """``schema`` with ``additionalProperties: false`` at every node ``tree`` checks names at.

    Only adds constraints, so passing the result implies passing ``schema`` and
    :func:`~inspector.core.plan.validator._all_planned`. None when a node's planned names do not
    come from its own ``properties`` alone (``allOf``/``anyOf``/``oneOf`` contribute names that
    ``additionalProperties`` does not see).
    """
    if tree is None or not isinstance(schema, dict):
        return schema
    out = dict(schema)
    properties = schema.get("properties")
    if tree.planned is not None:
        if any(name in schema for name in ("allOf", "anyOf", "oneOf")):
            return None
        if frozenset(properties if isinstance(properties, dict) else ()) != tree.planned:
            return None
        out["additionalProperties"] = False
    if tree.children:
        if not isinstance(properties, dict):
            return None
        strict_properties = {}
        for name, sub in properties.items():
            strict_sub = _strict(sub, tree.children.get(name))
            if strict_sub is None:
                return None
            strict_properties[name] = strict_sub
        out["properties"] = strict_properties
    if tree.items is not None:
        items = _strict(schema.get("items"), tree.items)
        if not isinstance(items, dict):
            return None
        out["items"] = items
    return out


def explain_tree(compiled: CompiledRule, *, member: bool) -> explain.Node:
    """The :mod:`~inspector.core.plan.explain` tree naming ``compiled``'s violations.

    ``member``: for ``compiled.member_validator`` (the ``properties``/``traits`` object) rather
    than the whole event. Built on demand (see the explain module): the schema is cleaned again
    rather than kept from :func:`compile_rule`, so a loaded plan holds one copy of each schema.
    """
    rule = compiled.rule
    cleaned = _clean(rule.schema, rule, "<memory>", "#")
    cls = _validator_class(cleaned)
    if member:
        validator = compiled.member_validator
        schema = cleaned["properties"][compiled.member]
    else:
        validator = compiled.validator
        schema = cleaned
    try:
        tree = explain.build(schema, cls, validator)
    except Exception:  # a part that will not compile alone: name errors the slow way
        tree = None
    return tree if tree is not None else explain.Node(validator)


def names_validator(compiled: CompiledRule) -> Any:
    """A validator that passes exactly when ``compiled.keys`` finds nothing unplanned.

    Used once ``strict_validator`` has failed (rare): asking jsonschema_rs whether any name is
    unplanned is cheaper than :func:`~inspector.core.plan.validator._all_planned`'s Python walk
    over the event. Built on demand, like the explain trees, so it costs nothing at load time.
    None when the rule checks no names.
    """
    if compiled.keys is None:
        return None
    cls = _validator_class(compiled.rule.schema)
    return cls(_names_schema(compiled.keys), validate_formats=False, offline=True)


def _names_schema(tree: KeyTree) -> dict[str, Any]:
    # additionalProperties and items only constrain objects and arrays, as _all_planned only
    # looks into dicts and lists: scalars and nulls pass both.
    schema: dict[str, Any] = {}
    if tree.planned is not None:
        schema["properties"] = {
            name: _names_schema(tree.children[name]) if name in tree.children else {}
            for name in tree.planned
        }
        schema["additionalProperties"] = False
    if tree.items is not None:
        schema["items"] = _names_schema(tree.items)
    return schema


_ROOT_ONLY = frozenset({"$schema", "type", "properties", "required", "description", "title",
                        "$comment"})
_EMPTY = frozenset({"description", "title", "$comment"})


def _member_only(schema: dict[str, Any], member: str) -> bool:
    """Whether the whole-event schema checks only ``member`` (and its presence)."""
    if not schema.keys() <= _ROOT_ONLY or schema.get("type", "object") != "object":
        return False
    required = schema.get("required", [])
    properties = schema.get("properties")
    if not isinstance(required, list) or not set(required) <= {member}:
        return False
    if not isinstance(properties, dict) or not isinstance(properties.get(member), dict):
        return False
    others_empty = all(
        isinstance(sub, dict) and sub.keys() <= _EMPTY
        for name, sub in properties.items()
        if name != member
    )
    # A $ref inside the member would resolve against a different root once split off.
    return others_empty and '"$ref"' not in json.dumps(properties[member])


def find_lookaround(pattern: str) -> bool:
    """Whether a regex uses look-ahead or look-behind, which Segment does not support."""
    return _LOOKAROUND.search(pattern) is not None


def _validator_class(schema: dict[str, Any]) -> Any:
    declared = schema.get("$schema")
    if isinstance(declared, str):
        for marker, cls in _DRAFTS:
            if marker in declared:
                return cls
    return jsonschema_rs.Draft7Validator


def _clean(schema: Any, rule: Rule, source: str, path: str) -> Any:
    """A copy of ``schema`` without Segment's annotations, checking every pattern on the way."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for keyword, value in schema.items():
        if keyword in _ANNOTATIONS or (keyword == "id" and isinstance(value, str)):
            continue
        if keyword == "pattern" and isinstance(value, str):
            _check_pattern(value, rule, source, f"{path}/pattern")
        if keyword in _SUBSCHEMA_MAPS and isinstance(value, dict):
            if keyword == "patternProperties":
                for regex in value:
                    _check_pattern(regex, rule, source, f"{path}/patternProperties")
            out[keyword] = {
                name: _clean(sub, rule, source, f"{path}/{keyword}/{name}")
                for name, sub in value.items()
            }
        elif keyword in _SUBSCHEMA_LISTS and isinstance(value, list):
            out[keyword] = [
                _clean(sub, rule, source, f"{path}/{keyword}/{i}") for i, sub in enumerate(value)
            ]
        elif keyword in _SUBSCHEMA:
            out[keyword] = _clean(value, rule, source, f"{path}/{keyword}")
        else:
            out[keyword] = value
    return out


def _check_pattern(pattern: str, rule: Rule, source: str, path: str) -> None:
    if find_lookaround(pattern):
        raise PlanError(
            f"unsupported regex {pattern!r} at {path}: Segment does not support look-ahead or "
            "look-behind",
            file=source,
            rule=rule.label,
        )


def _key_tree(schema: Any, *, top: bool) -> KeyTree | None:
    if not isinstance(schema, dict):
        return None
    if "$ref" in schema or "additionalProperties" in schema or "patternProperties" in schema:
        return None  # the schema decides on extra keys itself (or we cannot see its keys)
    props: dict[str, Any] = {}
    declared = isinstance(schema.get("properties"), dict)
    if declared:
        props.update(schema["properties"])
    for combinator in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(combinator) or []:
            if isinstance(sub, dict) and isinstance(sub.get("properties"), dict):
                declared = True
                props.update(sub["properties"])
    items = _key_tree(schema["items"], top=False) if isinstance(schema.get("items"), dict) else None
    if not declared and not top:
        return KeyTree(planned=None, items=items) if items is not None else None
    children: dict[str, KeyTree] = {}
    for name, sub in props.items():
        tree = _key_tree(sub, top=False)
        if tree is not None:
            children[name] = tree
    return KeyTree(planned=frozenset(props), children=children, items=items)


def _describe(error: ValueError) -> str:
    message = str(getattr(error, "message", "") or str(error).splitlines()[0])
    location = getattr(error, "instance_path", None)
    if location:
        message += " (at " + "/".join(str(part) for part in location) + ")"
    return message
