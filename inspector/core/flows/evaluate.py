"""Evaluate flows over calls: fed incrementally (live) or over a stored session, same code.

Feeding does what depends on the call alone, once: which steps' WHEN it matches (a lookup by
call type and name) and what its own fields break. Everything that depends on other calls
(the person as the identity graph links them *now*, the same value as an earlier step, order,
time limits) is decided when the results are read, so a later identify or alias that merges
two anonymousIds changes the answer the way it changes Customer.io's people. The rules are
written out in ``docs/flows.md`` ("How a run is evaluated").
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import chain
from typing import Any

from inspector.core.audit.config import AuditConfig
from inspector.core.audit.text import quoted
from inspector.core.conditions import (
    MISSING,
    CompiledExpectation,
    CompiledMatch,
    FieldPath,
    compile_expectation,
    compile_match,
)
from inspector.core.flows.model import Flow, Step, library_names, split_reference
from inspector.core.model import Severity, Source, Violation, ViolationKind
from inspector.core.observed import ObservedEvent
from inspector.core.people import IdentityGraph, Person
from inspector.core.people.graph import Node
from inspector.core.store.reader import CallFilter, EventReader

__all__ = ["FlowEvaluator", "FlowResult", "RunEvaluator", "RunStatus", "StepResult",
           "StepStatus"]

#: Distinct (type, name) pairs whose steps :meth:`FlowEvaluator.observe` remembers.
_DISPATCH_LIMIT = 10_000
#: A failed step's closest candidate is chosen among its latest this many candidate calls.
CLOSEST_AMONG = 200


class StepStatus(StrEnum):
    """Where one step stands."""

    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


class RunStatus(StrEnum):
    """Where a flow stands."""

    PASSED = "passed"
    FAILED = "failed"
    INCOMPLETE = "incomplete"


@dataclass(frozen=True, slots=True)
class StepResult:
    """One step's status, the calls that satisfied it, and for a failed step why."""

    name: str
    status: StepStatus
    #: The satisfying call(s) (a repeatable step: every repetition), or the failed step's
    #: closest candidate: (event id, messageId).
    events: tuple[tuple[int, str | None], ...] = ()
    reason: str | None = None
    violations: tuple[Violation, ...] = ()
    optional: bool = False

    @property
    def message_ids(self) -> list[str | None]:
        """The messageIds of :attr:`events`."""
        return [message_id for _, message_id in self.events]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``inspector check --format json``, the REST API)."""
        return {"name": self.name, "status": str(self.status), "message_ids": self.message_ids,
                "event_ids": [event_id for event_id, _ in self.events], "reason": self.reason,
                "optional": self.optional,
                "violations": [violation.to_dict() for violation in self.violations]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepResult:
        """Rebuild a step from :meth:`to_dict` output (a run kept with its session)."""
        return cls(data["name"], StepStatus(data["status"]),
                   tuple(zip(data.get("event_ids", []), data.get("message_ids", []),
                             strict=False)),
                   data.get("reason"),
                   tuple(Violation.from_dict(item) for item in data.get("violations", [])),
                   bool(data.get("optional", False)))


@dataclass(frozen=True, slots=True)
class FlowResult:
    """One flow's verdict and its steps."""

    flow: str
    status: RunStatus
    steps: tuple[StepResult, ...]
    description: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"flow", "status", "steps": [...], "description"}``."""
        return {"flow": self.flow, "status": str(self.status),
                "steps": [step.to_dict() for step in self.steps],
                "description": self.description}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FlowResult:
        """Rebuild a result from :meth:`to_dict` output."""
        return cls(data["flow"], RunStatus(data["status"]),
                   tuple(StepResult.from_dict(step) for step in data.get("steps", [])),
                   data.get("description"))


def _violation(kind: str, field_: str, message: str) -> Violation:
    return Violation(kind=kind, field=field_, message=message, severity=Severity.ERROR,
                     source=Source.RULE)


#: What a candidate whose call cannot be read again breaks (its session was deleted while the
#: run was read): it failed its own checks when fed, so it must not pass now.
_GONE = _violation("Not Stored", "", "the call is no longer stored, so what it breaks cannot be "
                   "shown")


def _unstored(event_id: int) -> ObservedEvent | None:
    """No store to read a candidate's call from (every candidate fed from memory keeps its
    call)."""
    return None


#: A stored call as :meth:`ObservedEvent.from_row` reads it (the store's lean row).
StoredCall = tuple[int, float, str | None, str | None, str | None, str | None, str | None,
                   str | None, str | None]


@dataclass(slots=True)
class _Candidate:
    """A call that matched a step's WHEN (call level), and whether its own fields and origin
    meet the step's EXPECT.

    A candidate keeps only what the walk reads of its call: its ids, when it arrived, the
    fields the steps' ``same_as`` / ``differs_from`` compare, and the call itself when fed
    from memory (a file), or only its id when fed from a stored session. The parsed payload
    is then freed as soon as the call is judged: a busy session's candidates hold no
    dictionaries for the collector to walk or for freeing to take apart, nor their JSON text
    (a run left going all day stays small; bench/flows.py), and the call is read again from
    the store only when a reason is worded about it, which most candidates never are.
    """

    id: int
    message_id: str | None
    received_at: float
    user_id: str | None
    anonymous_id: str | None
    ok: bool
    #: The values of :attr:`_CompiledStep.compared` (``MISSING``: absent), in that order.
    values: tuple[Any, ...]
    #: The call, or its id in the store (see :attr:`FlowEvaluator.load_call`).
    origin: ObservedEvent | int
    #: What the call's own fields and origin break, once worded.
    worded: tuple[Violation, ...] | None = None


@dataclass(frozen=True, slots=True)
class _Reference:
    """``same_as`` / ``differs_from``: a path of this call against one of an earlier step."""

    path: FieldPath
    step: int
    target: FieldPath
    same: bool


@dataclass(slots=True)
class _CompiledStep:
    step: Step
    index: int
    match: CompiledMatch
    expect: CompiledExpectation
    libraries: frozenset[str] | None
    library_words: str
    sources: frozenset[str] | None
    write_keys: frozenset[str] | None
    references: list[_Reference]
    same_person: bool
    #: Steps that must be placed before this one (after, and the reverse of before).
    after: set[int] = field(default_factory=set)
    candidates: list[_Candidate] = field(default_factory=list)
    #: The fields of this step's calls that relations compare: its own ``same_as`` /
    #: ``differs_from`` paths and the paths later steps compare with it (kept per candidate).
    compared: list[FieldPath] = field(default_factory=list)
    #: Path text -> its position in :attr:`compared`.
    compared_at: dict[str, int] = field(default_factory=dict)
    #: The positions in :attr:`candidates` of the calls of each identifier that decides
    #: their person: ``("user", userId)``, or ``("anon", anonymousId)`` for calls with no
    #: userId (see :meth:`_Walk.positions`).
    by_identifier: dict[tuple[str, str], list[int]] = field(default_factory=dict)


def _compare(compiled: _CompiledStep, path: FieldPath) -> None:
    """Keep ``path``'s value with each of ``compiled``'s candidates."""
    if path.text not in compiled.compared_at:
        compiled.compared_at[path.text] = len(compiled.compared)
        compiled.compared.append(path)


def _many(value: str | Sequence[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    return frozenset([value] if isinstance(value, str) else value)


def _library_words(value: str | Sequence[str] | None) -> str:
    items = [value] if isinstance(value, str) else list(value or [])
    return " or ".join(f"a {item} library" if item in ("server", "browser", "mobile")
                       else quoted(item) for item in items)


@dataclass(slots=True)
class _Placed:
    """What the walk has decided for one step."""

    status: StepStatus
    event: _Candidate | None = None
    #: Whether :attr:`event` satisfied the step (else it is a failed step's closest call).
    satisfied: bool = False
    violations: list[Violation] = field(default_factory=list)
    reason: str | None = None
    repeats: list[_Candidate] = field(default_factory=list)

    @property
    def satisfied_by(self) -> _Candidate | None:
        """The call that satisfied the step (``None``: none did)."""
        return self.event if self.satisfied else None


class FlowEvaluator:
    """One flow's steps with the candidate calls fed so far."""

    def __init__(self, flow: Flow, config: AuditConfig | None = None) -> None:
        config = config or AuditConfig()
        self.flow = flow
        #: Reads a stored candidate's call again by id, to word what it breaks (``None``:
        #: it is no longer stored); set by :meth:`RunEvaluator.read_calls_from`.
        self.load_call: Callable[[int], ObservedEvent | None] = _unstored
        names = [step.name for step in flow.steps]
        self._steps: list[_CompiledStep] = []
        for index, step in enumerate(flow.steps):
            expect = step.expect
            references = []
            for relation, same in (("same_as", True), ("differs_from", False)):
                for path, reference in getattr(step, relation).items():
                    target, target_path = split_reference(reference, names[:index])
                    assert target is not None  # the model checked it
                    references.append(_Reference(
                        FieldPath.parse(path), names.index(target),
                        FieldPath.parse(target_path or path), same))
            self._steps.append(_CompiledStep(
                step, index, compile_match(step.match, consent_trait=config.consent_trait),
                compile_expectation(expect, consent_trait=config.consent_trait),
                library_names(expect.library) if expect else None,
                _library_words(expect.library) if expect else "",
                _many(expect.source) if expect else None,
                _many(expect.write_key) if expect else None,
                references,
                flow.same_person if step.same_person is None else step.same_person,
            ))
        for compiled in self._steps:
            for reference in compiled.references:
                _compare(compiled, reference.path)
                _compare(self._steps[reference.step], reference.target)
        for compiled in self._steps:
            compiled.after |= {names.index(name) for name in compiled.step.after}
            for name in compiled.step.before:
                self._steps[names.index(name)].after.add(compiled.index)
        # Dispatch: steps by (type, name), by type alone, and the ones matching anything.
        self._by_name: dict[tuple[str | None, str], list[_CompiledStep]] = {}
        self._by_type: dict[str | None, list[_CompiledStep]] = {}
        self._any: list[_CompiledStep] = []
        for compiled in self._steps:
            types, event_names = compiled.match.types, compiled.match.names
            if event_names is not None:
                for type_ in types if types is not None else (None,):
                    for name in event_names:
                        self._by_name.setdefault((type_, name), []).append(compiled)
            elif types is not None:
                for type_ in types:
                    self._by_type.setdefault(type_, []).append(compiled)
            else:
                self._any.append(compiled)
        #: (type, name) -> the steps to try, as :meth:`_steps_for` says.
        self._dispatch: dict[tuple[str | None, str | None], list[_CompiledStep]] = {}
        self._units = _units(self._steps)
        self._unit_of = {compiled.index: number for number, unit in enumerate(self._units)
                         for compiled in unit}

    # ---- feeding

    def call_filters(self) -> list[CallFilter] | None:
        """The calls any step's WHEN can pick, by the store's indexed columns (type, name,
        write key): a superset, which :meth:`observe` narrows; ``None``: any call."""
        filters = []
        for compiled in self._steps:
            match = compiled.match
            if match.types is None and match.names is None and match.write_keys is None:
                return None
            filters.append(CallFilter(match.types, match.names, match.write_keys))
        return filters

    def observe(self, event: ObservedEvent, stored: bool = False) -> None:
        """Record ``event`` under each step whose WHEN (call level) it matches (``stored``:
        it was read from the store, so its candidates keep only its id)."""
        key = (event.type, event.name)
        steps = self._dispatch.get(key)
        if steps is None:
            steps = self._steps_for(*key)
            if len(self._dispatch) < _DISPATCH_LIMIT:
                self._dispatch[key] = steps
        for compiled in steps:
            if compiled.match.picks_call(event):
                ok = _from_expected_place(compiled, event) and (
                    not compiled.expect.fields or compiled.expect.fields.holds(event.payload))
                payload = event.payload
                identifier = (("user", event.user_id) if event.user_id else
                              ("anon", event.anonymous_id) if event.anonymous_id else None)
                if identifier is not None:
                    compiled.by_identifier.setdefault(identifier, []).append(
                        len(compiled.candidates))
                compiled.candidates.append(_Candidate(
                    event.id, event.message_id, event.received_at, event.user_id,
                    event.anonymous_id, ok,
                    tuple(path.first(payload) for path in compiled.compared) if
                    compiled.compared else (), event.id if stored else event,
                    () if ok else None))

    def _steps_for(self, call_type: str | None, name: str | None) -> list[_CompiledStep]:
        """The steps whose WHEN may pick a call of this type and name (by the dispatch
        tables; :meth:`observe` keeps the answer per type and name)."""
        steps = list(self._any)
        if name is not None:
            steps += self._by_name.get((call_type, name), ())
            steps += self._by_name.get((None, name), ())
        steps += self._by_type.get(call_type, ())
        return steps

    def own_violations(self, compiled: _CompiledStep,
                       candidate: _Candidate) -> tuple[Violation, ...]:
        """What the candidate's own fields and origin break (worded once, then kept)."""
        if candidate.worded is None:
            origin = candidate.origin
            event = origin if isinstance(origin, ObservedEvent) else self.load_call(origin)
            candidate.worded = (_GONE,) if event is None else tuple(
                _distinct(FlowEvaluator._own_violations(compiled, event)))
        return candidate.worded

    @staticmethod
    def _own_violations(compiled: _CompiledStep, event: ObservedEvent) -> list[Violation]:
        """What the call itself breaks: the expected fields, then where it came from."""
        broken = compiled.expect.field_violations(event) if compiled.expect else []
        libraries = compiled.libraries
        if libraries is not None and event.library_name not in libraries:
            given = quoted(event.library_name) if event.library_name else "not given"
            broken.append(_violation(
                ViolationKind.NOT_IN_ENUM, "context.library.name",
                f"context.library.name is {given}: this step must come from "
                f"{compiled.library_words}"))
        if compiled.sources is not None and event.source not in compiled.sources:
            broken.append(_violation(
                ViolationKind.NOT_IN_ENUM, "source",
                f"the call came from {event.source}, expected: "
                f"{' or '.join(sorted(compiled.sources))}"))
        if compiled.write_keys is not None and event.write_key not in compiled.write_keys:
            broken.append(_violation(
                ViolationKind.NOT_IN_ENUM, "writeKey",
                f"writeKey is {quoted(event.write_key)}, expected: "
                f"{' or '.join(sorted(compiled.write_keys))}"))
        return broken

    # ---- reading

    def result(self, graph: IdentityGraph, *, ended: bool = False) -> FlowResult:
        """The flow's status as the calls fed so far and ``graph`` (as it is now) say;
        ``ended``: the run is over (an optional step not seen is then skipped)."""
        return _Walk(self, graph).run(ended)


