"""Mapping jsonschema_rs errors to Segment's violation kinds, field paths and wording.

Segment's violation descriptions are gojsonschema's English locale (``Invalid type. Expected:
integer, given: number``, ``properties.Required is required``), so messages are written in that
wording; fields are dotted instance paths (``properties.items.1.price``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from inspector.core.jsontypes import json_type
from inspector.core.model import Severity, Source, Violation, ViolationKind

__all__ = ["field_path", "json_type", "keyword_violations", "to_violations"]

#: Marks "take the failing value from the jsonschema_rs error" in :func:`keyword_violations`.
_FROM_ERROR: Any = object()

_RANGE = {
    "minimum": "Must be greater than or equal to {limit}",
    "maximum": "Must be less than or equal to {limit}",
    "exclusiveMinimum": "Must be greater than {limit}",
    "exclusiveMaximum": "Must be less than {limit}",
    "minLength": "String length must be greater than or equal to {limit}",
    "maxLength": "String length must be less than or equal to {limit}",
    "minItems": "Array must have at least {limit} items",
    "maxItems": "Array must have at most {limit} items",
    "minProperties": "Must have at least {limit} properties",
    "maxProperties": "Must have at most {limit} properties",
    "multipleOf": "Must be a multiple of {multiple_of}",
}

_FIXED = {
    "anyOf": "Must validate at least one schema (anyOf)",
    "oneOf": "Must validate one and only one schema (oneOf)",
    "oneOfNotValid": "Must validate one and only one schema (oneOf)",
    "oneOfMultipleValid": "Must validate one and only one schema (oneOf)",
    "not": "Must not validate the schema (not)",
    "uniqueItems": "Array items must be unique",
    "additionalItems": "No additional items allowed on array",
    "falseSchema": "False always fails validation",
}


def field_path(parts: Iterable[Any]) -> str:
    """``['properties', 'items', 1, 'price']`` → ``properties.items.1.price``."""
    return ".".join(str(part) for part in parts)


def to_violations(
    error: Any, *, common: bool, prefix: tuple[str | int, ...] = ()
) -> list[Violation]:
    """One jsonschema_rs ValidationError as Segment violations (usually one).

    ``prefix`` is prepended to the error's path when a sub-object was validated on its own.
    """
    error_kind = error.kind
    return keyword_violations(
        error_kind.name, error_kind.as_dict(), [*prefix, *error.instance_path],
        common=common, error=error,
    )


def keyword_violations(
    name: str,
    details: dict[str, Any],
    path: list[str | int],
    *,
    common: bool,
    instance: Any = _FROM_ERROR,
    error: Any = None,
) -> list[Violation]:
    """The violations for one failed keyword ``name`` at instance ``path``.

    ``details`` has the shape of jsonschema_rs's ``ValidationErrorKind.as_dict()``. It exists
    apart from :func:`to_violations` so that :mod:`inspector.core.plan.explain` can name a
    failure from the schema alone, without paying for a jsonschema_rs error object; ``instance``
    (the failing value) is then passed directly, and ``error`` is None.
    """
    field = field_path(path)
    shown = field or "(root)"
    kind: str
    if name == "additionalProperties":
        # The schema itself forbids extra keys: the same thing as an unplanned property/trait.
        member_kind = (
            ViolationKind.UNPLANNED_TRAIT if path[:1] == ["traits"]
            else ViolationKind.UNPLANNED_PROPERTY
        )
        return [
            Violation(
                kind=ViolationKind.COMMON_JSON_SCHEMA if common else member_kind,
                field=field_path([*path, extra]),
                message=f"Additional property {extra} is not allowed",
                source=Source.PLAN,
            )
            for extra in details.get("unexpected") or []
        ]
    if name == "required":
        prop = details.get("property")
        field = field_path([*path, prop])
        kind, message = ViolationKind.REQUIRED, f"{field} is required"
    elif name == "type":
        types = [str(t) for t in details.get("types") or []]
        expected = types[0] if len(types) == 1 else "[" + ",".join(types) + "]"
        given = json_type(error.instance if instance is _FROM_ERROR else instance)
        kind = ViolationKind.INVALID_TYPE
        message = f"Invalid type. Expected: {expected}, given: {given}"
    elif name == "pattern":
        kind = ViolationKind.DOES_NOT_MATCH_PATTERN
        message = f"Does not match pattern '{details.get('pattern')}'"
    elif name == "enum":
        allowed = ", ".join(_json(option) for option in details.get("options") or [])
        kind = ViolationKind.NOT_IN_ENUM
        message = f"{shown} must be one of the following: {allowed}"
    elif name in ("const", "constant"):  # jsonschema_rs 0.61 says "const"
        kind = ViolationKind.NOT_IN_ENUM
        message = f"{shown} does not match: {_json(details.get('expected_value'))}"
    elif name == "format":
        kind = ViolationKind.INVALID_FORMAT
        message = f"Does not match format '{details.get('format')}'"
    elif name in _RANGE:
        values = {key: _number(value) for key, value in details.items()}
        kind = ViolationKind.OUT_OF_RANGE
        try:
            message = _RANGE[name].format(**values)
        except KeyError:
            message = _fallback(name, error)
    else:
        kind = ViolationKind.JSON_SCHEMA
        message = _FIXED.get(name) or _fallback(name, error)
    if common:
        kind = ViolationKind.COMMON_JSON_SCHEMA
    return [Violation(kind=kind, field=field, message=message, severity=Severity.ERROR,
                      source=Source.PLAN)]


def _fallback(name: str, error: Any) -> str:
    return str(error.message) if error is not None else f"Fails the {name!r} keyword"


def _json(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return repr(value)


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
