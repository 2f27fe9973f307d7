"""Conditions on the values at paths of a call, reported in Segment's violation words.

The vocabulary is small on purpose (``exists``, ``blank``, ``equals``, ``one_of``, ``type``,
``matches``, ``min``/``max``, ``min_length``/``max_length``) and covers what Protocols users
otherwise write as JSON Schema; anything beyond it is a JSON Schema fragment (``schema``),
compiled with the same validator as the tracking plan. Failures are
:class:`~inspector.core.model.Violation` objects worded by
:func:`inspector.core.plan.messages.keyword_violations`, so a broken rule reads exactly like a
broken plan ("properties.total is required", "Invalid type. Expected: number, given: string").

A path with any condition must be present unless it says ``optional: true`` (its conditions then
apply when it is there) or ``exists: false``: a rule like ``{type: number}`` that silently
passes on a call without the property is how a CI check ends up testing nothing.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import jsonschema_rs
import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from inspector.core.conditions.paths import MISSING, FieldPath, Located, PathError
from inspector.core.jsontypes import json_type
from inspector.core.model import Severity, Source, Violation, ViolationKind
from inspector.core.plan.messages import keyword_violations, to_violations

__all__ = ["CompiledFields", "FieldCondition", "JsonType", "compile_fields"]

JsonType = Literal["string", "number", "integer", "boolean", "object", "array", "null"]


class FieldCondition(BaseModel):
    """What the value at one path must be (every key given must hold)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    exists: bool | None = Field(
        default=None, description="true: present and not null; false: absent or null.")
    optional: bool = Field(
        default=False, description="The other conditions apply only when the path is present.")
    blank: bool | None = Field(
        default=None, description="true: absent, null, an empty or all-space string, an empty "
        "array or object; false: anything else.")
    equals: Any = Field(
        default=None, description="Exactly this JSON value (typed: 12.5 is not \"12.5\").")
    one_of: list[Any] | None = Field(
        default=None, description="One of these JSON values (typed).")
    type: JsonType | list[JsonType] | None = Field(
        default=None, description="The JSON type(s); number includes integer.")
    matches: str | None = Field(
        default=None, description="A regular expression (Python syntax) searched in the "
        "string.")
    min: float | None = Field(default=None, description="A number at least this.")
    max: float | None = Field(default=None, description="A number at most this.")
    min_length: int | None = Field(
        default=None, ge=0, description="A string or array at least this long.")
    max_length: int | None = Field(
        default=None, ge=0, description="A string or array at most this long.")
    schema_: dict[str, Any] | None = Field(
        default=None, alias="schema",
        description="A JSON Schema the value must validate against (for what the vocabulary "
        "cannot say).")

    @field_validator("matches")
    @classmethod
    def _regex_compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"invalid regular expression {pattern!r}: {error}") from error
        return pattern

    @field_validator("schema_")
    @classmethod
    def _schema_compiles(cls, schema: dict[str, Any] | None) -> dict[str, Any] | None:
        if schema is not None:
            try:
                jsonschema_rs.validator_for(schema)
            except (ValueError, jsonschema_rs.ValidationError) as error:
                raise ValueError(f"invalid JSON Schema: {error}") from error
        return schema

    @model_validator(mode="after")
    def _consistent(self) -> FieldCondition:
        if self.exists is False and self._value_conditions():
            raise ValueError("exists: false cannot be combined with conditions on the value")
        return self

    @property
    def has_equals(self) -> bool:
        """Whether ``equals`` was given (``equals: null`` is a real condition)."""
        return "equals" in self.model_fields_set

    def _value_conditions(self) -> bool:
        return any(value is not None for value in (
            self.blank, self.one_of, self.type, self.matches, self.min, self.max,
            self.min_length, self.max_length, self.schema_)) or self.has_equals

    def describe(self) -> str:
        """The condition as a user wrote it (for messages): ``{"type": "number"}``."""
        return orjson.dumps(self.model_dump(exclude_defaults=True, by_alias=True),
                            default=str).decode()


#: A compiled test of one located value: the violations it gives (empty: it holds).
_Test = Callable[[Located], list[Violation]]


def _rule_violation(kind: str, field: str, message: str) -> Violation:
    return Violation(kind=kind, field=field, message=message, severity=Severity.ERROR,
                     source=Source.RULE)


