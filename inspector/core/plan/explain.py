"""Naming every violation of a failing event without jsonschema_rs ``iter_errors``.

Why this exists: ``iter_errors`` builds a full Python ``ValidationError`` per error (message,
verbose message rendering the schema, paths, kind object) and converts the instance again,
about 3 µs per error and 15-20 µs for a typical invalid event, while ``is_valid`` on a small
value costs ~0.15 µs. So an invalid event used to cost five times a valid one, and invalid
events are 30% of realistic traffic. Here a rule's schema is split into one small compiled
validator per schema node (each property, each array's item schema, and each keyword of a
leaf), and a failing event is walked with ``is_valid`` calls: only the parts that fail are
descended into, and the violation is built from the schema's own keyword value (the same
values jsonschema_rs reports in ``ValidationErrorKind.as_dict()``).

Exactness: the output must equal ``to_violations`` over ``iter_errors``, in the same order.
jsonschema_rs reports, at an object node, ``required`` failures (in the ``required`` list's
order) before the ``properties`` failures, which come in the *instance's* key order, each
property's failures contiguous; array items come in index order. Only schemas made of keywords
whose behaviour is independent and known are split (see ``_LEAF`` and the object/array forms
below); any other node (``$ref``, combinators, ``additionalProperties``, ``if``/``then``, ...)
keeps using ``iter_errors`` on that node's own validator, which yields the same errors for that
subtree. When a leaf fails more than one keyword, the order between them is jsonschema_rs's
business, so that leaf also falls back to ``iter_errors``. tests/core/plan/test_explain.py checks
this against ``iter_errors`` on generated events.

Trees are built lazily, on a rule's first failing event: building compiles ~15 small validators
per rule, which would otherwise add to plan load time for rules that never fail.
"""

from __future__ import annotations

import json
import math
from typing import Any

from inspector.core.model import Violation
from inspector.core.plan.messages import json_type, keyword_violations, to_violations

__all__ = ["Node", "build"]

#: Keywords that constrain only the value they sit on, each on its own, and that
#: :func:`keyword_violations` names from the schema value alone (``const`` is absent on purpose:
#: its message is jsonschema_rs's own text, so only ``iter_errors`` can produce it).
_LEAF: dict[str, str] = {
    "type": "types",
    "enum": "options",
    "pattern": "pattern",
    "format": "format",
    "minimum": "limit",
    "maximum": "limit",
    "exclusiveMinimum": "limit",
    "exclusiveMaximum": "limit",
    "minLength": "limit",
    "maxLength": "limit",
    "multipleOf": "multiple_of",
}
#: Keywords with no effect on validation.
_ANNOTATIONS = frozenset({"description", "title", "$comment", "examples", "default",
                          "readOnly", "writeOnly", "deprecated"})
#: Anything that makes one part of a schema depend on another or on another document.
_REFERENCES = ('"$ref"', '"$id"', '"$anchor"', '"$recursiveRef"', '"$dynamicRef"',
               '"$recursiveAnchor"', '"$dynamicAnchor"')
#: One value of each JSON type, to learn the order jsonschema_rs lists a union's types in.
_PROBES: tuple[Any, ...] = (None, True, 1, 1.5, "s", [], {})
#: Cached violation lists per keyword or per object node's ``required``. A keyword outside
#: arrays has at most 7 entries (one per JSON type given); the rest of the room goes to the
#: first array indices. Small, as a big plan has thousands of keywords.
_CACHE_SIZE = 32


class Node:
    """One schema node: ``collect`` appends the violations of a value that fails ``validator``."""

    __slots__ = ("validator",)

    def __init__(self, validator: Any) -> None:
        self.validator = validator

    def collect(self, value: Any, path: tuple[str | int, ...], out: list[Violation],
                common: bool) -> None:
        """Append the violations of ``value`` (known to fail ``validator``) at ``path``."""
        for error in self.validator.iter_errors(value):
            out.extend(to_violations(error, common=common, prefix=path))

    def explain(self, value: Any, path: tuple[str | int, ...], out: list[Violation],
                common: bool) -> None:
        """Like :meth:`collect`, for a value that may be valid."""
        if not self.validator.is_valid(value):
            self.collect(value, path, out, common)


