"""Two profiles -> differences, each with its kind, severity and one-sentence message.

The severity table (docs/compare.md says the same):

=====================  ==========================================================  ========
kind                   when                                                        severity
=====================  ==========================================================  ========
missing_event          a call type / event name of the baseline is not sent        error
unexpected_event       the candidate sends a call type / event name the baseline   warning
                       never did
missing_property       a path the baseline carries is never sent                   error
                       ...or was always sent (``always_share``) and now is not     error
                       ...or its share fell by ``share_drop`` or more              warning
unexpected_property    a path the baseline never carried (a new optional field)    info
type_changed           a JSON type the baseline never had at the path              error
                       ...only ``null`` is new                                     warning
                       ...a baseline type is gone, none new                        info
values_changed         an enum-like string has a value the baseline never had,     warning
                       or is no longer enum-like
                       ...only some baseline values are gone                       info
source_changed         the library classes sending an event (10%+ of its calls)    error
                       changed and the backend (``server``) is no longer one
                       ...any other change of class                                warning
                       ...same classes, other named sources                        info
identity_changed       userId shape changed (``numeric`` -> ``email``...)          error
                       identify stopped sending a trait it always sent             error
                       the share of people whose email is known fell               error/
                                                                                   warning
                       the email now arrives on another call or later              warning
                       identify sends a new trait                                  info
sequence_changed       two calls' usual order per person flipped                   warning
=====================  ==========================================================  ========
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from inspector.core.compare.model import (
    SEVERITY_ORDER,
    Difference,
    Example,
    Kind,
    Severity,
)
from inspector.core.compare.options import CompareOptions
from inspector.core.compare.people import PeopleProfile
from inspector.core.compare.profile import EventKey, EventProfile, PathProfile, SessionProfile

if TYPE_CHECKING:
    from inspector.core.compare.flow_side import FlowSteps

__all__ = ["diff_profiles", "percent", "sort_differences", "step_order"]

#: A source class or name counts for an event when it sends this share of its calls or more.
_SOURCE_SHARE = 0.1


def percent(share: float) -> str:
    """``100%``, ``40%``, ``0.5%``: whole percents unless that would round a share to 0 or
    100."""
    value = share * 100
    if 0 < value < 1 or 99 < value < 100:
        return f"{value:.1f}%"
    return f"{value:.0f}%"


def _call(key: EventKey) -> str:
    call_type, name = key
    if call_type == "track" and name:
        return name
    return f"{call_type} {name}" if name else call_type


def _examples(*examples: Example | None) -> tuple[Example, ...]:
    return tuple(example for example in examples if example is not None)


def _shares(counts: Mapping[str, int], total: int) -> dict[str, float]:
    return {key: round(count / total, 4) for key, count in
            sorted(counts.items(), key=lambda item: (-item[1], item[0]))} if total else {}


def _describe(shares: Mapping[str, float]) -> str:
    return ", ".join(f"{name} {percent(share)}" for name, share in shares.items()) or "none"


def diff_profiles(baseline: SessionProfile, candidate: SessionProfile,
                  baseline_people: PeopleProfile, candidate_people: PeopleProfile,
                  options: CompareOptions, *, sequences: bool = True) -> list[Difference]:
    """Every difference, errors first, then by call, kind and path. ``sequences=False``
    leaves out the per-person order (a flow's step order replaces it, see
    :func:`step_order`)."""
    found: list[Difference] = []
    for key in sorted(set(baseline.events) | set(candidate.events),
                      key=lambda item: (item[0], item[1] or "")):
        old, new = baseline.events.get(key), candidate.events.get(key)
        if new is None and old is not None:
            found.append(Difference(
                Kind.MISSING_EVENT, Severity.ERROR, key[1], key[0], None,
                {"count": old.count}, {"count": 0},
                f"{_call(key)} was sent {old.count:,} times in the baseline and never in the "
                "candidate.", _examples(*old.examples[:1])))
        elif old is None and new is not None:
            found.append(Difference(
                Kind.UNEXPECTED_EVENT, Severity.WARNING, key[1], key[0], None,
                {"count": 0}, {"count": new.count},
                f"{_call(key)} is new: sent {new.count:,} times in the candidate and never in "
                "the baseline.", (), _examples(*new.examples[:1])))
        elif old is not None and new is not None:
            found.extend(_paths(old, new, options))
            found.extend(_sources(old, new))
    found.extend(_user_ids(baseline, candidate))
    found.extend(_emails(baseline_people, candidate_people, options))
    if sequences:
        found.extend(_sequences(baseline_people, candidate_people, options))
    return sort_differences(found)


def sort_differences(found: list[Difference]) -> list[Difference]:
    """Errors first, then by call, kind and path."""
    return sorted(found, key=lambda d: (SEVERITY_ORDER[d.severity], d.type or "",
                                        d.event or "", str(d.kind), d.path or ""))


def step_order(old: FlowSteps, new: FlowSteps) -> Iterator[Difference]:
    """A ``sequence_changed`` per pair of steps whose first calls came in the other order
    (steps with a call on both sides only). ``event`` is the step that moved earlier."""
    after = {name: position for position, (name, _) in enumerate(new.order)}
    old_examples, new_examples = dict(old.order), dict(new.order)
    common = [name for name, _ in old.order if name in after]
    for position, first in enumerate(common):
        for second in common[position + 1:]:
            if after[second] > after[first]:
                continue
            # The baseline's order is first, second; the candidate's second, first.
            yield Difference(
                Kind.SEQUENCE_CHANGED, Severity.WARNING, second, None, None,
                {"flow": old.flow, "order": [name for name, _ in old.order]},
                {"flow": new.flow, "order": [name for name, _ in new.order]},
                f"In the {new.flow} run, step {second} now comes before step {first} "
                f"(the baseline's run: {first} first).",
                _examples(old_examples[first], old_examples[second]),
                _examples(new_examples[second], new_examples[first]))


# ---- properties


def _parents(path: str) -> Iterator[str]:
    while True:
        if path.endswith("[]"):
            path = path[:-2]
        else:
            cut = path.rfind(".")
            if cut < 0:
                return
            path = path[:cut]
        yield path


def _paths(old: EventProfile, new: EventProfile, options: CompareOptions) -> Iterator[Difference]:
    key = old.key
    call = _call(key)
    # A parent that went missing (or appeared) says it for everything under it.
    presence_said: set[str] = set()
    for path in sorted(set(old.paths) | set(new.paths)):
        before, after = old.paths.get(path), new.paths.get(path)
        if any(parent in presence_said for parent in _parents(path)):
            continue
        share_before = before.present / old.count if before else 0.0
        share_after = after.present / new.count if after else 0.0
        trait = key[0] == "identify" and path.startswith("traits.") and path.count(".") == 1
        sides = ({"share": round(share_before, 4), "count": before.present if before else 0},
                 {"share": round(share_after, 4), "count": after.present if after else 0})
        if before is not None and after is None:
            presence_said.add(path)
            yield Difference(
                Kind.IDENTITY_CHANGED if trait else Kind.MISSING_PROPERTY, Severity.ERROR,
                key[1], key[0], path, *sides,
                f"{call} no longer sends {path}: it was on {percent(share_before)} of baseline "
                f"calls ({before.present:,} of {old.count:,}) and on none of {new.count:,} "
                "candidate calls.",
                _examples(before.present_example), _examples(*new.examples[:1]))
            continue
        if before is None and after is not None:
            presence_said.add(path)
            yield Difference(
                Kind.IDENTITY_CHANGED if trait else Kind.UNEXPECTED_PROPERTY, Severity.INFO,
                key[1], key[0], path, *sides,
                f"{call} now sends {path}: on {percent(share_after)} of candidate calls "
                f"({after.present:,} of {new.count:,}), never in the baseline.",
                (), _examples(after.present_example))
            continue
        assert before is not None
        assert after is not None
        dropped = share_before - share_after
        if share_before >= options.always_share > share_after or dropped >= options.share_drop:
            severity = (Severity.ERROR if share_before >= options.always_share > share_after
                        else Severity.WARNING)
            yield Difference(
                Kind.IDENTITY_CHANGED if trait else Kind.MISSING_PROPERTY, severity,
                key[1], key[0], path, *sides,
                f"{call} sends {path} less often: on {percent(share_before)} of baseline calls, "
                f"{percent(share_after)} of candidate calls ({after.present:,} of "
                f"{new.count:,}).",
                _examples(before.present_example), _examples(after.absent_example))
        yield from _types(key, path, old, new, before, after, presence_said)
        yield from _values(key, path, before, after)


def _types(key: EventKey, path: str, old: EventProfile, new: EventProfile,
           before: PathProfile, after: PathProfile, said: set[str]) -> Iterator[Difference]:
    types_before, types_after = set(before.types), set(after.types)
    if types_before == types_after:
        return
    added = types_after - types_before
    gone = types_before - types_after
    if added - {"null"}:
        severity = Severity.ERROR
    elif added:
        severity = Severity.WARNING
    else:
        severity = Severity.INFO
    if {"object", "array"} & (added | gone):
        said.add(path)  # what is under a container that changed type follows from it
    shares_before = _shares(before.types, before.present)
    shares_after = _shares(after.types, after.present)
    shown = sorted(added) or sorted(gone)
    example_after = after.type_examples.get(shown[0]) if added else after.present_example
    yield Difference(
        Kind.TYPE_CHANGED, severity, key[1], key[0], path, shares_before, shares_after,
        f"{_call(key)} {path} is {_describe(shares_after)} in the candidate "
        f"({after.present:,} of {new.count:,} calls) against {_describe(shares_before)} in the "
        f"baseline ({before.present:,} of {old.count:,}).",
        _examples(before.present_example), _examples(example_after))


def _values(key: EventKey, path: str, before: PathProfile,
            after: PathProfile) -> Iterator[Difference]:
    if before.values is None:
        return
    call = _call(key)
    listed_before = sorted(before.values)
    if after.values is None:
        if "string" not in after.types:
            return  # a type change, said already
        yield Difference(
            Kind.VALUES_CHANGED, Severity.WARNING, key[1], key[0], path, listed_before,
            None,
            f"{call} {path} took {len(listed_before)} values in the baseline "
            f"({', '.join(listed_before)}) and is no longer enum-like in the candidate (more "
            "values, or ids, addresses or URLs).",
            _examples(before.present_example), _examples(after.present_example))
        return
    added = sorted(set(after.values) - set(before.values))
    gone = sorted(set(before.values) - set(after.values))
    if not added and not gone:
        return
    listed_after = sorted(after.values)
    if added:
        message = (f"{call} {path} has new values in the candidate: {', '.join(added)} "
                   f"(baseline: {', '.join(listed_before)}).")
        example_after: Example | None = after.values[added[0]][1]
    else:
        message = (f"{call} {path} no longer takes {', '.join(gone)} in the candidate "
                   f"(candidate: {', '.join(listed_after)}; baseline: "
                   f"{', '.join(listed_before)}).")
        example_after = after.present_example
    yield Difference(
        Kind.VALUES_CHANGED, Severity.WARNING if added else Severity.INFO, key[1], key[0], path,
        listed_before, listed_after, message,
        _examples(before.values[gone[0]][1] if gone else before.present_example),
        _examples(example_after))


# ---- sources


def _counted(entries: Mapping[Any, list[Any]], index: int) -> dict[str, list[Any]]:
    """Counts (and first examples) by one part of the ``(class, name)`` key."""
    merged: dict[str, list[Any]] = {}
    for key, (count, event_id, message_id) in entries.items():
        entry = merged.get(key[index])
        if entry is None:
            merged[key[index]] = [count, Example(event_id, message_id)]
        else:
            entry[0] += count
    return merged


def _main(counts: Mapping[str, list[Any]], total: int) -> set[str]:
    return {name for name, (count, _) in counts.items() if count >= _SOURCE_SHARE * total}


def _sources(old: EventProfile, new: EventProfile) -> Iterator[Difference]:
    for index, what in ((0, "class"), (1, "name")):
        before, after = _counted(old.sources, index), _counted(new.sources, index)
        main_before, main_after = _main(before, old.count), _main(after, new.count)
        if main_before == main_after:
            continue
        shares_before = _shares({k: v[0] for k, v in before.items()}, old.count)
        shares_after = _shares({k: v[0] for k, v in after.items()}, new.count)
        if index == 0:
            severity = (Severity.ERROR if "server" in main_before and "server" not in main_after
                        else Severity.WARNING)
            noun = "library classes"
        else:
            severity, noun = Severity.INFO, "sources"
        appeared = sorted(main_after - main_before) or sorted(main_after)
        yield Difference(
            Kind.SOURCE_CHANGED, severity, old.key[1], old.key[0], f"source.{what}",
            shares_before, shares_after,
            f"{_call(old.key)} comes from other {noun}: {_describe(shares_after)} of "
            f"candidate calls against {_describe(shares_before)} of baseline calls.",
            _examples(*(before[name][1] for name in sorted(main_before)[:1])),
            _examples(*(after[name][1] for name in appeared[:1])))
        return  # a change of class says the change of name too


# ---- identity


def _user_ids(baseline: SessionProfile, candidate: SessionProfile) -> Iterator[Difference]:
    total_before = sum(entry[0] for entry in baseline.user_id_shapes.values())
    total_after = sum(entry[0] for entry in candidate.user_id_shapes.values())
    if not total_before or not total_after:
        return
    before = {k: v[0] for k, v in baseline.user_id_shapes.items()}
    after = {k: v[0] for k, v in candidate.user_id_shapes.items()}
    main_before = {k for k, n in before.items() if n >= _SOURCE_SHARE * total_before}
    main_after = {k for k, n in after.items() if n >= _SOURCE_SHARE * total_after}
    if main_before == main_after:
        return
    shares_before, shares_after = _shares(before, total_before), _shares(after, total_after)
    new_shape = sorted(main_after - main_before) or sorted(main_after)
    example_after = candidate.user_id_shapes[new_shape[0]]
    example_before = baseline.user_id_shapes[sorted(main_before)[0]] if main_before else None
    yield Difference(
        Kind.IDENTITY_CHANGED, Severity.ERROR, None, None, "userId", shares_before,
        shares_after,
        f"userId looks different: {_describe(shares_after)} of candidate calls against "
        f"{_describe(shares_before)} of baseline calls, so Customer.io would see new people.",
        _examples(Example(*example_before[1:]) if example_before else None),
        _examples(Example(*example_after[1:])))


def _emails(old: PeopleProfile, new: PeopleProfile,
            options: CompareOptions) -> Iterator[Difference]:
    if not old.people or not new.people or not old.with_email:
        return
    share_before, share_after = old.with_email / old.people, new.with_email / new.people
    label_before = _top(old.email_first_on)
    label_after = _top(new.email_first_on)
    median_before, median_after = old.median_email_position(), new.median_email_position()
    sides = ({"share": round(share_before, 4), "first_on": label_before,
              "median_call": median_before},
             {"share": round(share_after, 4), "first_on": label_after,
              "median_call": median_after})
    examples = (_examples(old.email_first_on[label_before][1] if label_before else None),
                _examples(new.email_first_on[label_after][1] if label_after else None))
    dropped = share_before - share_after
    if share_before >= options.always_share > share_after or dropped >= options.share_drop:
        severity = (Severity.ERROR if share_before >= options.always_share > share_after
                    else Severity.WARNING)
        yield Difference(
            Kind.IDENTITY_CHANGED, severity, None, None, "email", *sides,
            f"The email is known for {percent(share_after)} of candidate people "
            f"({new.with_email:,} of {new.people:,}) against {percent(share_before)} of "
            f"baseline people ({old.with_email:,} of {old.people:,}).", *examples)
        return
    later = (median_before is not None and median_after is not None
             and median_after > median_before)
    if label_after is not None and (label_after != label_before or later):
        yield Difference(
            Kind.IDENTITY_CHANGED, Severity.WARNING, None, None, "email", *sides,
            f"The email arrives later in the candidate: on {label_after}, a person's call "
            f"{median_after} (median), against {label_before}, call {median_before}, in the "
            "baseline.", *examples)


def _top(counts: Mapping[str, list[Any]]) -> str | None:
    if not counts:
        return None
    return min(counts, key=lambda label: (-counts[label][0], label))


def _sequences(old: PeopleProfile, new: PeopleProfile,
               options: CompareOptions) -> Iterator[Difference]:
    labels = sorted(set(old.label_types) & set(new.label_types))
    for position, first in enumerate(labels):
        for second in labels[position + 1:]:
            order_before = _order(old, first, second, options.dominant_order)
            order_after = _order(new, first, second, options.dominant_order)
            if order_before is None or order_after is None or order_before[0] == order_after[0]:
                continue
            yield _flip(old, new, order_before, order_after)


def _order(people: PeopleProfile, first: str, second: str,
           dominant: float) -> tuple[tuple[str, str], float, int] | None:
    """The usual order of two calls on one side (and its share and people), if there is
    one."""
    forward, backward = people.order_count(first, second), people.order_count(second, first)
    both = forward + backward
    if not both:
        return None
    if forward >= dominant * both:
        return (first, second), forward / both, both
    if backward >= dominant * both:
        return (second, first), backward / both, both
    return None


def _flip(old: PeopleProfile, new: PeopleProfile,
          before: tuple[tuple[str, str], float, int],
          after: tuple[tuple[str, str], float, int]) -> Difference:
    (order_before, share_before, people_before) = before
    (order_after, share_after, people_after) = after
    moved = order_after[0]
    entry_before = old.pairs[order_before]
    entry_after = new.pairs[order_after]
    call_type, name = new.label_types[moved]
    return Difference(
        Kind.SEQUENCE_CHANGED, Severity.WARNING, name, call_type, None,
        {"order": list(order_before), "share": round(share_before, 4), "people": people_before},
        {"order": list(order_after), "share": round(share_after, 4), "people": people_after},
        f"{order_after[0]} now comes before {order_after[1]}: for {percent(share_after)} of "
        f"{people_after:,} candidate people, while {order_before[0]} came first for "
        f"{percent(share_before)} of {people_before:,} baseline people.",
        _examples(entry_before[1], entry_before[2]), _examples(entry_after[1], entry_after[2]))
