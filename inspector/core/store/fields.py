"""Field filters: typed tests on one value inside an event's stored payload.

The REST API's ``field.<path>=<JSON value>`` and ``field_type.<path>=<type>`` (and
``inspector assert --where`` / ``--where-type``) become :class:`FieldFilter` objects. A path is
dotted the way Segment writes a violation's field (``properties.items.0.sku``); a segment made
of digits only is an array index, any other a key.

Comparisons are typed, as JSON is: ``12.5`` matches the number and not the string ``"12.5"``,
``null`` matches a JSON null and not a missing key, ``true`` matches the boolean and not ``1``.
Numbers compare as numbers (``12`` matches ``12.0``); an integer in a payload beyond the signed
64-bit range compares as the nearest double, which is how SQLite reads it. ``present`` means
"there and not null". A key is named as it is, in any script, with a backslash or a control
character too; keys containing ``.``, ``[``, ``]`` or ``"`` cannot be named.

In SQL each test is ``json_type``/``json_extract`` of ``e.payload`` at the path (SQLite's JSON
functions tell ``12.5`` from ``"12.5"`` and a null from a missing key through ``json_type``);
:meth:`FieldFilter.matches` answers the same question in Python for live events.
"""

from __future__ import annotations

import functools
import math
import sqlite3
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["JSON_TYPES", "FieldFilter", "FieldFilterError", "has_arrow_operator", "parse_path",
           "path_key", "value_at"]

#: The type names ``field_type`` accepts (JSON Schema's), and the ``json_type`` results of each.
JSON_TYPES: dict[str, tuple[str, ...]] = {
    "string": ("text",),
    "number": ("integer", "real"),
    "integer": ("integer",),
    "boolean": ("true", "false"),
    "null": ("null",),
    "object": ("object",),
    "array": ("array",),
}

_MISSING = object()


class FieldFilterError(ValueError):
    """A field filter that cannot be understood; the message says why and how to write it."""


def parse_path(text: str) -> tuple[str | int, ...]:
    """``properties.items.0.sku`` as ``("properties", "items", 0, "sku")``.

    The grammar is the audit conditions' (:class:`~inspector.core.conditions.paths.FieldPath`),
    less ``[]``: a filter compares one value, and SQLite's JSON paths reach one. A digits-only
    segment is an array index here (``$.items[0]``), as in Segment's violation fields.
    """
    from inspector.core.conditions.paths import EACH, FieldPath, PathError

    if not text:
        raise FieldFilterError("the field path is empty (write e.g. field.properties.total)")
    try:
        segments = FieldPath.parse(text).segments
    except (PathError, ValueError) as error:  # ValueError: digits int() cannot read ("²")
        raise FieldFilterError(f"the field path {error}") from None
    if any(segment is EACH for segment in segments):
        raise FieldFilterError(
            f"the field path {text!r} has [] (every element): a field filter compares one "
            "value; name the element by its index (items.0.sku)")
    if '"' in text:
        raise FieldFilterError(f"the field path {text!r} contains a double quote")
    return tuple(segment for segment in segments if isinstance(segment, (str, int)))


@functools.lru_cache(maxsize=1024)
def path_key(key: str) -> str:
    """``key`` as this SQLite's JSON paths must spell it to reach it in a stored payload.

    A payload is stored as orjson writes it, so a key with a character JSON escapes (a
    backslash, a newline, a NUL) is stored escaped; SQLite 3.40 compares a quoted path key
    with that escaped text. Whether another SQLite version does is asked of the library once
    per such key (the spelling that reaches it in a one-key document), so the filter never
    depends on which SQLite Python was built with.
    """
    import orjson

    escaped = orjson.dumps(key).decode()[1:-1]
    if escaped == key:
        return key
    document = orjson.dumps({key: 1}).decode()
    probe = sqlite3.connect(":memory:")
    try:
        for spelling in (escaped, key):
            if probe.execute("SELECT json_type(?, ?)",
                             (document, f'$."{spelling}"')).fetchone()[0] is not None:
                return spelling
    finally:
        probe.close()
    return escaped


