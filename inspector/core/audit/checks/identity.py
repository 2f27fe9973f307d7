"""People and identity: the checks that catch one shopper becoming several Customer.io people."""

from __future__ import annotations

from collections.abc import Iterable

from inspector.core.audit.finding import Finding, FindingSeverity
from inspector.core.audit.framework import AuditContext, Examples, PersonCheck, SessionCheck
from inspector.core.audit.text import join_names, plural, quoted
from inspector.core.observed import ObservedEvent
from inspector.core.people import IdShape, Person, id_shape

__all__ = [
    "AnonymousIdChurn",
    "AnonymousIntent",
    "EmailAsUserId",
    "MultipleUserIds",
    "UserIdChanged",
    "UserIdShape",
]

#: Distinct userIds whose shape is remembered (bounded memory on huge sessions).
_MEMO_LIMIT = 1_000_000

_SHAPE_WORDS = {
    IdShape.EMAIL: "an email",
    IdShape.NUMERIC: "a number",
    IdShape.UUID: "a UUID",
    IdShape.OTHER: "another format",
}


class MultipleUserIds(PersonCheck):
    """One person carries several userIds: Customer.io creates a person for each."""

    id = "identity.multiple_user_ids"
    area = "identity"
    severity = FindingSeverity.ERROR
    title = "One shopper, several userIds"

    def check_person(self, person: Person, ctx: AuditContext) -> Iterable[Finding]:
        if len(person.user_ids) < 2:
            return ()
        ordered = sorted(person.user_ids.items(), key=lambda item: item[1].event_id)
        parts = [
            f"{join_names(sorted(seen.sources))} sends {quoted(value)} "
            f"({_SHAPE_WORDS[id_shape(value)]})"
            for value, seen in ordered
        ]
        return (self.finding(
            ctx, key=person.id, person=person.id,
            message=(f"One shopper ({person.label}) carries {len(ordered)} userIds: "
                     f"{'; '.join(parts)}. Customer.io will create {len(ordered)} people "
                     "for them: send one stable userId from every source."),
            events=[(seen.event_id, seen.message_id) for _, seen in ordered],
            user_ids=[value for value, _ in ordered],
        ),)


class EmailAsUserId(PersonCheck):
    """A userId that is an email: it changes when the shopper changes it, and leaks as PII."""

    id = "identity.email_as_user_id"
    area = "identity"
    severity = FindingSeverity.WARNING
    title = "Email used as userId"

    def check_person(self, person: Person, ctx: AuditContext) -> Iterable[Finding]:
        for value, seen in person.user_ids.items():
            if id_shape(value) is IdShape.EMAIL:
                yield self.finding(
                    ctx, key=f"{person.id}|{value}", person=person.id,
                    message=(f"userId {quoted(value)} from {join_names(sorted(seen.sources))} "
                             "is an email: it changes when the shopper changes their email "
                             "(a new person in Customer.io) and puts PII in URLs. Send a "
                             "stable database id as userId and the email as a trait."),
                    events=[(seen.event_id, seen.message_id)], user_id=value,
                )


class AnonymousIntent(PersonCheck):
    """Intent events from someone never identified: the ghost cart."""

    id = "identity.anonymous_intent"
    area = "identity"
    severity = FindingSeverity.ERROR
    title = "Ghost carts (intent never identified)"

    def check_person(self, person: Person, ctx: AuditContext) -> Iterable[Finding]:
        if person.user_ids or person.emails or not person.intent_events:
            return ()
        names = sorted({event.name for event in person.intent_events})
        anonymous = ", ".join(quoted(value) for value in person.anonymous_ids)
        count = len(person.intent_events)
        return (self.finding(
            ctx, key=person.id, person=person.id,
            message=(f"Ghost cart: anonymousId {anonymous} sent {plural(count, 'intent event')} "
                     f"({join_names(names)}) and was never linked to a userId or an email in "
                     "this session: Customer.io cannot reach this shopper or merge the cart. "
                     "Identify (or alias) the shopper as soon as their email is known."),
            events=[(event.event_id, event.message_id) for event in person.intent_events],
            intent_events=count,
        ),)


