"""Trait write rules: in Customer.io the last write wins, so who writes a trait matters."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from inspector.core.audit.config import writer_matches
from inspector.core.audit.finding import Finding, FindingSeverity
from inspector.core.audit.framework import AuditContext, Examples, PersonCheck, SessionCheck
from inspector.core.audit.text import clock, join_names, plural, quoted
from inspector.core.jsontypes import json_type
from inspector.core.observed import ObservedEvent
from inspector.core.people import Person

__all__ = [
    "ConsentMissing",
    "PlaceholderValue",
    "TraitOverwritten",
    "TraitTypeChanged",
    "UnauthorizedWriter",
]

_NONE: Mapping[str, Any] = {}


def _written_traits(event: ObservedEvent) -> Mapping[str, Any]:
    """The traits a call writes to the person (identify's ``traits``)."""
    return event.traits if event.type == "identify" else _NONE


def _every_trait(event: ObservedEvent) -> Iterator[tuple[str, str, Any]]:
    """``(where, name, value)`` for identify traits and ``context.traits`` of any call."""
    for name, value in _written_traits(event).items():
        yield "traits", name, value
    for name, value in event.context_traits.items():
        yield "context.traits", name, value


class UnauthorizedWriter(SessionCheck):
    """A critical trait written by a source not in its allowed-writers list."""

    id = "traits.unauthorized_writer"
    area = "traits"
    severity = FindingSeverity.ERROR
    title = "Critical trait written by an unauthorised source"
    call_types = frozenset({"identify"})

    def __init__(self) -> None:
        super().__init__()
        self._writes: dict[str, Examples] = {}

    def observe(self, event: ObservedEvent, person: Person | None, ctx: AuditContext) -> None:
        for trait in _written_traits(event):
            allowed = ctx.config.allowed_writers(trait)
            if allowed is None or any(
                writer_matches(writer, source=event.source, write_key=event.write_key,
                               library_name=event.library_name)
                for writer in allowed
            ):
                continue
            key = f"{trait}|{event.source}"
            self._writes.setdefault(key, Examples()).add(event)
            self.mark(key)

    def check_key(self, key: str, ctx: AuditContext) -> Iterable[Finding]:
        trait, _, source = key.partition("|")
        examples = self._writes[key]
        allowed = ctx.config.allowed_writers(trait) or []
        return (self.finding(
            ctx, key=key,
            message=(f"{source} wrote the critical trait {trait} on "
                     f"{plural(examples.count, 'identify call')}, but only "
                     f"{join_names(allowed)} may write it: in Customer.io the last write "
                     "wins, so this source can overwrite good data."),
            events=examples.events, trait=trait, source=source, writes=examples.count,
            allowed_writers=allowed,
        ),)


class PlaceholderValue(SessionCheck):
    """Placeholder values (``test@test.com``, ``N/A``, empty strings) in any trait."""

    id = "traits.placeholder_value"
    area = "traits"
    severity = FindingSeverity.ERROR
    title = "Placeholder trait values"

    def __init__(self) -> None:
        super().__init__()
        self._values: dict[str, Examples] = {}
        self._shown: dict[str, tuple[str, Any]] = {}

    def observe(self, event: ObservedEvent, person: Person | None, ctx: AuditContext) -> None:
        if event.type != "identify" and not event.context_traits:
            return
        for where, name, value in _every_trait(event):
            if not ctx.config.is_placeholder(value):
                continue
            key = f"{where}.{name}|{value}"
            examples = self._values.get(key)
            if examples is None:
                examples = self._values[key] = Examples()
                self._shown[key] = (f"{where}.{name}", value)
            examples.add(event)
            self.mark(key)

    def check_key(self, key: str, ctx: AuditContext) -> Iterable[Finding]:
        path, value = self._shown[key]
        examples = self._values[key]
        return (self.finding(
            ctx, key=key,
            message=(f"{path} is the placeholder {quoted(value)} in "
                     f"{plural(examples.count, 'call')}: Customer.io stores it as real data "
                     "(segments, personalisation and sends use it). Leave the trait out "
                     "until the real value is known."),
            events=examples.events, field=path, value=value, calls=examples.count,
        ),)


class TraitOverwritten(PersonCheck):
    """A person's trait replaced by a different value from another source."""

    id = "traits.overwritten"
    area = "traits"
    severity = FindingSeverity.WARNING
    title = "Trait overwritten by another source"

    def check_person(self, person: Person, ctx: AuditContext) -> Iterable[Finding]:
        for trait, writes in person.traits.items():
            clashes = [
                (before, after) for before, after in itertools.pairwise(writes)
                if before.source != after.source
            ]
            if not clashes:
                continue
            timeline = [
                {"value": write.value, "source": write.source, "event_id": write.event_id,
                 "received_at": write.received_at}
                for write in writes
            ]
            steps = " -> ".join(
                f"{quoted(write.value)} by {write.source} at {clock(write.received_at)}"
                for write in writes[-4:]
            )
            last = writes[-1]
            yield self.finding(
                ctx, key=f"{person.id}|{trait}", person=person.id,
                message=(f"{trait} of {person.label} was overwritten by another source "
                         f"({plural(len(clashes), 'time')}): {steps}. The last write wins: "
                         f"Customer.io holds {quoted(last.value)} from {last.source}."),
                events=[(write.event_id, write.message_id) for write in writes],
                trait=trait, timeline=timeline,
            )


class TraitTypeChanged(SessionCheck):
    """A trait sent with different JSON types (``"true"`` then ``true``)."""

    id = "traits.type_changed"
    area = "traits"
    severity = FindingSeverity.WARNING
    title = "Trait sent with different types"
    call_types = frozenset({"identify"})

    def __init__(self) -> None:
        super().__init__()
        self._types: dict[str, dict[str, Examples]] = {}

    def observe(self, event: ObservedEvent, person: Person | None, ctx: AuditContext) -> None:
        for name, value in _written_traits(event).items():
            if value is None:  # null unsets a trait; it is not a type of its own
                continue
            kind = json_type(value)
            if kind == "integer":  # 1 and 1.5 are both numbers in JSON
                kind = "number"
            types = self._types.setdefault(name, {})
            examples = types.get(kind)
            if examples is None:
                examples = types[kind] = Examples()
            examples.add(event)
            if len(types) > 1:
                self.mark(name)

    def check_key(self, key: str, ctx: AuditContext) -> Iterable[Finding]:
        types = self._types[key]
        total = sum(examples.count for examples in types.values())
        shares = [f"{kind} in {round(100 * examples.count / total)}%"
                  for kind, examples in sorted(types.items(), key=lambda i: -i[1].count)]
        return (self.finding(
            ctx, key=key,
            message=(f"Trait {key} is sent as {join_names(shares)} of "
                     f"{plural(total, 'identify call')}: Customer.io segments compare one "
                     "type, so some people silently fall out of them."),
            events=[examples.events[0] for examples in types.values()],
            trait=key, types={kind: examples.count for kind, examples in types.items()},
        ),)


class ConsentMissing(PersonCheck):
    """People with an email whose identify calls never say whether they consented."""

    id = "consent.missing"
    area = "consent"
    severity = FindingSeverity.WARNING
    title = "No explicit consent trait"

    def check_person(self, person: Person, ctx: AuditContext) -> Iterable[Finding]:
        if not person.emails or not person.identify_count:
            return ()
        trait = ctx.config.consent_trait
        writes = person.traits.get(trait, [])
        if any(isinstance(write.value, bool) for write in writes):
            return ()
        seen = min(person.emails.values(), key=lambda item: item.event_id)
        sent = (f"it was sent as {join_names([quoted(w.value) for w in writes])}, not a boolean"
                if writes else "it was never sent")
        return (self.finding(
            ctx, key=person.id, person=person.id,
            message=(f"{person.label} has an email but no explicit {trait} (true or false) "
                     f"on identify: {sent}. Without it marketing sends can't tell consent "
                     "from not asked."),
            events=[(seen.event_id, seen.message_id)], trait=trait,
        ),)
