"""The audit framework: checks, the shared session state they read, and the incremental runner.

Two kinds of check, so each new check is a small class with no bookkeeping of its own:

* :class:`PersonCheck` is a pure function of one person (from the identity graph). The runner
  re-runs it only for the people a batch of calls changed, and drops the findings of people
  merged into others: per call the cost is O(1) amortised, whatever the session's size.
* :class:`SessionCheck` keeps its own small state keyed by something other than a person (a
  trait name, an anonymousId, a source), updated per call, and reports from that state; it says
  which keys changed so only those are re-reported.

"From scratch" is the same code fed the stored session, so a live run and a re-audit agree (a
property test holds them to it).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from inspector.core.audit.config import AuditConfig
from inspector.core.audit.finding import Finding, FindingSeverity
from inspector.core.observed import ObservedEvent
from inspector.core.people import IdentityGraph, Person
from inspector.core.people.graph import Node

__all__ = ["EXAMPLES", "AuditContext", "Auditor", "Check", "Examples", "PeopleFollowingCheck",
           "PersonCheck", "SessionCheck"]


#: Example events kept per finding key (the count is exact, the examples are the first few):
#: state per key stays small however often a thing is seen.
EXAMPLES = 5


@dataclass(slots=True)
class Examples:
    """How often something was seen, with the first few events that showed it."""

    events: list[tuple[int, str | None]] = field(default_factory=list)
    count: int = 0

    def add(self, event: ObservedEvent, keep: int = EXAMPLES) -> None:
        """Count ``event``, keeping it as an example while there are fewer than ``keep``."""
        self.count += 1
        if len(self.events) < keep:
            self.events.append((event.id, event.message_id))


@dataclass(slots=True)
class AuditContext:
    """What every check shares: the configuration and the identity graph."""

    config: AuditConfig
    graph: IdentityGraph


class Check:
    """A retention check: a stable dotted id, an area, a default severity and a title."""

    id: ClassVar[str]
    area: ClassVar[str]
    severity: ClassVar[FindingSeverity]
    title: ClassVar[str]

    def finding(self, ctx: AuditContext, *, key: str, message: str,
                events: Iterable[tuple[int, str | None]] = (), person: str | None = None,
                severity: FindingSeverity | None = None, **data: object) -> Finding:
        """A finding of this check (its severity as the configuration says)."""
        setting = ctx.config.checks.get(self.id)
        chosen = severity or self.severity
        if setting is not None and setting.severity is not None:
            chosen = FindingSeverity(setting.severity)
        pairs = sorted(dict.fromkeys(events))
        return Finding(
            check=self.id, severity=chosen, message=message, key=key,
            event_ids=tuple([event_id for event_id, _ in pairs]),
            message_ids=tuple([message_id for _, message_id in pairs if message_id]),
            person=person, data=data,
        )


class PersonCheck(Check):
    """A check that looks at one person at a time."""

    def check_person(self, person: Person, ctx: AuditContext) -> Iterable[Finding]:
        """The findings about ``person`` (empty when there is nothing to say)."""
        raise NotImplementedError


class SessionCheck(Check):
    """A check with state of its own, fed the calls of the types it names."""

    #: The call types :meth:`observe` wants (``None``: every call). The runner hands each
    #: call only to the checks that want its type: most checks read identify calls alone.
    call_types: ClassVar[frozenset[str] | None] = None

    def observe(self, event: ObservedEvent, person: Person | None, ctx: AuditContext) -> None:
        """Update the state with one call."""
        raise NotImplementedError

    def __init__(self) -> None:
        self._changed: set[str] = set()

    def mark(self, key: str) -> None:
        """Say that the findings for ``key`` may have changed."""
        self._changed.add(key)

    def changed_keys(self) -> set[str]:
        """The keys marked since the last call (then forgotten)."""
        changed, self._changed = self._changed, set()
        return changed

    def check_key(self, key: str, ctx: AuditContext) -> Iterable[Finding]:
        """The findings for one key of the state."""
        raise NotImplementedError


class PeopleFollowingCheck(SessionCheck):
    """A session check whose state is kept per person: before each read it is told which
    people changed and which were merged into others (by graph root), so it re-reads those
    alone instead of every person it holds."""

    def people_changed(self, changed: Mapping[Node, Person], gone: Iterable[Node],
                       ctx: AuditContext) -> None:
        """Take the people changed since the last read, and the roots merged away."""
        raise NotImplementedError


class Auditor:
    """Runs every enabled check over a stream of calls and keeps the current findings.

    Feed it calls in arrival order (:meth:`feed`) and read :meth:`findings` whenever it suits:
    only what changed since the last read is re-checked. Not thread-safe: one owner.
    """

    def __init__(self, config: AuditConfig | None = None,
                 checks: Iterable[Check] | None = None, *,
                 planned_events: Iterable[str] | None = None) -> None:
        """``planned_events``: the loaded tracking plan's event names, added to the
        configuration's ``planned_events`` (drift.event_name compares against them)."""
        from inspector.core.audit.checks import all_checks
        from inspector.core.audit.checks.segments import segment_checks

        self.config = config or AuditConfig()
        if planned_events is not None:
            self.config = self.config.model_copy(update={"planned_events": list(
                dict.fromkeys([*self.config.planned_events, *planned_events]))})
        self.graph = IdentityGraph(
            intent_events=self.config.intent_events,
            checkout_events=self.config.checkout_events,
            is_placeholder=self.config.is_placeholder,
        )
        self.context = AuditContext(self.config, self.graph)
        chosen = list(checks) if checks is not None else [
            *all_checks(), *segment_checks(self.config)]
        self.checks = [check for check in chosen if self.config.enabled(check.id)]
        self._person_checks = [c for c in self.checks if isinstance(c, PersonCheck)]
        self._session_checks = [c for c in self.checks if isinstance(c, SessionCheck)]
        self._people_following = [c for c in self._session_checks
                                  if isinstance(c, PeopleFollowingCheck)]
        self._checks_by_type: dict[str | None, list[SessionCheck]] = {}
        #: Person findings by graph root, session findings by (check id, key).
        self._by_person: dict[tuple[str, str], list[Finding]] = {}
        self._by_key: dict[tuple[str, str], list[Finding]] = {}
        self._flat: list[Finding] | None = None
        self._sorted: list[Finding] | None = None

    def feed(self, events: Iterable[ObservedEvent]) -> None:
        """Take calls in arrival order."""
        ctx = self.context
        observe = self.graph.observe
        by_type = self._checks_by_type
        for event in events:
            call_type = event.type
            person = observe(event)
            checks = by_type.get(call_type)
            if checks is None:
                checks = by_type[call_type] = [
                    check for check in self._session_checks
                    if check.call_types is None or call_type in check.call_types]
            for check in checks:
                check.observe(event, person, ctx)

    def findings(self, *, ordered: bool = True) -> list[Finding]:
        """Every current finding: errors first, then by check and the first event named
        (``ordered=False``: in no particular order, cheaper for a live view that groups
        them itself)."""
        changed, gone = self.graph.take_changes()
        dirty = bool(changed or gone)
        if changed or gone:
            for follower in self._people_following:
                follower.people_changed(changed, gone, self.context)
        for root in gone:
            self._by_person.pop(root, None)
        for root, person in changed.items():
            self._by_person[root] = [
                finding for check in self._person_checks
                for finding in check.check_person(person, self.context)
            ]
        for check in self._session_checks:
            for key in check.changed_keys():
                dirty = True
                self._by_key[(check.id, key)] = list(check.check_key(key, self.context))
        if dirty or self._flat is None:
            every = [f for group in self._by_person.values() for f in group]
            every += [f for group in self._by_key.values() for f in group]
            self._flat, self._sorted = every, None
        if not ordered:
            return list(self._flat)
        if self._sorted is None:
            self._sorted = sorted(self._flat, key=_ORDER)
        return list(self._sorted)

    def people(self) -> Iterator[Person]:
        """The people the calls so far link, in order of their first call."""
        return self.graph.people()


_ORDER = operator.attrgetter("order")
