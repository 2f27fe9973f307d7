"""Staging and production: keys sent from the wrong environment, people in both, unlisted keys.

Every check here reads ``environments`` from the audit configuration and says nothing when
none is configured. An event lands in its write key's environment; where it came from (page
host, app build or namespace) is its origin (:mod:`inspector.core.environments`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from inspector.core.audit.config import EnvironmentConfig
from inspector.core.audit.finding import Finding, FindingSeverity
from inspector.core.audit.framework import (
    EXAMPLES,
    AuditContext,
    Examples,
    PersonCheck,
    SessionCheck,
)
from inspector.core.audit.text import join_names, plural, quoted
from inspector.core.observed import ObservedEvent
from inspector.core.people import Person

__all__ = ["EnvironmentMixed", "UnknownEnvironmentKey", "WrongWriteKey"]


def _key_label(write_key: str, name: str | None) -> str:
    """``write key "abc123"`` or ``write key "abc123" (web prod)``."""
    return f"write key {quoted(write_key)}" + (f" ({name})" if name and name != write_key
                                                else "")


def _key_name(event: ObservedEvent) -> str | None:
    return event.source if event.write_key_named else None


def _consequence(lands: EnvironmentConfig, origin: EnvironmentConfig) -> str:
    """What sending ``origin``'s calls into ``lands`` does in Customer.io."""
    if lands.production and not origin.production:
        return (f"{origin.name} tests pollute production Customer.io people: test profiles, "
                "fake orders and test emails land among real customers and can trigger real "
                "campaigns")
    if origin.production and not lands.production:
        return (f"production traffic lands in {lands.name}: real customers' events and "
                f"personal data go to the {lands.name} workspace and never reach production "
                "Customer.io, so their campaigns do not fire")
    return (f"these calls land in the {lands.name} workspace instead of {origin.name}'s, so "
            "each workspace sees the other's people")


@dataclass(slots=True)
class _Crossing:
    """Calls through one environment's key from another environment's hosts or apps."""

    write_key: str
    key_name: str | None
    lands: EnvironmentConfig
    origin: EnvironmentConfig
    examples: Examples = field(default_factory=Examples)
    #: The first few origins (``host "x"``), in arrival order.
    origins: list[str] = field(default_factory=list)


class WrongWriteKey(SessionCheck):
    """A production write key sent from a staging host or build, or the reverse.

    The key decides which Customer.io workspace a call lands in; the page's host
    (``context.page.url``) or the app's build / namespace says which environment sent it.
    """

    id = "environment.wrong_write_key"
    area = "environments"
    severity = FindingSeverity.ERROR
    title = "Write key of another environment"

    def __init__(self) -> None:
        super().__init__()
        self._crossings: dict[str, _Crossing] = {}

    def observe(self, event: ObservedEvent, person: Person | None, ctx: AuditContext) -> None:
        environments = ctx.config.environment_map
        if not environments or event.write_key is None:
            return
        lands = environments.of_key(event.write_key, _key_name(event))
        if lands is None:
            return
        origin = environments.origin(event.context)
        if origin is None or origin.environment.name == lands.name:
            return
        key = f"{event.write_key}|{origin.environment.name}"
        crossing = self._crossings.get(key)
        if crossing is None:
            crossing = self._crossings[key] = _Crossing(
                event.write_key, _key_name(event), lands, origin.environment)
        crossing.examples.add(event)
        described = origin.described
        if len(crossing.origins) < EXAMPLES and described not in crossing.origins:
            crossing.origins.append(described)
        self.mark(key)

    def check_key(self, key: str, ctx: AuditContext) -> Iterable[Finding]:
        crossing = self._crossings[key]
        lands, origin = crossing.lands, crossing.origin
        return (self.finding(
            ctx, key=key,
            message=(f"{plural(crossing.examples.count, 'call')} through the {lands.name} "
                     f"{_key_label(crossing.write_key, crossing.key_name)} came from "
                     f"{origin.name} ({join_names(crossing.origins)}): "
                     f"{_consequence(lands, origin)}. Use the {origin.name} key there."),
            events=crossing.examples.events, write_key=crossing.write_key,
            key_environment=lands.name, origin_environment=origin.name,
            origins=list(crossing.origins), calls=crossing.examples.count,
        ),)


