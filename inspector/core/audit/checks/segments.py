"""Your segments: the audit file's own rules (``segments:``), one check each.

Each rule is written in the condition language (:mod:`inspector.core.conditions`): a call it
picks (WHEN) that breaks its expectation (EXPECT) is in the segment. Call-level rules keep a
count and the first few calls, O(1) per call. Rules about people (person conditions or a time
window) keep, per identifier the picked calls came under, their count and first few calls, and
ask the person conditions of the person *as they are now* when the finding is read: a shopper
whose email arrives after the cart add leaves "email is blank", as they would leave that
segment in Customer.io.
"""

from __future__ import annotations

import bisect
import heapq
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from inspector.core.audit.config import AuditConfig, SegmentRule
from inspector.core.audit.finding import Finding, FindingSeverity
from inspector.core.audit.framework import (
    EXAMPLES,
    AuditContext,
    Examples,
    PeopleFollowingCheck,
)
from inspector.core.audit.text import join_names, plural, quoted
from inspector.core.conditions import compile_expectation, compile_match
from inspector.core.model import Violation
from inspector.core.observed import ObservedEvent
from inspector.core.people import Person
from inspector.core.people.graph import Node

__all__ = ["SegmentCheck", "segment_checks"]

#: Distinct reasons counted per segment; beyond them calls still count, under the first ones.
_REASONS = 20
#: Calls named by a segment's finding (its count is exact).
_SHOWN_EVENTS = 50
#: People named in a segment's message.
_SHOWN_PEOPLE = 5
_INDEX = re.compile(r"\.\d+(?=\.|$)")
_KEY = ""


@dataclass(slots=True)
class _Reasons:
    """Why calls broke the expectation: a count per (kind, field with indexes as ``[]``),
    with the first message of each as its wording."""

    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    wording: dict[tuple[str, str], str] = field(default_factory=dict)

    def add(self, violations: Iterable[Violation], times: int = 1) -> None:
        """Count each violation ``times`` times (once per call that broke it so)."""
        for violation in violations:
            key = (str(violation.kind), _INDEX.sub("[]", violation.field))
            if key in self.counts:
                self.counts[key] += times
            elif len(self.counts) < _REASONS:
                self.counts[key] = times
                self.wording[key] = violation.message

    def merge(self, other: _Reasons) -> None:
        for key, count in other.counts.items():
            if key in self.counts:
                self.counts[key] += count
            elif len(self.counts) < _REASONS:
                self.counts[key] = count
                self.wording[key] = other.wording[key]

    def top(self) -> list[tuple[str, int]]:
        """Messages with their counts, most frequent first."""
        ranked = sorted(self.counts.items(), key=lambda item: -item[1])
        return [(self.wording[key], count) for key, count in ranked]


@dataclass(slots=True)
class _Member:
    """What one person adds to a people-counting segment (cached until they change)."""

    first_event_id: int
    label: str
    calls: int
    events: list[tuple[int, str | None]]
    #: (kind, field) -> (count, the first wording).
    reasons: dict[tuple[str, str], tuple[int, str]]


@dataclass(slots=True)
class _Group:
    """The picked calls of one person (by graph root), and their cached contribution."""

    picked: Examples = field(default_factory=Examples)
    failing: Examples = field(default_factory=Examples)
    reasons: _Reasons = field(default_factory=_Reasons)
    last_received_at: float = -math.inf

    def absorb(self, other: _Group) -> None:
        """Fold the group of a person merged into this one."""
        for mine, theirs in ((self.picked, other.picked), (self.failing, other.failing)):
            mine.count += theirs.count
            mine.events = sorted([*mine.events, *theirs.events])[:EXAMPLES]
        self.reasons.merge(other.reasons)
        self.last_received_at = max(self.last_received_at, other.last_received_at)


#: The group of calls that came with no userId or anonymousId (no person at all).
_NOBODY: Node = ("", "")


