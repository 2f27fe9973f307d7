"""The one condition language: audit segments and checkout flows both speak it.

* :mod:`~inspector.core.conditions.paths`: dotted paths, ``[]`` for every element of an array;
* :mod:`~inspector.core.conditions.fields`: conditions on values (``exists``, ``equals``,
  ``type``, ``one_of``, ``matches``, ranges, JSON Schema fragments), failing in Segment's words;
* :mod:`~inspector.core.conditions.person`: what JSON Schema cannot say about one call (email
  known, consent known, one stable userId), asked of the identity graph's people;
* :mod:`~inspector.core.conditions.calls`: WHEN (:class:`CallMatch`) and EXPECT
  (:class:`Expectation`), compiled once;
* :mod:`~inspector.core.conditions.durations`: ``30m``, ``24h``.

The language is documented, with examples, in ``docs/conditions.md``.
"""

from inspector.core.conditions.calls import (
    CallMatch,
    CompiledExpectation,
    CompiledMatch,
    Expectation,
    compile_expectation,
    compile_match,
)
from inspector.core.conditions.durations import Duration, parse_duration
from inspector.core.conditions.fields import CompiledFields, FieldCondition, compile_fields
from inspector.core.conditions.paths import EACH, MISSING, FieldPath, PathError
from inspector.core.conditions.person import CompiledPerson, PersonCondition, compile_person

__all__ = [
    "EACH",
    "MISSING",
    "CallMatch",
    "CompiledExpectation",
    "CompiledFields",
    "CompiledMatch",
    "CompiledPerson",
    "Duration",
    "Expectation",
    "FieldCondition",
    "FieldPath",
    "PathError",
    "PersonCondition",
    "compile_expectation",
    "compile_fields",
    "compile_match",
    "compile_person",
    "parse_duration",
]
