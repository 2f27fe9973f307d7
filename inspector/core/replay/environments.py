"""Replaying across environments: production events into staging, or staging into production.

Replay already refuses a production-marked destination until its name is typed. This adds the
other half: events captured with a production write key sent to a staging workspace put real
customers' personal data in staging, and staging events sent to production put test profiles
among real customers. The captured events' environments come from the audit configuration
(:class:`~inspector.core.environments.EnvironmentMap`); the destination's from the
environment that names it (``destination:``), else from its staging / production marking.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from inspector.core.environments import EnvironmentMap
from inspector.core.model import EventRecord
from inspector.core.replay.destinations import Destination, Marking
from inspector.core.wording import count

__all__ = ["CrossEnvironment", "ReplayScope", "cross_environment", "replay_scope"]

_Pair = tuple[int | None, dict[str, Any]]


@dataclass(slots=True)
class ReplayScope:
    """What a replay would send, with how many of its events each environment captured."""

    pairs: list[_Pair] = field(default_factory=list)
    #: Environment name -> events captured in it (events of no environment are not counted).
    environments: Counter[str] = field(default_factory=Counter)


def replay_scope(entries: Iterable[tuple[EventRecord, dict[str, Any]]],
                 environments: EnvironmentMap,
                 key_names: Mapping[str, str]) -> ReplayScope:
    """``(record, effective payload)`` pairs (as ``CorrectionStore.iter_effective`` gives
    them) as ``(event_id, payload)`` pairs in that order, counted by environment."""
    scope = ReplayScope()
    for record, payload in entries:
        scope.pairs.append((record.id, payload))
        if environments:
            write_key = record.write_key
            context = payload.get("context")
            environment = environments.of_event(
                write_key, key_names.get(write_key) if write_key else None,
                context if isinstance(context, dict) else None)
            if environment is not None:
                scope.environments[environment.name] += 1
    return scope


@dataclass(frozen=True, slots=True)
class CrossEnvironment:
    """Events of other environments in a replay to ``destination``: the warning to show."""

    destination: str
    #: The destination's environment name, or ``production`` / ``staging`` from its marking.
    destination_environment: str
    #: Captured environment -> events, for those that are not the destination's.
    crossing: dict[str, int]
    message: str

    @property
    def events(self) -> int:
        """How many events would cross."""
        return sum(self.crossing.values())


def cross_environment(environments: EnvironmentMap, destination: Destination,
                      captured: Mapping[str, int]) -> CrossEnvironment | None:
    """The warning for replaying events ``captured`` (environment -> events) to
    ``destination``, or ``None`` when every event belongs there (or nothing is known)."""
    mapped = environments.of_destination(destination.name)
    if mapped is not None:
        target, production = mapped.name, mapped.production
    else:
        production = destination.marking is Marking.PRODUCTION
        target = "production" if production else "staging"

    def crosses(name: str) -> bool:
        if mapped is not None:
            return name != mapped.name
        environment = environments.named(name)
        return environment is not None and environment.production != production

    crossing = {name: events for name, events in captured.items() if events and crosses(name)}
    if not crossing:
        return None
    names = sorted(crossing)
    total = sum(crossing.values())
    sources = ", ".join(names)
    from_production = any(
        (environment := environments.named(name)) is not None and environment.production
        for name in names)
    if from_production and not production:
        why = ("real customers' personal data would land in a test workspace, where "
               "testers and test campaigns reach it")
    elif production and not from_production:
        why = ("test profiles, fake orders and test emails would land among real customers "
               "and can trigger real campaigns")
    else:
        why = "each workspace would hold the other's people"
    kind = "a production" if production else f"the {target}" if mapped else "a staging"
    message = (f"{count(total, 'event')} to replay were captured with {sources} write keys, "
               f"and {destination.name!r} is {kind} workspace: {why}.")
    return CrossEnvironment(destination.name, target, crossing, message)