class _Walk:
    """One reading of a flow: places each step's call in order (see docs/flows.md)."""

    def __init__(self, evaluator: FlowEvaluator, graph: IdentityGraph) -> None:
        self.evaluator = evaluator
        self.graph = graph
        self.placed: dict[int, _Placed] = {}
        self.anchor: Node | None = None
        self.anchor_label = ""
        self._roots: dict[int, Node | None] = {}

    # -- people

    def root(self, call: _Candidate) -> Node | None:
        try:
            return self._roots[call.id]
        except KeyError:
            pass
        root: Node | None = None
        for kind, value in (("user", call.user_id), ("anon", call.anonymous_id)):
            if value:
                root = self.graph.root_of(kind, value)
                if root is not None:
                    break
        self._roots[call.id] = root
        return root

    def person(self, call: _Candidate) -> Person | None:
        root = self.root(call)
        return self.graph.person_at(root) if root is not None else None

    # -- the walk

    def run(self, ended: bool) -> FlowResult:
        steps = self.evaluator._steps
        lower: _Candidate | None = None
        lower_step: _CompiledStep | None = None
        for unit in self.evaluator._units:
            unit_lower, unit_lower_step = lower, lower_step
            for compiled in unit:
                bound, bound_step = unit_lower, unit_lower_step
                for other in compiled.after:
                    event = self.placed[other].satisfied_by if other in self.placed else None
                    if event is not None and (bound is None or event.id > bound.id):
                        bound, bound_step = event, steps[other]
                placed = self.place(compiled, bound, bound_step)
                self.placed[compiled.index] = placed
                # Only a satisfying call moves the walk on: a failed step's closest call
                # is shown, but the steps after it are not judged against its position.
                event = placed.satisfied_by
                if event is not None and (lower is None or event.id > lower.id):
                    lower, lower_step = event, compiled
        self.repetitions()
        return self.finish(ended)

    def place(self, compiled: _CompiledStep, bound: _Candidate | None,
              bound_step: _CompiledStep | None) -> _Placed:
        """The step's first call after ``bound`` that satisfies everything; else its closest
        candidate with what that call breaks."""
        candidates = compiled.candidates
        bound_id = bound.id if bound is not None else 0
        start = _first_after(candidates, bound_id)
        tried: list[tuple[int, int, _Candidate, list[Violation]]] = []
        closest_from = max(start, len(candidates) - CLOSEST_AMONG)
        for position in chain(self.positions(compiled, start, closest_from),
                              range(closest_from, len(candidates))):
            candidate = candidates[position]
            if position < closest_from and (not candidate.ok or (
                    compiled.same_person and self.anchor is not None
                    and self.root(candidate) != self.anchor)):
                # Cannot satisfy the step (its own fields, or someone else's call), and too
                # early to be the closest: a busy session's other shoppers cost one lookup.
                continue
            broken = self.relations(compiled, candidate, bound, bound_step)
            if not broken:
                self.adopt(compiled, candidate)
                return _Placed(StepStatus.PASSED, candidate, satisfied=True)
            if position >= closest_from:
                tried.append((len(broken), candidate.id, candidate, broken))
        if not candidates:
            return _Placed(StepStatus.PENDING)
        # Calls that came too early are candidates too (the step was done out of order).
        for position in range(max(0, start - CLOSEST_AMONG + len(tried)), start):
            candidate = candidates[position]
            broken = self.relations(compiled, candidate, None, None)
            assert bound_step is not None
            broken.append(_violation(
                "Out Of Order", "",
                f"this call arrived before the {bound_step.step.name} call; the flow needs it "
                f"after"))
            tried.append((len(broken), candidate.id, candidate, broken))
        # Fewest violations; on a tie the latest call (the tester's latest attempt).
        _, _, closest, broken = min(tried, key=lambda item: (item[0], -item[1]))
        self.adopt(compiled, closest)
        return _Placed(StepStatus.FAILED, closest, violations=broken,
                       reason=_reason(broken))

    def positions(self, compiled: _CompiledStep, low: int, high: int) -> Iterable[int]:
        """The positions in ``[low, high)`` of the step's candidates that may be the followed
        person's: all of them, or once a same-person step has fixed the person, only the calls
        of that person's identifiers (a reading of a busy session would otherwise look up the
        person of every other shopper's call, each a cache miss over a large graph)."""
        if not compiled.same_person or self.anchor is None or low >= high:
            return range(low, high)
        person = self.graph.person_at(self.anchor)
        if person is None:
            return range(low, high)
        index = compiled.by_identifier
        picked: list[int] = []
        for kind, values in (("user", person.user_ids), ("anon", person.anonymous_ids)):
            for value in values:
                found = index.get((kind, value))
                if found:
                    picked += found[bisect_left(found, low):bisect_left(found, high)]
        picked.sort()
        return picked

    def adopt(self, compiled: _CompiledStep, call: _Candidate) -> None:
        """The first placed call of a same-person step fixes the person the flow follows."""
        if compiled.same_person and self.anchor is None:
            self.anchor = self.root(call)
            person = self.person(call)
            self.anchor_label = person.label if person is not None else "(no id)"

    def relations(self, compiled: _CompiledStep, candidate: _Candidate,
                  bound: _Candidate | None, bound_step: _CompiledStep | None, *,
                  check_person: bool = True) -> list[Violation]:
        """Everything ``candidate`` breaks for this step, its own fields first."""
        event = candidate
        broken = list(self.evaluator.own_violations(compiled, candidate))
        person = self.person(event)
        match_person = compiled.match.person
        if match_person is not None:
            broken += match_person.violations(person, as_of=event.id, label="the sender")
        if compiled.expect:
            broken += compiled.expect.person_violations(person, as_of=event.id,
                                                        label="the sender")
        for reference in compiled.references:
            broken += self.reference(compiled, reference, event)
        within = compiled.step.within
        if within is not None and bound is not None and bound_step is not None and \
                event.received_at - bound.received_at > within:
            broken.append(_violation(
                "Too Late", "",
                f"this call arrived {_span(event.received_at - bound.received_at)} after the "
                f"{bound_step.step.name} call, more than the {_span(within)} allowed"))
        if check_person and compiled.same_person and self.anchor is not None and \
                self.root(event) != self.anchor:
            label = person.label if person is not None else "a call with no userId or " \
                "anonymousId"
            broken.append(_violation(
                "Another Person", "",
                f"this call came from {label}, not from {self.anchor_label} (the person this "
                f"flow follows): no identify or alias links them"))
        return broken

    def reference(self, compiled: _CompiledStep, reference: _Reference,
                  call: _Candidate) -> list[Violation]:
        placed = self.placed.get(reference.step)
        if placed is None or not placed.satisfied or placed.event is None:
            return []  # that step has no call to compare with (its own reason says why)
        target_step = self.evaluator._steps[reference.step]
        name = target_step.step.name
        wanted = placed.event.values[target_step.compared_at[reference.target.text]]
        if wanted is MISSING:
            return []
        value = call.values[compiled.compared_at[reference.path.text]]
        path = reference.path.text
        theirs = "" if reference.target.text == path else f" {reference.target.text}"
        if reference.same:
            if value is MISSING or value is None:
                return [_violation(ViolationKind.REQUIRED, path,
                                   f"{path} is required (the same as the {name} "
                                   f"call's{theirs}: {quoted(wanted)})")]
            if value != wanted or type(value) is not type(wanted):
                return [_violation(ViolationKind.NOT_IN_ENUM, path,
                                   f"{path} is {quoted(value)}, not {quoted(wanted)} as in "
                                   f"the {name} call{theirs and ' (' + theirs.strip() + ')'}")]
            return []
        if value == wanted and type(value) is type(wanted):
            return [_violation(ViolationKind.NOT_IN_ENUM, path,
                               f"{path} is {quoted(value)}, the same as in the {name} call: "
                               f"it must differ")]
        return []

    def repetitions(self) -> None:
        """A repeatable step's later calls, up to the next step's call, must be right too."""
        steps = self.evaluator._steps
        for compiled in steps:
            placed = self.placed[compiled.index]
            if not compiled.step.repeatable or not placed.satisfied or placed.event is None:
                continue
            first = placed.event.id
            later = [other.event.id for index, other in self.placed.items()
                     if index != compiled.index and other.satisfied and other.event is not None
                     and other.event.id > first]
            until = min(later, default=None)
            candidates = compiled.candidates
            for position in self.positions(
                    compiled, _first_after(candidates, first),
                    len(candidates) if until is None else _first_after(candidates, until - 1)):
                candidate = candidates[position]
                if compiled.same_person and self.anchor is not None and \
                        self.root(candidate) != self.anchor:
                    continue  # someone else's call, not a repetition
                broken = self.relations(compiled, candidate, None, None, check_person=False)
                if broken:
                    self.placed[compiled.index] = _Placed(
                        StepStatus.FAILED, candidate, violations=broken,
                        reason=_reason(broken),
                        repeats=[placed.event, *placed.repeats])
                    break
                placed.repeats.append(candidate)

    def finish(self, ended: bool) -> FlowResult:
        steps = self.evaluator._steps
        unit_of = self.evaluator._unit_of
        results: list[StepResult] = []
        for compiled in steps:
            placed = self.placed[compiled.index]
            step = compiled.step
            status, reason = placed.status, placed.reason
            if status is StepStatus.PENDING:
                # Missed: a step of a later unit already passed.
                later = [(other.event.id, steps[index].step.name)
                         for index, other in self.placed.items()
                         if other.satisfied and other.event is not None
                         and unit_of[index] > unit_of[compiled.index]]
                if later:
                    if step.optional:
                        status = StepStatus.SKIPPED
                    else:
                        status = StepStatus.FAILED
                        reason = f"no call matched this step before the {min(later)[1]} call"
                elif ended and step.optional:
                    status = StepStatus.SKIPPED
            if placed.event is None:
                events: list[_Candidate] = []
            elif placed.status is StepStatus.PASSED:
                events = [placed.event, *placed.repeats]
            else:
                events = [*placed.repeats, placed.event]
            results.append(StepResult(
                step.name, status, tuple((event.id, event.message_id) for event in events),
                reason, tuple(placed.violations), step.optional))
        return FlowResult(self.evaluator.flow.name, _run_status(results), tuple(results),
                          self.evaluator.flow.description)