class _Keyword:
    """One leaf keyword with its own validator and the ``as_dict()`` details it reports.

    The violations it names are cached by (path, given JSON type): a ``Violation`` is frozen, and
    building one (path join, message formatting, the frozen dataclass's ``__init__``) costs
    more than everything else spent on a failing property. The cache is bounded, as paths
    through arrays vary with the index.
    """

    __slots__ = ("cache", "details", "name", "validator")

    def __init__(self, name: str, details: dict[str, Any], validator: Any) -> None:
        self.name = name
        self.details = details
        self.validator = validator
        self.cache: dict[tuple[Any, ...], list[Violation]] = {}

    def violations(self, value: Any, path: tuple[str | int, ...], common: bool
                   ) -> list[Violation]:
        """The violations of ``value`` failing this keyword (a shared list: never mutate)."""
        # Only "type" puts something about the value in its message: its JSON type.
        if self.name == "type":
            if type(value) is float and not math.isfinite(value):
                value = None  # jsonschema_rs hands inf and nan back as null (JSON has neither)
            key: tuple[Any, ...] = (path, common, json_type(value))
        else:
            key = (path, common)
        found = self.cache.get(key)
        if found is None:
            found = keyword_violations(self.name, self.details, list(path), common=common,
                                       instance=value)
            if len(self.cache) < _CACHE_SIZE:
                self.cache[key] = found  # a racing thread stores an equal list: harmless
        return found


class _Leaf(Node):
    """A value constrained by independent keywords (``type``, ``enum``, ``pattern``, ...)."""

    __slots__ = ("keywords",)

    def __init__(self, validator: Any, keywords: list[_Keyword]) -> None:
        super().__init__(validator)
        self.keywords = keywords

    def collect(self, value: Any, path: tuple[str | int, ...], out: list[Violation],
                common: bool) -> None:
        keywords = self.keywords
        if len(keywords) == 1:  # the node's validator is this keyword's: no second check
            out.extend(keywords[0].violations(value, path, common))
            return
        failed = [keyword for keyword in keywords if not keyword.validator.is_valid(value)]
        if len(failed) == 1:
            out.extend(failed[0].violations(value, path, common))
        else:  # several keywords fail: their order is jsonschema_rs's to decide
            super().collect(value, path, out, common)


class _Object(Node):
    """``type: object`` (or no type) with ``required`` and ``properties``."""

    __slots__ = ("gates", "missing", "properties", "required", "type")

    def __init__(self, validator: Any, type_: _Keyword | None, required: tuple[str, ...],
                 properties: dict[str, Node]) -> None:
        super().__init__(validator)
        self.type = type_
        self.required = required
        self.properties = properties
        #: Per property: its validator's bound ``is_valid``, its node, and the one Python type
        #: that certainly passes it (a lone ``type: string``/``boolean``/``null``), or None.
        #: Checking every property of a failing object is most of the cost of naming its
        #: violations, and most properties pass: these skip the call where Python can tell.
        self.gates = {
            name: (node.validator.is_valid, node, _certainly_valid(node))
            for name, node in properties.items()
        }
        #: "x is required" violations by (path, name, common), cached as for _Keyword.
        self.missing: dict[tuple[Any, ...], list[Violation]] = {}

    def explain(self, value: Any, path: tuple[str | int, ...], out: list[Violation],
                common: bool) -> None:
        # For an object, collect checks every part itself: no need to validate it whole first.
        if isinstance(value, dict):
            self.collect(value, path, out, common)
        else:
            super().explain(value, path, out, common)

    def collect(self, value: Any, path: tuple[str | int, ...], out: list[Violation],
                common: bool) -> None:
        if not isinstance(value, dict):
            # Only "type" applies to a non-object; without one this cannot fail, so defer.
            if self.type is not None:
                out.extend(self.type.violations(value, path, common))
            else:
                super().collect(value, path, out, common)
            return
        for name in self.required:
            if name not in value:
                key = (path, name, common)
                found = self.missing.get(key)
                if found is None:
                    found = keyword_violations("required", {"property": name}, list(path),
                                               common=common)
                    if len(self.missing) < _CACHE_SIZE:
                        self.missing[key] = found
                out.extend(found)
        gates = self.gates
        for key, sub in value.items():
            gate = gates.get(key)
            if gate is not None:
                is_valid, node, certain = gate
                if type(sub) is not certain and not is_valid(sub):
                    node.collect(sub, (*path, key), out, common)


class _Array(Node):
    """``type: array`` (or no type) with one ``items`` schema for every item."""

    __slots__ = ("items", "type")

    def __init__(self, validator: Any, type_: _Keyword | None, items: Node) -> None:
        super().__init__(validator)
        self.type = type_
        self.items = items

    def collect(self, value: Any, path: tuple[str | int, ...], out: list[Violation],
                common: bool) -> None:
        if not isinstance(value, list | tuple):  # jsonschema_rs takes tuples as arrays
            if self.type is not None:
                out.extend(self.type.violations(value, path, common))
            else:
                super().collect(value, path, out, common)
            return
        items = self.items
        is_valid = items.validator.is_valid
        for index, item in enumerate(value):
            if not is_valid(item):
                items.collect(item, (*path, index), out, common)


