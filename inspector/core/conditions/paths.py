"""Dotted paths into a call: ``properties.total``, ``properties.items[].sku``, ``items.0.sku``.

A path is the field name Segment's violations use (``properties.items.1.price``), with one
addition: ``[]`` after a segment means *every element* of that array, which is how a rule says
"each item needs a sku" without knowing how many items there are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["EACH", "MISSING", "FieldPath", "PathError"]


class _Missing:
    """The value at a path that is not there (distinct from a JSON ``null``)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


class _Each:
    """The ``[]`` segment: every element of an array."""

    def __repr__(self) -> str:
        return "[]"


MISSING: Final = _Missing()
EACH: Final = _Each()

Segment = str | int | _Each

_SEGMENT = re.compile(r"^[^.\[\]]+(\[\])?$")


class PathError(ValueError):
    """A path that cannot be read (empty segment, stray brackets)."""


@dataclass(frozen=True, slots=True)
class Located:
    """One value a path reached, with the concrete path to it (indexes filled in)."""

    parts: tuple[str | int, ...]
    value: Any
    #: Set when ``[]`` met something that is not an array: the value then is that thing.
    not_an_array: bool = False

    @property
    def field(self) -> str:
        """Segment's dotted form: ``properties.items.1.price``."""
        return ".".join(str(part) for part in self.parts)


@dataclass(frozen=True, slots=True)
class FieldPath:
    """A parsed path; :meth:`locate` reads it from a payload."""

    text: str
    segments: tuple[Segment, ...]

    @classmethod
    def parse(cls, text: str) -> FieldPath:
        """Parse ``a.b[].c`` (a digit-only segment is an array index, or a key on an object)."""
        if not text or not text.strip():
            raise PathError("a path cannot be empty")
        segments: list[Segment] = []
        for part in text.split("."):
            if not _SEGMENT.match(part):
                raise PathError(
                    f"{text!r}: segment {part!r} is not a name, an index or name[]")
            each = part.endswith("[]")
            name = part[:-2] if each else part
            segments.append(int(name) if name.isdigit() else name)
            if each:
                segments.append(EACH)
        return cls(text, tuple(segments))

    @property
    def fans_out(self) -> bool:
        """Whether the path can reach several values (it has a ``[]``)."""
        return any(segment is EACH for segment in self.segments)

    def locate(self, document: Any) -> Iterator[Located]:
        """Every value the path reaches, with its concrete path; a missing value is
        :data:`MISSING` at the first part that is absent. An empty array under ``[]``
        reaches nothing (every element of none holds)."""
        return _walk(document, self.segments, ())

    def first(self, document: Any) -> Any:
        """The first value reached (:data:`MISSING` when none)."""
        for located in self.locate(document):
            return located.value
        return MISSING

    def __str__(self) -> str:
        return self.text


def _walk(value: Any, segments: tuple[Segment, ...],
          prefix: tuple[str | int, ...]) -> Iterator[Located]:
    if not segments:
        yield Located(prefix, value)
        return
    head, rest = segments[0], segments[1:]
    if head is EACH:
        if isinstance(value, list):
            for index, element in enumerate(value):
                yield from _walk(element, rest, (*prefix, index))
        else:
            yield Located(prefix, value, not_an_array=True)
        return
    assert not isinstance(head, _Each)
    if isinstance(value, dict):
        key = str(head)
        if key in value:
            yield from _walk(value[key], rest, (*prefix, key))
            return
    elif isinstance(value, list) and isinstance(head, int) and head < len(value):
        yield from _walk(value[head], rest, (*prefix, head))
        return
    yield Located((*prefix, head), MISSING)