class SegmentCheck(PeopleFollowingCheck):
    """One audit segment from the audit file (its id, title and severity come from the rule)."""

    area = "segments"

    def __init__(self, rule: SegmentRule, config: AuditConfig) -> None:
        super().__init__()
        self.rule = rule
        self.id = rule.check_id  # type: ignore[misc]
        self.title = rule.name  # type: ignore[misc]
        self.severity = FindingSeverity(rule.severity)  # type: ignore[misc]
        self.__doc__ = rule.description or f"Your segment {rule.name!r}."
        self._match = compile_match(rule.match, consent_trait=config.consent_trait)
        self._expect = compile_expectation(rule.expect, consent_trait=config.consent_trait)
        self._people = rule.counts_people
        types = self._match.types
        if rule.within is not None:
            # The window is measured from the session's newest call, whatever its type.
            self.call_types = None  # type: ignore[misc]
        elif types is not None:
            self.call_types = types  # type: ignore[misc]
        self._calls = Examples()
        self._reasons = _Reasons()
        self._newest = 0.0
        # People-counting rules: picked calls per person, the people to re-read, the people in
        # the segment (sorted by their first call, for the examples), and a heap of when each
        # group's latest call leaves the time window.
        self._groups: dict[Node, _Group] = {}
        self._stale: set[Node] = set()
        self._members: dict[Node, _Member] = {}
        self._order: list[tuple[int, Node]] = []
        self._calls_in = 0
        self._reason_counts: dict[tuple[str, str], int] = {}
        self._expiry: list[tuple[float, Node]] = []

    # ---- feeding

    def observe(self, event: ObservedEvent, person: Person | None, ctx: AuditContext) -> None:
        if event.received_at > self._newest:
            self._newest = event.received_at
            if self.rule.within is not None and self._members:
                self.mark(_KEY)
        if not self._match.picks_call(event):
            return
        if not self._people:
            broken = self._expect.field_violations(event) if self._expect else None
            if broken is None or broken:
                self._calls.add(event, _SHOWN_EVENTS)
                self._reasons.add(broken or ())
                self.mark(_KEY)
            return
        root = self._root(event, ctx)
        group = self._groups.get(root)
        if group is None:
            group = self._groups[root] = _Group()
        group.picked.add(event)
        if event.received_at > group.last_received_at:
            group.last_received_at = event.received_at
            if self.rule.within is not None:
                heapq.heappush(self._expiry, (event.received_at, root))
        broken = self._expect.field_violations(event)
        if broken:
            group.failing.add(event)
            group.reasons.add(broken)
        self._stale.add(root)
        self.mark(_KEY)

    @staticmethod
    def _root(event: ObservedEvent, ctx: AuditContext) -> Node:
        for kind, value in (("user", event.user_id), ("anon", event.anonymous_id)):
            if value:
                root = ctx.graph.root_of(kind, value)
                if root is not None:
                    return root
        return _NOBODY

    def people_changed(self, changed: Mapping[Node, Person], gone: Iterable[Node],
                       ctx: AuditContext) -> None:
        if not self._people or not self._groups:
            return
        groups = self._groups
        for root in gone:
            group = groups.pop(root, None)
            if group is None:
                continue
            self._leave(root)
            survivor = ctx.graph.root_of(*root)
            assert survivor is not None
            into = groups.get(survivor)
            if into is None:
                groups[survivor] = group
            else:
                into.absorb(group)
            if self.rule.within is not None:
                heapq.heappush(self._expiry, (groups[survivor].last_received_at, survivor))
            self._stale.add(survivor)
            self.mark(_KEY)
        for root in changed:
            if root in groups:
                self._stale.add(root)
                self.mark(_KEY)

    # ---- reading

    def check_key(self, key: str, ctx: AuditContext) -> Iterable[Finding]:
        if not self._people:
            return self._call_finding(ctx)
        return self._people_finding(ctx)

    def _call_finding(self, ctx: AuditContext) -> Iterable[Finding]:
        calls = self._calls
        if not calls.count:
            return ()
        reasons = self._reasons.top()
        why = f": {_why(reasons)}" if reasons else ""
        return (self.finding(
            ctx, key=_KEY, events=calls.events,
            message=(f"{plural(calls.count, 'call')} {_verb(calls.count)} your segment "
                     f"{quoted(self.rule.name)}{why}."),
            segment=self.rule.name, calls=calls.count, people=None,
            reasons=[{"message": text, "count": count} for text, count in reasons],
        ),)

    def _expire(self) -> None:
        """Mark the people whose latest picked call fell out of the time window."""
        if self.rule.within is None:
            return
        cutoff = self._newest - self.rule.within
        expiry, groups = self._expiry, self._groups
        while expiry and expiry[0][0] < cutoff:
            received_at, root = heapq.heappop(expiry)
            group = groups.get(root)
            if group is not None and group.last_received_at == received_at:
                self._stale.add(root)

    def _member(self, root: Node, group: _Group, ctx: AuditContext) -> _Member | None:
        """What ``root``'s person adds to the segment now (``None``: they are not in it)."""
        if self.rule.within is not None and \
                group.last_received_at < self._newest - self.rule.within:
            return None
        person = ctx.graph.person_at(root) if root != _NOBODY else None
        match_person = self._match.person
        if match_person is not None and not match_person.holds(person):
            return None
        unmet = self._expect.person_violations(person, label="the person")
        reasons = _Reasons()
        if not self._expect or unmet:
            # The person breaks the rule: every call picked under them is in it.
            examples = group.picked
            reasons.add(unmet, examples.count)
        else:
            examples = group.failing
            reasons = group.reasons
        if not examples.count:
            return None
        return _Member(
            examples.events[0][0], person.label if person is not None else "(no id)",
            examples.count, list(examples.events),
            {key: (count, reasons.wording[key]) for key, count in reasons.counts.items()})

    def _leave(self, root: Node) -> None:
        member = self._members.pop(root, None)
        if member is None:
            return
        position = bisect.bisect_left(self._order, (member.first_event_id, root))
        del self._order[position]
        self._calls_in -= member.calls
        counts = self._reason_counts
        for key, (count, _) in member.reasons.items():
            counts[key] -= count
            if not counts[key]:
                del counts[key]

    def _join(self, root: Node, member: _Member) -> None:
        self._members[root] = member
        bisect.insort(self._order, (member.first_event_id, root))
        self._calls_in += member.calls
        counts = self._reason_counts
        for key, (count, _) in member.reasons.items():
            counts[key] = counts.get(key, 0) + count

    def _people_finding(self, ctx: AuditContext) -> Iterable[Finding]:
        self._expire()
        stale, self._stale = self._stale, set()
        for root in stale:
            self._leave(root)
            group = self._groups.get(root)
            member = self._member(root, group, ctx) if group is not None else None
            if member is not None:
                self._join(root, member)
        if not self._members:
            return ()
        members = [self._members[root] for _, root in self._order]
        labels = [member.label for member in members[:100]]
        events = sorted(pair for member in members[:_SHOWN_EVENTS // EXAMPLES]
                        for pair in member.events)[:_SHOWN_EVENTS]
        top = self._top_reasons(members)
        why = f": {_why(top)}" if top else ""
        count = len(members)
        named = join_names(labels[:_SHOWN_PEOPLE] + (
            [f"{count - _SHOWN_PEOPLE:,} more"] if count > _SHOWN_PEOPLE else []))
        return (self.finding(
            ctx, key=_KEY, events=events,
            message=(f"{_people(count)} {_verb(count)} your segment "
                     f"{quoted(self.rule.name)} ({plural(self._calls_in, 'call')}){why}: "
                     f"{named}."),
            segment=self.rule.name, calls=self._calls_in, people=count, labels=labels,
            reasons=[{"message": text, "count": n} for text, n in top],
        ),)

    def _top_reasons(self, members: list[_Member]) -> list[tuple[str, int]]:
        """The most common reasons (up to ten), each worded as the earliest person in the
        segment who has it (so live and from-scratch audits word them alike)."""
        ranked = sorted(self._reason_counts.items(), key=lambda item: -item[1])[:10]
        wording: dict[tuple[str, str], str] = {}
        wanted = {key for key, _ in ranked}
        for member in members:
            for key in wanted & member.reasons.keys():
                wording.setdefault(key, member.reasons[key][1])
            if len(wording) == len(wanted):
                break
        return [(wording[key], count) for key, count in ranked]


def _verb(count: int) -> str:
    return "matches" if count == 1 else "match"


def _people(count: int) -> str:
    return "1 person" if count == 1 else f"{count:,} people"


def _why(reasons: list[tuple[str, int]]) -> str:
    shown = [f"{text} ({count})" for text, count in reasons[:3]]
    if len(reasons) > 3:
        shown.append(plural(len(reasons) - 3, "other reason"))
    return "; ".join(shown)


def segment_checks(config: AuditConfig) -> list[SegmentCheck]:
    """One check per segment of ``config``, in the file's order."""
    return [SegmentCheck(rule, config) for rule in config.segments]