class EnvironmentMixed(PersonCheck):
    """One person (and so each of their browser or app sessions) sending through the keys of
    two environments: a tester on a real customer's identity, or real data reaching staging.
    """

    id = "environment.mixed"
    area = "environments"
    severity = FindingSeverity.ERROR
    title = "One person in two environments"

    def check_person(self, person: Person, ctx: AuditContext) -> Iterable[Finding]:
        environments = ctx.config.environment_map
        if not environments or len(person.write_keys) < 2:
            return ()
        #: Environment name -> its keys this person used, by first call.
        used: dict[str, list[tuple[int, str | None, str, str | None]]] = {}
        production: dict[str, bool] = {}
        for write_key, sighting in person.write_keys.items():
            environment = environments.of_key(write_key, sighting.name)
            if environment is not None:
                used.setdefault(environment.name, []).append(
                    (sighting.event_id, sighting.message_id, write_key, sighting.name))
                production[environment.name] = environment.production
        if len(used) < 2:
            return ()
        order = sorted(used, key=lambda name: min(used[name])[0])
        parts = [f"{name} ({join_names([_key_label(key, label) for *_, key, label in keys])})"
                 for name in order for keys in (sorted(used[name]),)]
        if any(production.values()) and not all(production.values()):
            why = ("staging test activity reaches a real customer's production profile, or "
                   "their real data sits in a test workspace")
        else:
            why = "their profile is split between two workspaces"
        first = [min(used[name]) for name in order]
        return (self.finding(
            ctx, key=person.id, person=person.id,
            message=(f"{person.label} sent calls through the keys of {join_names(parts)}: "
                     f"{why}, and campaigns in each workspace see only part of their "
                     "activity. Keep test identities on test keys."),
            events=[(event_id, message_id) for event_id, message_id, _, _ in first],
            environments=order,
            write_keys={name: sorted(key for _, _, key, _ in used[name]) for name in order},
        ),)


class UnknownEnvironmentKey(SessionCheck):
    """A write key no configured environment lists (only when environments are configured)."""

    id = "environment.unknown_key"
    area = "environments"
    severity = FindingSeverity.WARNING
    title = "Write key in no environment"

    def __init__(self) -> None:
        super().__init__()
        self._keys: dict[str, Examples] = {}
        self._names: dict[str, str | None] = {}
        #: The first origin a configured pattern recognised (a hint where the key belongs).
        self._origins: dict[str, str] = {}

    def observe(self, event: ObservedEvent, person: Person | None, ctx: AuditContext) -> None:
        environments = ctx.config.environment_map
        write_key = event.write_key
        if not environments or write_key is None:
            return
        if environments.of_key(write_key, _key_name(event)) is not None:
            return
        examples = self._keys.get(write_key)
        if examples is None:
            examples = self._keys[write_key] = Examples()
            self._names[write_key] = _key_name(event)
        examples.add(event)
        if write_key not in self._origins:
            origin = environments.origin(event.context)
            if origin is not None:
                self._origins[write_key] = (f"{origin.described}, which is "
                                            f"{origin.environment.name}")
        self.mark(write_key)

    def check_key(self, key: str, ctx: AuditContext) -> Iterable[Finding]:
        examples = self._keys[key]
        names = [environment.name for environment in ctx.config.environments]
        hint = self._origins.get(key)
        where = f" Its calls come from {hint}." if hint else ""
        return (self.finding(
            ctx, key=key,
            message=(f"{plural(examples.count, 'call')} came with "
                     f"{_key_label(key, self._names[key])}, which belongs to none of the "
                     f"configured environments ({join_names(names)}): nobody can tell which "
                     f"Customer.io workspace its calls land in.{where} Add it to its "
                     "environment, or revoke it."),
            events=examples.events, write_key=key, calls=examples.count,
            origin=hint,
        ),)
