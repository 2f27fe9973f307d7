"""When calls happen against when they arrive: late, too old to trigger, wrong clocks, reordered.

Every check reads the stored ``timestamp``: capture has already corrected it by Segment's
clock-skew rule (``receivedAt - (sentAt - originalTimestamp)``), so ``receivedAt - timestamp``
is how long a call waited on its sender, whatever the sender's clock says. The clock itself
is judged from the raw ``sentAt`` the sender wrote, against ``receivedAt``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from inspector.core.audit.finding import Finding, FindingSeverity
from inspector.core.audit.framework import EXAMPLES, AuditContext, Examples, SessionCheck
from inspector.core.audit.text import clock, join_names, plural, quoted
from inspector.core.observed import ObservedEvent
from inspector.core.people import Person

__all__ = ["ClockSkew", "LateEvents", "OutOfOrder", "OutsideTriggerWindow"]

#: Histogram buckets per doubling of the delay: percentiles within 19% of the true value.
_STEPS_PER_DOUBLING = 4
#: Delays up to 2^30 s (34 years) get a bucket of their own; beyond, the last one.
_BUCKETS = 1 + 30 * _STEPS_PER_DOUBLING
#: Timestamps this much earlier than the latest seen for the person still count as in order
#: (two sources' clocks, corrected to the receiver's, differ by a little).
_ORDER_TOLERANCE_SECONDS = 1.0


def duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3.5 h``, ``4 days``."""
    seconds = abs(seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        hours = seconds / 3600
        return f"{hours:.1f} h" if hours < 10 else f"{hours:.0f} h"
    return f"{seconds / 86400:.0f} days"


@dataclass(slots=True)
class _NamedExamples(Examples):
    """:class:`Examples` that also remember the first few event names they saw."""

    names: list[str] = field(default_factory=list)

    def add(self, event: ObservedEvent, keep: int = EXAMPLES) -> None:
        Examples.add(self, event, keep)  # not super(): slots dataclasses are rebuilt classes
        name = event.name or event.type
        if name and len(self.names) < keep and name not in self.names:
            self.names.append(name)


@dataclass(slots=True)
class _Delays:
    """One source's delays as a log-scale histogram: O(1) to add, percentiles within a bucket."""

    buckets: list[int] = field(default_factory=lambda: [0] * _BUCKETS)
    count: int = 0
    longest: float = 0.0

    def add(self, delay: float) -> None:
        self.count += 1
        if delay > self.longest:
            self.longest = delay
        index = 0 if delay < 1 else min(
            _BUCKETS - 1, 1 + int(_STEPS_PER_DOUBLING * math.log2(delay)))
        self.buckets[index] += 1

    def percentile(self, share: float) -> float:
        """The upper edge of the bucket holding the ``share`` quantile (capped at the max)."""
        wanted = max(1, math.ceil(share * self.count))
        seen = 0
        for index, count in enumerate(self.buckets):
            seen += count
            if seen >= wanted:
                edge = 1.0 if index == 0 else 2 ** (index / _STEPS_PER_DOUBLING)
                return min(edge, self.longest)
        return self.longest


@dataclass(slots=True)
class _Late:
    delays: _Delays = field(default_factory=_Delays)
    late: _NamedExamples = field(default_factory=_NamedExamples)
    errors: int = 0


class LateEvents(SessionCheck):
    """Calls received long after they happened, with each source's delay distribution."""

    id = "latency.late"
    area = "timing"
    severity = FindingSeverity.WARNING
    title = "Calls received late"

    def __init__(self) -> None:
        super().__init__()
        self._sources: dict[str, _Late] = {}
        #: (warning, error, trigger window) seconds per event name: the config is fixed for
        #: an auditor's life, and reading it is most of the cost of an on-time call.
        self._limits: dict[str | None, tuple[float, float, float]] = {}

    def observe(self, event: ObservedEvent, person: Person | None, ctx: AuditContext) -> None:
        timestamp = event.timestamp
        if timestamp is None:
            return
        state = self._sources.get(event.source)
        if state is None:
            state = self._sources[event.source] = _Late()
        delay = max(0.0, event.received_at - timestamp)
        state.delays.add(delay)
        limits = self._limits.get(event.name)
        if limits is None:
            limits = self._limits[event.name] = (
                *ctx.config.latency_thresholds(event.name),
                ctx.config.trigger_window_hours * 3600)
        warning, error, window = limits
        # Past the trigger window is latency.outside_trigger_window's error, not this one's.
        if warning < delay <= window:
            state.late.add(event)
            if delay > error:
                state.errors += 1
        if state.late.count:
            # The distribution in the message moves with every call of a late source.
            self.mark(event.source)

    def check_key(self, key: str, ctx: AuditContext) -> Iterable[Finding]:
        state = self._sources[key]
        late, delays = state.late, state.delays
        p50, p95 = delays.percentile(0.5), delays.percentile(0.95)
        errors = (f"; {plural(state.errors, 'call')} past the error threshold"
                  if state.errors else "")
        return (self.finding(
            ctx, key=key,
            severity=FindingSeverity.ERROR if state.errors else None,
            message=(f"{key} sent {plural(late.count, 'call')} late "
                     f"({join_names(late.names)}{errors}); its delays over "
                     f"{plural(delays.count, 'call')}: p50 about {duration(p50)}, p95 about "
                     f"{duration(p95)}, max {duration(delays.longest)}. Customer.io triggers "
                     "cart and checkout campaigns only when the event arrives, so these "
                     "messages go out late."),
            events=late.events, source=key, late=late.count, errors=state.errors,
            events_named=list(late.names), calls=delays.count,
            p50_seconds=round(p50, 3), p95_seconds=round(p95, 3),
            max_seconds=round(delays.longest, 3),
        ),)


@dataclass(slots=True)
class _Oldest:
    calls: _NamedExamples = field(default_factory=_NamedExamples)
    oldest: float = 0.0


class OutsideTriggerWindow(SessionCheck):
    """Calls whose timestamp is older than Customer.io's trigger window when they arrive."""

    id = "latency.outside_trigger_window"
    area = "timing"
    severity = FindingSeverity.ERROR
    title = "Calls too old to trigger campaigns"

    def __init__(self) -> None:
        super().__init__()
        self._sources: dict[str, _Oldest] = {}

    def observe(self, event: ObservedEvent, person: Person | None, ctx: AuditContext) -> None:
        timestamp = event.timestamp
        if timestamp is None:
            return
        age = event.received_at - timestamp
        if age <= ctx.config.trigger_window_hours * 3600:
            return
        state = self._sources.get(event.source)
        if state is None:
            state = self._sources[event.source] = _Oldest()
        state.calls.add(event)
        state.oldest = max(state.oldest, age)
        self.mark(event.source)

    def check_key(self, key: str, ctx: AuditContext) -> Iterable[Finding]:
        state = self._sources[key]
        hours = ctx.config.trigger_window_hours
        return (self.finding(
            ctx, key=key,
            message=(f"{key} sent {plural(state.calls.count, 'call')} "
                     f"({join_names(state.calls.names)}) more than {hours:g} h after they "
                     f"happened (the oldest {duration(state.oldest)}): Customer.io will not "
                     "trigger campaigns from them."),
            events=state.calls.events, source=key, calls=state.calls.count,
            events_named=list(state.calls.names), oldest_seconds=round(state.oldest, 3),
            window_hours=hours,
        ),)


@dataclass(slots=True)
class _Skew:
    calls: _NamedExamples = field(default_factory=_NamedExamples)
    #: The skew of largest size (positive: the sender's clock is ahead).
    worst: float = 0.0


class ClockSkew(SessionCheck):
    """``sentAt`` far from ``receivedAt``: the sender's clock is wrong."""

    id = "latency.clock_skew"
    area = "timing"
    severity = FindingSeverity.WARNING
    title = "Sender clock is wrong"

    def __init__(self) -> None:
        super().__init__()
        self._sources: dict[str, _Skew] = {}

    def observe(self, event: ObservedEvent, person: Person | None, ctx: AuditContext) -> None:
        sent = event.sent_at
        if sent is None:
            return
        skew = sent - event.received_at
        if abs(skew) <= ctx.config.clock_skew_seconds:
            return
        state = self._sources.get(event.source)
        if state is None:
            state = self._sources[event.source] = _Skew()
        state.calls.add(event)
        if abs(skew) > abs(state.worst):
            state.worst = skew
        self.mark(event.source)

    def check_key(self, key: str, ctx: AuditContext) -> Iterable[Finding]:
        state = self._sources[key]
        way = "ahead of" if state.worst > 0 else "behind"
        return (self.finding(
            ctx, key=key,
            message=(f"{key}'s clock is wrong on {plural(state.calls.count, 'call')}: sentAt "
                     f"is up to {duration(state.worst)} {way} the time they arrived. Segment "
                     "corrects the event timestamp, but dates the sender writes into "
                     "properties and traits reach Customer.io off by as much."),
            events=state.calls.events, source=key, calls=state.calls.count,
            skew_seconds=round(state.worst, 3),
        ),)


@dataclass(slots=True)
class _Reordered:
    calls: _NamedExamples = field(default_factory=_NamedExamples)
    #: The first reordering: (name, timestamp) of the call and of the later one it followed.
    first: tuple[str, float, str, float] = ("", 0.0, "", 0.0)


class OutOfOrder(SessionCheck):
    """A person's calls whose timestamps run backwards against their arrival."""

    id = "latency.out_of_order"
    area = "timing"
    severity = FindingSeverity.INFO
    title = "Calls arrive out of order"

    def __init__(self) -> None:
        super().__init__()
        #: Per userId (else anonymousId): the latest timestamp so far and that call's name.
        self._latest: dict[str, tuple[float, str]] = {}
        self._found: dict[str, _Reordered] = {}

    def observe(self, event: ObservedEvent, person: Person | None, ctx: AuditContext) -> None:
        timestamp = event.timestamp
        if timestamp is None:
            return
        # A plain concatenation per call; check_key spells the key out.
        if event.user_id:
            who = "userId|" + event.user_id
        elif event.anonymous_id:
            who = "anonymousId|" + event.anonymous_id
        else:
            return
        name = event.name or event.type or "call"
        latest = self._latest.get(who)
        if latest is None or timestamp >= latest[0]:
            self._latest[who] = (timestamp, name)
            return
        if timestamp >= latest[0] - _ORDER_TOLERANCE_SECONDS:
            return
        found = self._found.get(who)
        if found is None:
            found = self._found[who] = _Reordered(
                first=(name, timestamp, latest[1], latest[0]))
        found.calls.add(event)
        self.mark(who)

    def check_key(self, key: str, ctx: AuditContext) -> Iterable[Finding]:
        found = self._found[key]
        name, at, after, after_at = found.first
        kind, _, value = key.partition("|")
        return (self.finding(
            ctx, key=key,
            message=(f"{kind} {quoted(value)}: {plural(found.calls.count, 'call')} arrived "
                     f"after calls that happened later ({name} of {clock(at)} arrived after "
                     f"{after} of {clock(after_at)}): Customer.io reads events in arrival "
                     "order, so campaign steps and event filters can see them in the wrong "
                     "order."),
            events=found.calls.events, calls=found.calls.count,
        ),)