def _worded(name: str, details: dict[str, Any], located: Located) -> list[Violation]:
    """The plan's wording for keyword ``name`` failing at ``located``, as rule violations."""
    return [dataclasses.replace(violation, source=Source.RULE)
            for violation in keyword_violations(name, details, list(located.parts),
                                                common=False, instance=located.value)]


def _type_matches(value: Any, wanted: Iterable[str]) -> bool:
    actual = json_type(value)
    return any(name == actual or (name == "number" and actual == "integer")
               for name in wanted)


def _same_json(left: Any, right: Any) -> bool:
    """JSON equality with types kept apart (``True`` is not ``1``, ``1`` is ``1.0``)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if type(left) is not type(right):
        return False
    if isinstance(left, list):
        return len(left) == len(right) and all(map(_same_json, left, right))
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_same_json(left[k], right[k]) for k in left)
    return bool(left == right)


def _is_blank(value: Any) -> bool:
    if value is MISSING or value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | dict):
        return not value
    return False


def _shown(value: Any) -> str:
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _tests(condition: FieldCondition) -> list[_Test]:
    """The tests for a present value, cheapest first."""
    tests: list[_Test] = []
    if condition.blank is not None:
        want_blank = condition.blank

        def blank(located: Located) -> list[Violation]:
            if _is_blank(located.value) == want_blank:
                return []
            if want_blank:
                return [_rule_violation(ViolationKind.JSON_SCHEMA, located.field,
                                        f"{located.field} must be blank, given: "
                                        f"{_shown(located.value)}")]
            return [_rule_violation(ViolationKind.REQUIRED, located.field,
                                    f"{located.field} is required (it is blank: "
                                    f"{_shown(located.value)})")]
        tests.append(blank)
    if condition.type is not None:
        types = [condition.type] if isinstance(condition.type, str) else list(condition.type)

        def typed(located: Located) -> list[Violation]:
            if _type_matches(located.value, types):
                return []
            return _worded("type", {"types": types}, located)
        tests.append(typed)
    if condition.has_equals:
        expected = condition.equals

        def equal(located: Located) -> list[Violation]:
            if _same_json(located.value, expected):
                return []
            return _worded("const", {"expected_value": expected}, located)
        tests.append(equal)
    if condition.one_of is not None:
        options = list(condition.one_of)

        def member(located: Located) -> list[Violation]:
            if any(_same_json(located.value, option) for option in options):
                return []
            return _worded("enum", {"options": options}, located)
        tests.append(member)
    if condition.matches is not None:
        regex = re.compile(condition.matches)
        pattern = condition.matches

        def matched(located: Located) -> list[Violation]:
            value = located.value
            if not isinstance(value, str):
                return _worded("type", {"types": ["string"]}, located)
            if regex.search(value):
                return []
            return _worded("pattern", {"pattern": pattern}, located)
        tests.append(matched)
    for bound, keyword in ((condition.min, "minimum"), (condition.max, "maximum")):
        if bound is not None:
            tests.append(_range_test(bound, keyword))
    for length, keyword in ((condition.min_length, "min"), (condition.max_length, "max")):
        if length is not None:
            tests.append(_length_test(length, keyword))
    if condition.schema_ is not None:
        validator = jsonschema_rs.validator_for(condition.schema_)

        def schema(located: Located) -> list[Violation]:
            if validator.is_valid(located.value):
                return []
            return [dataclasses.replace(violation, source=Source.RULE)
                    for error in validator.iter_errors(located.value)
                    for violation in to_violations(error, common=False, prefix=located.parts)]
        tests.append(schema)
    return tests


def _range_test(bound: float, keyword: str) -> _Test:
    def in_range(located: Located) -> list[Violation]:
        value = located.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            return _worded("type", {"types": ["number"]}, located)
        if (value >= bound) if keyword == "minimum" else (value <= bound):
            return []
        return _worded(keyword, {"limit": bound}, located)
    return in_range


def _length_test(length: int, end: str) -> _Test:
    def long_enough(located: Located) -> list[Violation]:
        value = located.value
        if isinstance(value, str):
            keyword = f"{end}Length"
        elif isinstance(value, list):
            keyword = f"{end}Items"
        else:
            return _worded("type", {"types": ["string", "array"]}, located)
        size = len(value)
        if (size >= length) if end == "min" else (size <= length):
            return []
        return _worded(keyword, {"limit": length}, located)
    return long_enough


@dataclass(frozen=True, slots=True)
class _CompiledField:
    path: FieldPath
    condition: FieldCondition
    tests: tuple[_Test, ...]
    #: The path's segments as :func:`_reach` reads them (``None``: it has ``[]``).
    steps: tuple[tuple[str, int | None], ...] | None

    def holds(self, document: Any) -> bool:
        """Whether :meth:`violations` would find nothing, without wording what fails (a
        flow asks this of every candidate call, and most of a busy session's fail)."""
        steps = self.steps
        if steps is None:  # a path with ``[]``: every element it reaches must hold
            return all(self._holds_at(located) for located in self.path.locate(document))
        value = _reach(document, steps)
        return self._holds_at(Located(self.path.segments, value))  # type: ignore[arg-type]

    def _holds_at(self, located: Located) -> bool:
        """Whether :meth:`violations` would find nothing at one located value."""
        value = located.value
        absent = value is MISSING or value is None
        if located.not_an_array and not absent:
            return False
        condition = self.condition
        if condition.exists is False:
            return absent
        if value is MISSING or (value is None and condition.exists):
            return condition.optional or condition.blank is True
        return all(not test(located) for test in self.tests)

    def violations(self, document: Any) -> list[Violation]:
        condition = self.condition
        found: list[Violation] = []
        for located in self.path.locate(document):
            value = located.value
            absent = value is MISSING or value is None
            if located.not_an_array and not absent:
                found += _worded("type", {"types": ["array"]}, located)
                continue
            if condition.exists is False:
                if not absent:
                    found.append(_rule_violation(
                        ViolationKind.JSON_SCHEMA, located.field,
                        f"{located.field} must not be sent, given: {_shown(value)}"))
                continue
            if value is MISSING or (value is None and condition.exists):
                if condition.optional or condition.blank is True:
                    continue
                note = " (it is null)" if value is None else ""
                found.append(_rule_violation(ViolationKind.REQUIRED, located.field,
                                             f"{located.field} is required{note}"))
                continue
            for test in self.tests:
                found += test(located)
        return found


@dataclass(frozen=True, slots=True)
class CompiledFields:
    """Conditions on several paths, compiled once; every one must hold."""

    fields: tuple[_CompiledField, ...]

    def violations(self, document: Any) -> list[Violation]:
        """Every failure, in the order the conditions were written."""
        found: list[Violation] = []
        for compiled in self.fields:
            found += compiled.violations(document)
        return found

    def holds(self, document: Any) -> bool:
        """Whether every condition holds (stops at the first failure)."""
        return all(compiled.holds(document) for compiled in self.fields)

    def __bool__(self) -> bool:
        return bool(self.fields)


def compile_fields(conditions: Mapping[str, FieldCondition] | None) -> CompiledFields:
    """Compile ``{path: condition}``; raises :class:`PathError` for an unreadable path."""
    compiled = []
    for text, condition in (conditions or {}).items():
        path = FieldPath.parse(text)
        steps = None if path.fans_out else tuple(
            (str(segment), segment if isinstance(segment, int) else None)
            for segment in path.segments)
        compiled.append(_CompiledField(path, condition, tuple(_tests(condition)), steps))
    return CompiledFields(tuple(compiled))


def _reach(document: Any, steps: tuple[tuple[str, int | None], ...]) -> Any:
    """The one value a path without ``[]`` reaches (:data:`MISSING`: none), as
    :meth:`FieldPath.locate` reads it: a key of an object, else an index of an array."""
    value = document
    for key, index in steps:
        if isinstance(value, dict):
            if key in value:
                value = value[key]
                continue
        elif isinstance(value, list) and index is not None and index < len(value):
            value = value[index]
            continue
        return MISSING
    return value


def validate_paths(conditions: Mapping[str, FieldCondition]) -> Mapping[str, FieldCondition]:
    """Pydantic hook: every key must be a readable path (the error names it)."""
    for text in conditions:
        try:
            FieldPath.parse(text)
        except PathError as error:
            raise ValueError(str(error)) from error
    return conditions