@functools.cache
def has_arrow_operator() -> bool:
    """Whether this SQLite has ``->`` (3.38 and later)."""
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute("SELECT '{}' -> '$'")
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()
    return True


def value_at(payload: Any, path: tuple[str | int, ...]) -> Any:
    """The value at ``path`` in a parsed payload, or a sentinel when nothing is there."""
    value = payload
    for segment in path:
        if isinstance(segment, int):
            if not isinstance(value, list) or segment >= len(value):
                return _MISSING
        elif not isinstance(value, dict) or segment not in value:
            return _MISSING
        value = value[segment]
    return value


def _json_type(value: Any) -> str | None:
    """What SQLite's ``json_type`` says of a parsed value (``None``: missing)."""
    if value is _MISSING:
        return None
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "real"
    if isinstance(value, str):
        return "text"
    return "array" if isinstance(value, list) else "object"


class FieldFilter(BaseModel):
    """One typed test at one path of the payload.

    ``test`` is ``equals`` (``value``: a JSON string, number, boolean or null), ``present``
    (there and not null) or ``type`` (``value``: one of :data:`JSON_TYPES`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: tuple[str | int, ...]
    test: Literal["equals", "present", "type"]
    value: str | int | float | bool | None = None

    @property
    def json_path(self) -> str:
        r"""The SQLite JSON path (``$."properties"."items"[0]``).

        SQLite (3.40) compares a quoted key with a key's text as the JSON spells it, escapes
        and all, so each key is written the way orjson wrote the stored payload: ``a\\b``
        for the key ``a\b``, ``\u0000`` for a NUL (unescaped, those keys matched nothing;
        :func:`path_key` asks the SQLite in use).
        """
        return "$" + "".join(f"[{segment}]" if isinstance(segment, int)
                             else f'."{path_key(segment)}"' for segment in self.path)

    @property
    def dotted(self) -> str:
        """The path as the user wrote it."""
        return ".".join(str(segment) for segment in self.path)

    def describe(self) -> str:
        """The filter as a query parameter (``field.properties.total=12.5``)."""
        if self.test == "type":
            return f"field_type.{self.dotted}={self.value}"
        if self.test == "present":
            return f"field.{self.dotted}=*"
        import orjson

        return f"field.{self.dotted}={orjson.dumps(self.value).decode()}"

    def sql(self) -> tuple[str, list[Any]]:
        """A ``WHERE`` term on ``e.payload`` and its parameters.

        First a text the stored payload must contain if it passes (:meth:`needle`), looked for
        with ``instr``, which costs a sixth of parsing the payload; then one JSON function per
        test where one suffices: parsing the payload is most of the cost. For a number,
        ``json_extract`` alone is typed: it returns INTEGER or REAL for a number, TEXT for a
        string or an array or object, and function results have no affinity, so ``'12.5'``
        never equals ``12.5``; only true and false, which come back as 1 and 0, need
        ``json_type`` beside it. A string is compared as JSON text (``->``).
        """
        test, params = self._json_sql()
        needle = self.needle()
        if needle is None:
            return test, params
        return f"instr(e.payload, ?) > 0 AND {test}", [needle, *params]

    def needle(self) -> str | None:
        """A text every stored payload passing this test contains, or ``None``.

        Payloads are stored as orjson writes them
        (:func:`~inspector.core.verdict.storable.storable_json`): members as ``"key":value``,
        no spaces, and a string, null or boolean always spelled the same way. So a path ending
        in a key needs ``"key":`` in the text, followed by the value where its spelling is
        fixed (numbers are not: ``12`` also matches ``12.0``); a string needs its JSON text
        wherever it is.
        """
        import orjson

        last = self.path[-1]
        member = None if isinstance(last, int) else orjson.dumps(last).decode() + ":"
        value = self.value
        fixed = self.test == "equals" and (value is None or isinstance(value, (bool, str)))
        if not fixed:
            return member
        spelled = orjson.dumps(value).decode()
        if member is not None:
            return member + spelled
        return spelled if isinstance(value, str) else None

    def _json_sql(self) -> tuple[str, list[Any]]:
        """The test itself, in SQLite's JSON functions (see :meth:`sql`)."""
        kind = "json_type(e.payload, ?)"
        if self.test == "present":
            return f"{kind} <> 'null'", [self.json_path]
        if self.test == "type":
            types = JSON_TYPES[str(self.value)]
            return f"{kind} IN ({','.join('?' * len(types))})", [self.json_path, *types]
        value = self.value
        if value is None:
            return f"{kind} = 'null'", [self.json_path]
        if isinstance(value, bool):
            return f"{kind} = ?", [self.json_path, "true" if value else "false"]
        if isinstance(value, str):
            # ``->`` gives the value's JSON text: a string comes back quoted (so never equal
            # to a number, an array or an object) and as it is stored, escapes and all, which
            # is orjson's writing of it, as here. json_extract would decode it, but (3.40)
            # cuts it at a NUL: "a\u0000b" read as "a". Before SQLite 3.38 (no ``->``),
            # json_extract it is, typed by json_type, with that one gap.
            if has_arrow_operator():
                import orjson

                return "e.payload -> ? = ?", [self.json_path, orjson.dumps(value).decode()]
            return (f"{kind} = 'text' AND json_extract(e.payload, ?) = ?",
                    [self.json_path, self.json_path, value])
        extract = "json_extract(e.payload, ?) = ?"
        if value in (0, 1):
            return (f"{kind} IN ('integer', 'real') AND {extract}",
                    [self.json_path, self.json_path, value])
        return extract, [self.json_path, value]

    def matches(self, payload: Any) -> bool:
        """Whether a parsed payload passes this test (what :meth:`sql` selects)."""
        found = value_at(payload, self.path)
        kind = _json_type(found)
        if self.test == "present":
            return kind not in (None, "null")
        if self.test == "type":
            return kind in JSON_TYPES[str(self.value)]
        value = self.value
        if value is None or isinstance(value, bool):
            return kind == _json_type(value)
        if isinstance(value, str):
            return kind == "text" and found == value
        if kind == "integer" and not -2**63 <= found < 2**63:
            found = float(found)  # as SQLite reads it: the nearest double
        return kind in ("integer", "real") and found == value

    @classmethod
    def equals(cls, path: str, raw: str) -> FieldFilter:
        """``field.<path>=<raw>``: ``raw`` is ``*`` or a JSON string, number, boolean or null.

        A bare word is not taken for a string (``USD`` is refused, ``"USD"`` accepted): in a
        CI check, ``12.5x`` read as the string "12.5x" would match nothing and pass a
        "no such event" test silently.
        """
        import orjson

        parsed_path = parse_path(path)
        if raw == "*":
            return cls(path=parsed_path, test="present")
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            quoted = orjson.dumps(raw).decode()
            raise FieldFilterError(
                f"field.{path}: {raw!r} is not a JSON value; a string must be quoted: "
                f"field.{path}={quoted} (numbers, true, false and null are written bare; "
                "* means present and not null)") from None
        if isinstance(value, (dict, list)):
            raise FieldFilterError(
                f"field.{path}: compare one value, not an object or array (filter on a field "
                f"inside it, e.g. field.{path}.0=..., or use field_type.{path}=array)")
        if isinstance(value, float) and not math.isfinite(value):
            raise FieldFilterError(f"field.{path}: {raw!r} is not a finite number")
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
            raise FieldFilterError(f"field.{path}: {raw} is beyond a 64-bit integer")
        return cls(path=parsed_path, test="equals", value=value)

    @classmethod
    def of_type(cls, path: str, raw: str) -> FieldFilter:
        """``field_type.<path>=<type>``: the value there is of that JSON type."""
        name = raw.strip().lower()
        if name not in JSON_TYPES:
            raise FieldFilterError(f"field_type.{path}: unknown type {raw!r}; valid: "
                                   f"{', '.join(JSON_TYPES)}")
        return cls(path=parse_path(path), test="type", value=name)