def _from_expected_place(compiled: _CompiledStep, event: ObservedEvent) -> bool:
    """Whether the call came from the library, source and write key the step expects."""
    return (compiled.libraries is None or event.library_name in compiled.libraries) and (
        compiled.sources is None or event.source in compiled.sources) and (
        compiled.write_keys is None or event.write_key in compiled.write_keys)


def _reason(violations: Sequence[Violation]) -> str:
    """A failed step's reason: each violation's message, led by its field when the message
    does not name it (Segment's "Invalid type. Expected: number, given: string")."""
    return "; ".join(violation.message if not violation.field or violation.field in
                     violation.message else f"{violation.field}: {violation.message}"
                     for violation in violations)


def _distinct(violations: list[Violation]) -> list[Violation]:
    """Without repeats (``type`` and ``min`` both find a string total not a number)."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for violation in violations:
        key = (violation.field, violation.message)
        if key not in seen:
            seen.add(key)
            kept.append(violation)
    return kept


def _run_status(results: Sequence[StepResult]) -> RunStatus:
    if any(result.status is StepStatus.FAILED for result in results):
        return RunStatus.FAILED
    if all(result.status in (StepStatus.PASSED, StepStatus.SKIPPED) or result.optional
           for result in results):
        return RunStatus.PASSED
    return RunStatus.INCOMPLETE


def _first_after(candidates: Sequence[_Candidate], event_id: int) -> int:
    """The position of the first candidate with an id above ``event_id`` (ids ascend)."""
    low, high = 0, len(candidates)
    while low < high:
        middle = (low + high) // 2
        if candidates[middle].id <= event_id:
            low = middle + 1
        else:
            high = middle
    return low


def _units(steps: Sequence[_CompiledStep]) -> list[list[_CompiledStep]]:
    """Steps in walking order: a group's steps together, ordered by after/before inside it
    (stable: the file's order where nothing says otherwise)."""
    units: list[list[_CompiledStep]] = []
    for compiled in steps:
        group = compiled.step.group
        if group is not None and units and units[-1][0].step.group == group:
            units[-1].append(compiled)
        else:
            units.append([compiled])
    ordered = []
    for unit in units:
        members = {compiled.index for compiled in unit}
        done: list[_CompiledStep] = []
        remaining = list(unit)
        while remaining:
            for compiled in remaining:
                if not (compiled.after & members) - {placed.index for placed in done}:
                    done.append(compiled)
                    remaining.remove(compiled)
                    break
        ordered.append(done)
    return ordered


def _span(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 90:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 90:
        return f"{minutes}m{seconds:02d}s" if seconds else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"


class RunEvaluator:
    """Several flows followed over one session, with the identity graph they share.

    Every call of the session goes into the graph (links made before the run started still
    link its people); only calls with ids in ``(after_id, until_id]`` (and received at or
    after ``since``) are candidates. ``graph``: read people from a graph kept elsewhere (the
    session's audit, :meth:`SessionAudit.held`) that has seen every call fed here; then
    only candidates need feeding.
    """

    def __init__(self, flows: Sequence[Flow], config: AuditConfig | None = None, *,
                 after_id: int = 0, until_id: int | None = None,
                 since: float | None = None, graph: IdentityGraph | None = None) -> None:
        config = config or AuditConfig()
        #: Calls received before this (epoch s) are not candidates (``inspector check
        #: --since``).
        self.since = since
        self.config = config
        self.flows = [FlowEvaluator(flow, config) for flow in flows]
        #: Whether :attr:`graph` is kept elsewhere (nothing is linked here).
        self.shares_graph = graph is not None
        self.graph = graph if graph is not None else IdentityGraph(
            is_placeholder=config.is_placeholder)
        self.after_id = after_id
        self.until_id = until_id
        self.last_id = 0
        #: The identifiers (userId, anonymousId, context.traits.email) of every call linked
        #: so far, but identify and alias calls (see :meth:`link`).
        self._linked: set[tuple[str | None, str | None, str | None]] = set()
        self._store: EventReader | None = None

    def feed(self, events: Iterable[ObservedEvent]) -> None:
        """Feed calls in arrival (id) order; ones seen before are ignored."""
        feed_one = self.feed_one
        for event in events:
            feed_one(event)

    def feed_one(self, event: ObservedEvent, stored: bool = False) -> None:
        """Feed one call (:meth:`feed` without a sequence; ``stored``: it was read from the
        store given to :meth:`read_calls_from`, see :meth:`feed_row`)."""
        event_id = event.id
        if event_id <= self.last_id:
            return
        self.last_id = event_id
        self.link(event)
        until_id = self.until_id
        if event_id > self.after_id and (until_id is None or event_id <= until_id) and \
                (self.since is None or event.received_at >= self.since):
            for flow in self.flows:
                flow.observe(event, stored)

    def feed_row(self, row: StoredCall, write_key_names: Mapping[str, str]) -> None:
        """Feed one stored call (a lean row, :meth:`ObservedEvent.from_row`'s input): its
        candidates keep its id, not the parsed call, which is freed once judged (call
        :meth:`read_calls_from` first)."""
        self.feed_one(ObservedEvent.from_row(row, write_key_names), True)

    def read_calls_from(self, store: EventReader) -> None:
        """Where :meth:`feed_row`'s calls are read again, by id, when a reason is worded."""
        if self._store is store:
            return
        self._store = store

        def load(event_id: int) -> ObservedEvent | None:
            row = store.call_row(event_id)
            return None if row is None else ObservedEvent.from_row(row,
                                                                   store.write_key_names())

        for flow in self.flows:
            flow.load_call = load

    def feed_link(self, event: ObservedEvent | None, event_id: int) -> None:
        """Feed call ``event_id``, which no step can pick (the store's pre-filter said so):
        only its identifiers count, for the identity graph (``event``: ``None`` when
        :meth:`knows_link` said they add nothing)."""
        if event_id > self.last_id:
            self.last_id = event_id
            if event is not None:
                self.link(event)

    def link(self, event: ObservedEvent) -> None:
        """Give the identity graph what it needs of ``event`` for the flows.

        A flow reads of a person only their identifiers (with the call that first carried
        each), their trait writes and how the calls link them. A call that repeats
        identifiers some earlier call carried (a shopper's hundredth page view) changes
        none of that, so it is not fed: the graph of a session of 100,000 calls by 5,000
        shoppers gets fewer than half of them (bench/flows.py). Identify calls (traits) and
        alias calls (previousId) always go in.
        """
        if self.shares_graph:
            return
        call_type = event.type
        if call_type != "identify" and call_type != "alias":
            email = event.context_traits.get("email")
            key = (event.user_id, event.anonymous_id, email if isinstance(email, str) else None)
            if key in self._linked:
                return
            self._linked.add(key)
        self.graph.observe(event)

    def call_filters(self) -> list[CallFilter] | None:
        """The calls some flow's step can pick (see :meth:`FlowEvaluator.call_filters`)."""
        filters: list[CallFilter] = []
        for flow in self.flows:
            mine = flow.call_filters()
            if mine is None:
                return None
            filters += mine
        return filters

    def knows_link(self, user_id: str | None, anonymous_id: str | None,
                   email: str | None) -> bool:
        """Whether a call carrying these identifiers (and not an identify or alias) would
        add nothing for the flows (see :meth:`link`)."""
        return (user_id, anonymous_id, email) in self._linked

    def results(self, *, ended: bool = False) -> list[FlowResult]:
        """Each flow's result, as the graph is now."""
        return [flow.result(self.graph, ended=ended) for flow in self.flows]
