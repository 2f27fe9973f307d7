"""The flow file: a named, ordered checklist of calls a tester's journey must send.

A step is a rule in the condition language (WHEN ``match`` / EXPECT ``expect``, see
``docs/conditions.md``) plus relations to the steps before it: the same value as an earlier
step's call (``same_as``), a different one (``differs_from``), a time limit since the previous
step (``within``), explicit order (``after`` / ``before``), steps of one ``group`` in any
order, and the flow-wide ``same_person``. The format is documented in ``docs/flows.md``;
``inspector check --print-schema`` prints its JSON Schema.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from inspector.core.conditions import CallMatch, Duration, Expectation
from inspector.core.conditions.paths import FieldPath, PathError
from inspector.core.libraries import LIBRARY_CLASSES
from inspector.core.rulefile import LocatedValueError, rule_file_schema

__all__ = ["Flow", "FlowError", "Step", "StepExpectation", "split_reference"]


class FlowError(Exception):
    """A flow cannot be used; the message names the file, line and column."""


def _paths(value: dict[str, str]) -> dict[str, str]:
    for path in value:
        try:
            FieldPath.parse(path)
        except PathError as error:
            raise ValueError(f"{path!r}: {error}") from error
    return value


References = Annotated[dict[str, str], AfterValidator(_paths)]
OneOrMany = str | list[str]


class StepExpectation(Expectation):
    """What the step's call must satisfy: the shared EXPECT (fields, person) and, because a
    checklist is about *who* sent a call, where it came from. A call from the wrong place is
    still the step's call (the closest candidate), failing with a reason, rather than not
    matching at all."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    library: OneOrMany | None = Field(
        default=None, description="context.library.name must be this (or a class of "
        "libraries: server, browser, mobile).")
    source: OneOrMany | None = Field(
        default=None, description="The source (a write key's name, else the library) must "
        "be this.")
    write_key: OneOrMany | None = Field(default=None, description="The write key must be this.")


class Step(BaseModel):
    """One call the journey must send."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="How the checklist names the step (unique "
                      "in the flow).")
    description: str | None = Field(default=None, description="What the step checks, in "
                                    "words.")
    match: CallMatch = Field(description="WHEN: the calls that are this step.")
    expect: StepExpectation | None = Field(
        default=None, description="EXPECT: what the step's call must carry (fields, person "
        "as of the call, where it came from).")
    optional: bool = Field(default=False, description="The step may be absent (skipped); "
                           "when its call arrives it must still be right.")
    repeatable: bool = Field(
        default=False, description="Several calls may be this step (adding several "
        "products): each one, up to the next step's call, must be right.")
    same_as: References = Field(
        default_factory=dict, description="{path: \"<step>[.<path>]\"}: the same value as "
        "that earlier step's call (at the same path unless another is given).")
    differs_from: References = Field(
        default_factory=dict, description="{path: \"<step>[.<path>]\"}: a different value "
        "from that earlier step's call (another device's anonymousId).")
    within: Duration | None = Field(
        default=None, description="At most this long after the previous step's call (90s, "
        "30m, 24h, 1d), by arrival time.")
    after: list[str] = Field(default_factory=list, description="Steps whose calls must "
                             "come before this one's (inside a group).")
    before: list[str] = Field(default_factory=list, description="Steps whose calls must "
                              "come after this one's (inside a group).")
    group: str | None = Field(
        default=None, description="Consecutive steps with the same group may come in any "
        "order among themselves.")
    same_person: bool | None = Field(
        default=None, description="Override the flow's same_person for this step.")


class Flow(BaseModel):
    """A checkout (or any) journey as an ordered checklist of steps."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="The flow's name (inspector check --flow "
                      "NAME for a bundled one).")
    description: str | None = Field(default=None, description="What the journey is and why "
                                    "it matters.")
    same_person: bool = Field(
        default=True, description="Every step's call comes from one person, as the identity "
        "graph links them when the run is read (a later identify or alias counts).")
    steps: list[Step] = Field(min_length=1, description="The steps, in order.")

    @model_validator(mode="after")
    def _relations(self) -> Flow:
        names: list[str] = []
        for index, step in enumerate(self.steps):
            if step.name in names:
                raise LocatedValueError(("steps", index, "name"),
                                        f"two steps are named {step.name!r}")
            names.append(step.name)
        groups_seen: list[str | None] = []
        for index, step in enumerate(self.steps):
            earlier = names[:index]
            for relation in ("same_as", "differs_from"):
                for path, reference in getattr(step, relation).items():
                    target, _ = split_reference(reference, earlier)
                    if target is None:
                        raise LocatedValueError(
                            ("steps", index, relation, path),
                            f"{reference!r} does not "
                            f"start with the name of an earlier step ({_list(earlier)})")
            for relation in ("after", "before"):
                for other in getattr(step, relation):
                    if other not in names or other == step.name:
                        raise LocatedValueError(("steps", index, relation),
                                                f"{other!r} is not another step of the flow")
            if step.group is not None and step.group in groups_seen and \
                    groups_seen[-1] != step.group:
                raise LocatedValueError(("steps", index, "group"),
                                        f"the steps of group {step.group!r} must be "
                                        f"consecutive")
            groups_seen.append(step.group)
        _check_acyclic(self.steps)
        return self

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON Schema of a flow file (``inspector check --print-schema``)."""
        return rule_file_schema(cls, "inspector flow")


def split_reference(reference: str, steps: Sequence[str]) -> tuple[str | None, str | None]:
    """``("Added to Cart", "properties.cart_id")`` from ``"Added to Cart.properties.cart_id"``
    (the longest step name that starts it; no path: ``None``, the same path)."""
    best: str | None = None
    for name in steps:
        if (reference == name or reference.startswith(name + ".")) and \
                (best is None or len(name) > len(best)):
            best = name
    if best is None:
        return None, None
    rest = reference[len(best) + 1:]
    return best, rest or None


def _check_acyclic(steps: Sequence[Step]) -> None:
    """``after`` / ``before`` cannot contradict the file's order or each other."""
    position = {step.name: index for index, step in enumerate(steps)}
    for index, step in enumerate(steps):
        for relation, others in (("after", step.after), ("before", step.before)):
            for other in others:
                first, then = (other, step.name) if relation == "after" else (step.name, other)
                a, b = steps[position[first]], steps[position[then]]
                same_group = a.group is not None and a.group == b.group
                if not same_group and position[first] > position[then]:
                    raise LocatedValueError(
                        ("steps", index, relation),
                        f"{relation} {other!r} contradicts the order of "
                        f"the steps (only steps of one group may come in any order)")
    # Inside groups: a cycle of after/before has no order at all.
    edges: dict[str, set[str]] = {step.name: set() for step in steps}
    for step in steps:
        for other in step.after:
            edges[step.name].add(other)
        for other in step.before:
            edges[other].add(step.name)
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            raise ValueError("after / before go round in a circle: " + " -> ".join(
                [*trail[trail.index(name):], name]))
        state[name] = 1
        for other in sorted(edges[name]):
            visit(other, [*trail, name])
        state[name] = 2

    for step in steps:
        visit(step.name, [])


def _list(names: Sequence[str]) -> str:
    return ", ".join(repr(name) for name in names) or "there is none"


def library_names(value: OneOrMany | None) -> frozenset[str] | None:
    """Library names a ``library:`` value stands for (classes expanded)."""
    if value is None:
        return None
    names: set[str] = set()
    for item in [value] if isinstance(value, str) else value:
        names |= LIBRARY_CLASSES.get(item, frozenset({item}))
    return frozenset(names)