def build(schema: Any, validator_cls: Any, validator: Any = None) -> Node | None:
    """The node tree for a cleaned schema, or None when it cannot be split safely.

    ``validator`` is the already-compiled validator of ``schema`` itself (the tree's root), if
    any. Draft-04 is not split (its boolean ``exclusiveMinimum`` reports differently), nor is a
    schema with references or ids anywhere (a split-off part would resolve them differently).
    """
    if validator_cls.__name__.startswith("Draft4") or not isinstance(schema, dict):
        return None
    text = json.dumps(schema)
    if any(marker in text for marker in _REFERENCES):
        return None
    root = {k: v for k, v in schema.items() if k != "$schema"}
    return _node(root, validator_cls, validator)


def _node(schema: Any, cls: Any, validator: Any = None) -> Node:
    if validator is None:
        validator = cls(schema, validate_formats=True, offline=True)
    if not isinstance(schema, dict):
        return Node(validator)  # a boolean schema
    keywords = {k for k in schema if k not in _ANNOTATIONS}
    if keywords <= _LEAF.keys():
        leaf = [_keyword(name, schema, cls, validator if len(keywords) == 1 else None)
                for name in schema if name in keywords]
        if all(keyword is not None for keyword in leaf):
            return _Leaf(validator, [k for k in leaf if k is not None])
        return Node(validator)
    type_ = schema.get("type")
    if keywords <= {"type", "properties", "required"} and _allows(type_, "object"):
        properties = schema.get("properties", {})
        required = schema.get("required", [])
        if (isinstance(properties, dict) and isinstance(required, list)
                and all(isinstance(name, str) for name in required)
                and len(set(required)) == len(required)):
            return _Object(
                validator,
                _keyword("type", schema, cls, None, checked=False) if type_ is not None else None,
                tuple(required),
                {name: _node(sub, cls) for name, sub in properties.items()},
            )
    if (keywords <= {"type", "items"} and _allows(type_, "array")
            and isinstance(schema.get("items"), dict | bool)):
        return _Array(
            validator,
            _keyword("type", schema, cls, None, checked=False) if type_ is not None else None,
            _node(schema["items"], cls),
        )
    return Node(validator)


_CERTAIN = {"string": str, "boolean": bool, "null": type(None)}


def _certainly_valid(node: Node) -> type | None:
    """The Python type whose values always pass ``node`` (``type: string`` alone: str), if any.

    Only where jsonschema_rs's answer is certain: not numbers (``inf`` becomes null on the way
    into jsonschema_rs; integers depend on the draft and on size).
    """
    if isinstance(node, _Leaf) and len(node.keywords) == 1:
        keyword = node.keywords[0]
        types = keyword.details.get("types") if keyword.name == "type" else None
        if types is not None and len(types) == 1:
            return _CERTAIN.get(types[0])
    return None


def _allows(type_: Any, name: str) -> bool:
    return type_ is None or type_ == name or (isinstance(type_, list) and name in type_)


def _keyword(name: str, schema: dict[str, Any], cls: Any, validator: Any, *, checked: bool = True
             ) -> _Keyword | None:
    """The keyword ``name`` of ``schema`` on its own, or None if it cannot be named here.

    ``checked``: the keyword gets a validator of its own (a leaf with several keywords re-checks
    each one); an object's or array's ``type`` is only ever reported, never re-checked.
    """
    value = schema[name]
    if validator is None and (checked or (name == "type" and not isinstance(value, str))):
        validator = cls({name: value}, validate_formats=True, offline=True)
    if name == "type":
        if isinstance(value, str):
            return _Keyword(name, {"types": [value]}, validator)
        # A union is listed in jsonschema_rs's own order: ask it, with a value of another type.
        for probe in _PROBES:
            errors = list(validator.iter_errors(probe))
            if errors:
                return _Keyword(name, errors[0].kind.as_dict(), validator)
        return None  # every type allowed: can never fail
    if name in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
                "minLength", "maxLength"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
    elif name == "enum":
        # Objects in an enum may come back from jsonschema_rs with their keys reordered.
        if not isinstance(value, list) or any(isinstance(v, dict | list) for v in value):
            return None
    elif not isinstance(value, str):  # pattern, format
        return None
    return _Keyword(name, {_LEAF[name]: value}, validator)
