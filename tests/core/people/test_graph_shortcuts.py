"""The identity graph's shortcuts give exactly what the straightforward way gives.

``IdentityGraph`` adds a new identifier straight to the person it joins (instead of building
a one-identifier person and folding it in), reuses the root a set of identifiers was last
linked under (or the one that root was merged into), and records trait writes without
re-creating their histories. The reference here is the straightforward way: every
identifier of every call becomes a person of its own when new and is union-ed in order, and
each call is recorded field by field, as the graph did it before. Both are fed the same
generated identify / alias / track / page calls (placeholder emails, mixed-type traits,
calls out of arrival order) and must give the same people, roots, first sightings, trait
histories and change sets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.core.jsontypes import json_type
from inspector.core.observed import ObservedEvent
from inspector.core.people import IdentityGraph, Person
from inspector.core.people.graph import (
    KeySighting,
    Node,
    _insert_marked,
    _merge_writes,
)

NAMES = {"k-web": "web", "k-backend": "backend"}
INTENT = ("Product Viewed", "Added to Cart")
CHECKOUT = ("Order Completed",)


class _Forgetful(dict[tuple[Node, ...], Node]):
    """A memo that remembers nothing: every call's identifiers are linked afresh."""

    def __setitem__(self, key: tuple[Node, ...], value: Node) -> None:
        pass


class ReferenceGraph(IdentityGraph):
    """The graph linking and recording the straightforward way (no shortcuts, no memo)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._linked = _Forgetful()

    def _link(self, nodes: list[Node], event: ObservedEvent) -> Node:
        return self._link_each(nodes, event)

    def _record(self, person: Person, nodes: list[Node], event: ObservedEvent,
                traits: Mapping[str, Any]) -> bool:
        changed = False
        person.event_count += 1
        if event.id > person.last_event_id:
            person.last_event_id = event.id
        source = event.source
        person.sources.add(source)
        for kind, value in nodes:
            seen = person.table(kind)[value]
            if source not in seen.sources:
                seen.sources.add(source)
                changed = True
            seen.count += 1
        write_key = event.write_key
        if write_key is not None:
            sighting = person.write_keys.get(write_key)
            if sighting is None or event.id < sighting.event_id:
                person.write_keys[write_key] = KeySighting(
                    event.id, event.message_id, source if event.write_key_named else None)
                changed = True
        if event.type == "identify":
            person.identify_count += 1
            changed = changed or person.identify_count == 1
            for name, value in traits.items():
                history = person.traits.setdefault(name, [])
                if history and history[-1].event_id > event.id:
                    person.traits[name] = _merge_writes(history, [self._write(value, event)])
                    changed = True
                elif not history or not (json_type(history[-1].value) == json_type(value)
                                         and history[-1].value == value):
                    history.append(self._write(value, event))
                    changed = True
        if event.type == "track" and event.name:
            if event.name in self._intent:
                _insert_marked(person.intent_events, self._marked(event))
                changed = True
            if event.name in self._checkout:
                _insert_marked(person.checkout_events, self._marked(event))
                changed = True
        return changed


def _graph(kind: type[IdentityGraph]) -> IdentityGraph:
    return kind(intent_events=INTENT, checkout_events=CHECKOUT,
                is_placeholder=lambda value: value.lower() == "test@test.com")


def snapshot(person: Person | None) -> Any:
    """Everything a person holds, dicts in their order (the People panel and checks read it)."""
    if person is None:
        return None
    return (
        [[(value, seen.event_id, seen.message_id, sorted(seen.sources), seen.count)
          for value, seen in table.items()]
         for table in (person.user_ids, person.anonymous_ids, person.emails)],
        sorted(person.sources),
        [(name, [tuple(write) for write in writes]) for name, writes in person.traits.items()],
        [tuple(event) for event in person.intent_events],
        [tuple(event) for event in person.checkout_events],
        [(key, tuple(sighting)) for key, sighting in person.write_keys.items()],
        person.identify_count, person.event_count, person.first_event_id, person.last_event_id,
        person.id, person.label,
    )


USERS = st.sampled_from([None, None, "u1", "u2", "u3", "a@shop.test", "A@Shop.test ",
                         "test@test.com", "b@shop.test"])
ANONS = st.sampled_from([None, "x1", "x2", "x3", "x4", "u1"])
EMAILS = st.sampled_from([None, "a@shop.test", "b@shop.test", "c@shop.test", "test@test.com",
                          "not an email", 7])
VALUES = st.sampled_from([True, "true", 1, 1.0, 1.5, None, "gold", "silver", [1], {"a": 1}])


@st.composite
def calls(draw: st.DrawFn) -> list[ObservedEvent]:
    count = draw(st.integers(1, 40))
    ids = list(range(1, count + 1))
    if draw(st.booleans()):
        ids = draw(st.permutations(ids))  # a stored session fed in another order
    events = []
    for event_id in ids:
        call_type = draw(st.sampled_from(["identify", "track", "page", "alias"]))
        payload: dict[str, Any] = {}
        if call_type == "identify":
            payload["traits"] = draw(st.dictionaries(
                st.sampled_from(["email", "plan", "opt_in"]),
                st.one_of(EMAILS, VALUES), max_size=3))
        if call_type == "alias":
            payload["previousId"] = draw(st.sampled_from(["x1", "x2", "u1", "u3", "x9", ""]))
        context_email = draw(EMAILS)
        if context_email is not None:
            payload["context"] = {"traits": {"email": context_email}}
        name = draw(st.sampled_from([*INTENT, *CHECKOUT, "Other"])) \
            if call_type == "track" else None
        events.append(ObservedEvent.build(
            id=event_id, received_at=1000.0 + event_id, message_id=f"m{event_id}",
            write_key=draw(st.sampled_from(["k-web", "k-backend", "k-other", None])),
            type=call_type, name=name, user_id=draw(USERS), anonymous_id=draw(ANONS),
            payload=payload, write_key_names=NAMES))
    return events


@settings(max_examples=300, deadline=None)
@given(calls(), st.one_of(st.sets(st.integers(0, 40)), st.just(set(range(40)))))
def test_graph_matches_the_straightforward_way(events: list[ObservedEvent],
                                               reads: set[int]) -> None:
    """``reads``: after which calls the changes are taken (every call: what changed each time)."""
    fast, reference = _graph(IdentityGraph), _graph(ReferenceGraph)
    for position, event in enumerate(events):
        assert snapshot(fast.observe(event)) == snapshot(reference.observe(event))
        if position in reads:  # the audit reads the changes between batches
            changed, gone = fast.take_changes()
            wanted_changed, wanted_gone = reference.take_changes()
            assert {root: snapshot(person) for root, person in changed.items()} == \
                {root: snapshot(person) for root, person in wanted_changed.items()}
            assert gone == wanted_gone
    assert [snapshot(person) for person in fast.people()] == \
        [snapshot(person) for person in reference.people()]
    identifiers = {(kind, value) for person in reference.people()
                   for kind in ("user", "anon", "email") for value in person.table(kind)}
    for kind, value in identifiers:
        root = reference.root_of(kind, value)
        assert fast.root_of(kind, value) == root
        assert root is not None
        assert snapshot(fast.person_at(root)) == snapshot(reference.person_at(root))
        assert snapshot(fast.person_of(kind, value)) == snapshot(reference.person_of(kind, value))
    assert fast.take_changes()[1] == reference.take_changes()[1]
