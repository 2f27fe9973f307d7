"""Which calls a rule is about (WHEN) and what they must carry (EXPECT).

ObservePoint's rules read "WHEN these conditions apply, EXPECT these to pass"; audit segments
and flow steps are written the same way. :class:`CallMatch` picks calls by type, name, source,
library or write key and by conditions on their fields or their person; :class:`Expectation`
states what a picked call must satisfy. Both compile once (:func:`compile_match`,
:func:`compile_expectation`) into objects that answer per call in a few microseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from inspector.core.conditions.fields import (
    CompiledFields,
    FieldCondition,
    compile_fields,
    validate_paths,
)
from inspector.core.conditions.person import CompiledPerson, PersonCondition, compile_person
from inspector.core.libraries import LIBRARY_CLASSES
from inspector.core.model import Violation
from inspector.core.observed import ObservedEvent
from inspector.core.people import Person

__all__ = ["CallMatch", "CompiledExpectation", "CompiledMatch", "Expectation",
           "compile_expectation", "compile_match"]

CallType = Literal["track", "identify", "page", "screen", "group", "alias"]

Fields = Annotated[dict[str, FieldCondition], AfterValidator(validate_paths)]
OneOrMany = str | list[str]


def _many(value: str | Sequence[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    return frozenset([value] if isinstance(value, str) else value)


class CallMatch(BaseModel):
    """The calls a rule applies to: every key given must match (a list: any of its values)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: CallType | list[CallType] | None = Field(
        default=None, description="Call type(s): track, identify, page, screen, group, alias.")
    event: OneOrMany | None = Field(
        default=None, description="Event name(s) of track calls, or page / screen names.")
    source: OneOrMany | None = Field(
        default=None, description="The source: a write key's name (--name-key), else the "
        "library name.")
    library: OneOrMany | None = Field(
        default=None, description="context.library.name, or a class of Segment libraries: "
        "server, browser, mobile.")
    write_key: OneOrMany | None = Field(default=None, description="The write key(s).")
    fields: Fields = Field(
        default_factory=dict, description="Conditions on the call's fields ({path: "
        "condition}) it must meet to be picked.")
    person: PersonCondition | None = Field(
        default=None, description="Conditions on the person behind the call (now, or as of "
        "the call in flows).")


class Expectation(BaseModel):
    """What a picked call must satisfy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fields: Fields = Field(
        default_factory=dict, description="Conditions on the call's fields: {path: "
        "condition}; paths like properties.total, properties.items[].sku.")
    person: PersonCondition | None = Field(
        default=None, description="Conditions on the person behind the call.")


def _library_names(values: frozenset[str] | None) -> frozenset[str] | None:
    if values is None:
        return None
    names: set[str] = set()
    for value in values:
        names |= LIBRARY_CLASSES.get(value, frozenset({value}))
    return frozenset(names)


@dataclass(frozen=True, slots=True)
class CompiledMatch:
    """A :class:`CallMatch` ready to test calls; :attr:`person` is tested apart (it needs the
    identity graph, and may be asked again when the person changes)."""

    types: frozenset[str] | None
    names: frozenset[str] | None
    sources: frozenset[str] | None
    libraries: frozenset[str] | None
    write_keys: frozenset[str] | None
    fields: CompiledFields
    person: CompiledPerson | None

    def picks_call(self, event: ObservedEvent) -> bool:
        """Whether the call itself matches (everything but the person condition)."""
        if self.types is not None and event.type not in self.types:
            return False
        if self.names is not None and event.name not in self.names:
            return False
        if self.sources is not None and event.source not in self.sources:
            return False
        if self.libraries is not None and event.library_name not in self.libraries:
            return False
        if self.write_keys is not None and event.write_key not in self.write_keys:
            return False
        return not self.fields or self.fields.holds(event.payload)

    def picks(self, event: ObservedEvent, person: Person | None, *,
              as_of: int | None = None) -> bool:
        """Whether the call and its person match."""
        if not self.picks_call(event):
            return False
        return self.person is None or self.person.holds(person, as_of=as_of)


@dataclass(frozen=True, slots=True)
class CompiledExpectation:
    """An :class:`Expectation` ready to test calls."""

    fields: CompiledFields
    person: CompiledPerson | None

    def field_violations(self, event: ObservedEvent) -> list[Violation]:
        """What the call's own fields break."""
        return self.fields.violations(event.payload)

    def person_violations(self, person: Person | None, *, as_of: int | None = None,
                          label: str | None = None) -> list[Violation]:
        """What the person behind it breaks (messages name them as ``label``)."""
        if self.person is None:
            return []
        return self.person.violations(person, as_of=as_of, label=label)

    def violations(self, event: ObservedEvent, person: Person | None, *,
                   as_of: int | None = None) -> list[Violation]:
        """Everything the call breaks: its fields, then its person."""
        return [*self.field_violations(event), *self.person_violations(person, as_of=as_of)]

    def __bool__(self) -> bool:
        return bool(self.fields) or self.person is not None


def compile_match(match: CallMatch, *, consent_trait: str) -> CompiledMatch:
    """Compile a :class:`CallMatch`."""
    return CompiledMatch(
        _many(match.type), _many(match.event), _many(match.source),
        _library_names(_many(match.library)), _many(match.write_key),
        compile_fields(match.fields), compile_person(match.person, consent_trait=consent_trait),
    )


def compile_expectation(expectation: Expectation | None, *,
                        consent_trait: str) -> CompiledExpectation:
    """Compile an :class:`Expectation` (``None``: one that always holds)."""
    if expectation is None:
        return CompiledExpectation(compile_fields(None), None)
    return CompiledExpectation(compile_fields(expectation.fields),
                               compile_person(expectation.person, consent_trait=consent_trait))