class UserIdShape(SessionCheck):
    """Sources that disagree on what a userId looks like create different people."""

    id = "identity.user_id_shape"
    area = "identity"
    severity = FindingSeverity.WARNING
    title = "userId shape differs between sources"

    def __init__(self) -> None:
        super().__init__()
        #: source -> shape -> sightings.
        self._shapes: dict[str, dict[IdShape, Examples]] = {}
        self._shape_of: dict[str, IdShape] = {}

    def observe(self, event: ObservedEvent, person: Person | None, ctx: AuditContext) -> None:
        if not event.user_id:
            return
        shapes = self._shapes.get(event.source)
        if shapes is None:
            shapes = self._shapes[event.source] = {}
        shape = self._shape_of.get(event.user_id)
        if shape is None:
            shape = id_shape(event.user_id)
            if len(self._shape_of) < _MEMO_LIMIT:
                self._shape_of[event.user_id] = shape
        sighting = shapes.get(shape)
        if sighting is None:
            sighting = shapes[shape] = Examples()
            self.mark("session")
        sighting.add(event)

    def check_key(self, key: str, ctx: AuditContext) -> Iterable[Finding]:
        every = {shape for shapes in self._shapes.values() for shape in shapes}
        if len(every) < 2:
            return ()
        parts = []
        events: list[tuple[int, str | None]] = []
        for source in sorted(self._shapes):
            shapes = self._shapes[source]
            words = join_names([_SHAPE_WORDS[shape] for shape in sorted(shapes)])
            parts.append(f"{source} sends {words}")
            for sighting in shapes.values():
                events.extend(sighting.events[:1])
        return (self.finding(
            ctx, key=key,
            message=(f"userIds come in {len(every)} shapes: {'; '.join(parts)}. The same "
                     "shopper from two of these sources becomes two Customer.io people."),
            events=events,
            shapes={source: sorted(str(shape) for shape in shapes)
                    for source, shapes in self._shapes.items()},
        ),)


class UserIdChanged(SessionCheck):
    """One anonymousId identified as two different userIds."""

    id = "identity.user_id_changed"
    area = "identity"
    severity = FindingSeverity.WARNING
    title = "anonymousId identified as different users"

    def __init__(self) -> None:
        super().__init__()
        self._users: dict[str, dict[str, Examples]] = {}

    def observe(self, event: ObservedEvent, person: Person | None, ctx: AuditContext) -> None:
        if not (event.user_id and event.anonymous_id):
            return
        users = self._users.setdefault(event.anonymous_id, {})
        sighting = users.get(event.user_id)
        if sighting is None:
            sighting = users[event.user_id] = Examples()
            if len(users) > 1:
                self.mark(event.anonymous_id)
        sighting.add(event, keep=1)

    def check_key(self, key: str, ctx: AuditContext) -> Iterable[Finding]:
        users = self._users[key]
        ordered = sorted(users.items(), key=lambda item: item[1].events[0])
        return (self.finding(
            ctx, key=key, person=f"anon:{key}",
            message=(f"anonymousId {quoted(key)} was identified as "
                     f"{join_names([quoted(user) for user, _ in ordered])}: a shared device, "
                     "or a logout that did not call reset(). Events before the switch merge "
                     "into the wrong Customer.io person."),
            events=[sighting.events[0] for _, sighting in ordered],
            user_ids=[user for user, _ in ordered],
        ),)


class AnonymousIdChurn(SessionCheck):
    """A user or device getting a new anonymousId on every page or launch."""

    id = "identity.anonymous_id_churn"
    area = "identity"
    severity = FindingSeverity.WARNING
    title = "anonymousId churn"

    def __init__(self) -> None:
        super().__init__()
        #: ("user" | "device", id) -> anonymousId -> sightings.
        self._ids: dict[tuple[str, str], dict[str, Examples]] = {}

    def observe(self, event: ObservedEvent, person: Person | None, ctx: AuditContext) -> None:
        anonymous_id = event.anonymous_id
        if not anonymous_id:
            return
        threshold = ctx.config.anonymous_id_churn_threshold
        for kind, value in (("user", event.user_id), ("device", event.device_id)):
            if not value:
                continue
            key = (kind, value)
            ids = self._ids.get(key)
            if ids is None:
                ids = self._ids[key] = {}
            sighting = ids.get(anonymous_id)
            if sighting is None:
                sighting = ids[anonymous_id] = Examples()
            sighting.add(event, keep=1)
            if len(ids) >= threshold:
                self.mark(f"{kind}:{value}")

    def check_key(self, key: str, ctx: AuditContext) -> Iterable[Finding]:
        kind, _, value = key.partition(":")
        ids = self._ids[(kind, value)]
        # Several devices each used for a while are normal; ids used for one or two calls
        # each are a library losing its storage (or re-initialised on every page).
        short_lived = [value for value, sighting in ids.items() if sighting.count <= 2]
        if len(short_lived) < ctx.config.anonymous_id_churn_threshold:
            return ()
        calls = sum(sighting.count for sighting in ids.values())
        who = f"userId {quoted(value)}" if kind == "user" else f"device {quoted(value)}"
        return (self.finding(
            ctx, key=key, person=key if kind == "user" else None,
            message=(f"{who} had {len(ids)} anonymousIds over {plural(calls, 'call')} "
                     f"({len(short_lived)} used for at most 2 calls): the library is "
                     "re-initialised or loses its storage on every page or launch, so "
                     "anonymous activity never merges."),
            events=[ids[item].events[0] for item in short_lived[:10]],
            anonymous_ids=len(ids),
        ),)
