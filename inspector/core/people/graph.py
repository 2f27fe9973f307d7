"""The identity graph: identifiers linked by the calls, kept incrementally.

Every identifier is a node (``("user", id)``, ``("anon", id)``, ``("email", address)``); a call
that carries two of them links them, and a person is a connected set (union-find with union by
size, so a session of a million calls links in near-constant time per call). Each person keeps
the aggregates the audits and the People panel read: identifiers with where and when they were
first seen, sources, trait writes (only the ones that changed a value), intent and checkout
events. Everything is keyed by arrival order (the store's event id), so feeding the same calls
live or from a stored session builds the same people, whatever order the links arrive in.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from inspector.core.jsontypes import json_type
from inspector.core.observed import ObservedEvent
from inspector.core.people.identifiers import IdShape, id_shape, is_email, normalise_email

__all__ = ["IdentityGraph", "KeySighting", "MarkedEvent", "Person", "TraitWrite"]


Node = tuple[str, str]

_EMPTY: Mapping[str, Any] = {}
#: Not memoised yet (``None`` is a memoised "not an email").
_UNSEEN: Any = object()
#: Distinct values memoised by :meth:`IdentityGraph._email_node` (bounded memory).
_MEMO_LIMIT = 1_000_000


class TraitWrite(NamedTuple):
    """One call that set a trait to a value (kept only when the value changed).

    Named tuples, not dataclasses, for this and :class:`MarkedEvent`: a tuple of plain values
    is dropped from the cyclic collector's lists, and a big session keeps hundreds of
    thousands of them (bench/gui_live.py: each full collection walked them all, ~90 ms
    stalls in the window).
    """

    value: Any
    source: str
    event_id: int
    message_id: str | None
    received_at: float

    @property
    def json_type(self) -> str:
        """The JSON type of the value, in JSON Schema's words."""
        return json_type(self.value)


class MarkedEvent(NamedTuple):
    """An event a check cares about (an intent or checkout event), by arrival order."""

    event_id: int
    message_id: str | None
    name: str
    source: str
    received_at: float


class KeySighting(NamedTuple):
    """The first call of a person through one write key (the environment checks read it)."""

    event_id: int
    message_id: str | None
    #: The key's name in the session (``None``: unnamed).
    name: str | None


@dataclass(slots=True)
class FirstSeen:
    """Where an identifier was first seen, and every source that sent it."""

    event_id: int
    message_id: str | None
    sources: set[str] = field(default_factory=set)
    #: Calls that carried it.
    count: int = 0

    def merge(self, other: FirstSeen) -> None:
        """Fold another sighting of the same identifier in (the earlier one wins)."""
        if other.event_id < self.event_id:
            self.event_id, self.message_id = other.event_id, other.message_id
        self.sources |= other.sources
        self.count += other.count


@dataclass(slots=True)
class Person:
    """Everything the traffic says about one person (the aggregate at a union-find root)."""

    user_ids: dict[str, FirstSeen] = field(default_factory=dict)
    anonymous_ids: dict[str, FirstSeen] = field(default_factory=dict)
    emails: dict[str, FirstSeen] = field(default_factory=dict)
    sources: set[str] = field(default_factory=set)
    #: Trait name -> the writes that changed its value, in arrival order.
    traits: dict[str, list[TraitWrite]] = field(default_factory=dict)
    intent_events: list[MarkedEvent] = field(default_factory=list)
    checkout_events: list[MarkedEvent] = field(default_factory=list)
    #: Write key -> the person's first call through it.
    write_keys: dict[str, KeySighting] = field(default_factory=dict)
    identify_count: int = 0
    event_count: int = 0
    first_event_id: int = 0
    last_event_id: int = 0

    def table(self, kind: str) -> dict[str, FirstSeen]:
        """The identifiers of one kind: ``user``, ``anon`` or ``email``."""
        if kind == "user":
            return self.user_ids
        if kind == "anon":
            return self.anonymous_ids
        return self.emails

    @property
    def id(self) -> str:
        """A readable id: the first userId seen, else the first email, else anonymousId."""
        for kind, table in (("user", self.user_ids), ("email", self.emails),
                            ("anon", self.anonymous_ids)):
            if table:
                value = min(table, key=lambda item: (table[item].event_id, item))
                return f"{kind}:{value}"
        return "unknown"

    @property
    def label(self) -> str:
        """How a message names this person: an email, else a userId, else an anonymousId."""
        if self.emails:
            return min(self.emails, key=lambda item: (self.emails[item].event_id, item))
        return self.id.partition(":")[2]

    @property
    def email_known_from(self) -> int | None:
        """The arrival order from which an email is known for this person (``None``: never)."""
        return min((seen.event_id for seen in self.emails.values()), default=None)

    def current_traits(self) -> dict[str, TraitWrite]:
        """Each trait's latest write: what "last write wins" leaves in Customer.io."""
        return {name: writes[-1] for name, writes in self.traits.items() if writes}

    def user_id_shapes(self) -> dict[str, IdShape]:
        """Each userId's shape."""
        return {value: id_shape(value) for value in self.user_ids}

    def absorb(self, other: Person) -> None:
        """Fold ``other`` into this person (both were linked by a call)."""
        for mine, theirs in ((self.user_ids, other.user_ids),
                             (self.anonymous_ids, other.anonymous_ids),
                             (self.emails, other.emails)):
            for value, seen in theirs.items():
                if value in mine:
                    mine[value].merge(seen)
                else:
                    mine[value] = seen
        self.sources |= other.sources
        for name, writes in other.traits.items():
            self.traits[name] = _merge_writes(self.traits.get(name, []), writes)
        self.intent_events = _merge_marked(self.intent_events, other.intent_events)
        self.checkout_events = _merge_marked(self.checkout_events, other.checkout_events)
        for key, sighting in other.write_keys.items():
            known = self.write_keys.get(key)
            if known is None or sighting.event_id < known.event_id:
                self.write_keys[key] = sighting
        self.identify_count += other.identify_count
        self.event_count += other.event_count
        self.first_event_id = min(self.first_event_id, other.first_event_id)
        self.last_event_id = max(self.last_event_id, other.last_event_id)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (REST API, CLI)."""
        return {
            "id": self.id,
            "label": self.label,
            "user_ids": [{"value": value, "shape": str(id_shape(value)),
                          "sources": sorted(seen.sources)}
                         for value, seen in _by_first_seen(self.user_ids)],
            "anonymous_ids": [value for value, _ in _by_first_seen(self.anonymous_ids)],
            "emails": [value for value, _ in _by_first_seen(self.emails)],
            "sources": sorted(self.sources),
            "traits": {
                name: {"value": write.value, "source": write.source,
                       "event_id": write.event_id, "message_id": write.message_id,
                       "writes": len(self.traits[name])}
                for name, write in sorted(self.current_traits().items())
            },
            "event_count": self.event_count,
            "identify_count": self.identify_count,
        }


def _by_first_seen(table: Mapping[str, FirstSeen]) -> list[tuple[str, FirstSeen]]:
    return sorted(table.items(), key=lambda item: (item[1].event_id, item[0]))


def _merge_writes(left: list[TraitWrite], right: list[TraitWrite]) -> list[TraitWrite]:
    """Both histories in arrival order, dropping writes that no longer change the value."""
    merged = sorted([*left, *right], key=lambda write: write.event_id)
    kept: list[TraitWrite] = []
    for write in merged:
        if not kept or not _same_value(kept[-1].value, write.value):
            kept.append(write)
    return kept


def _merge_marked(left: list[MarkedEvent], right: list[MarkedEvent]) -> list[MarkedEvent]:
    if not right:
        return left
    if not left:
        return right
    return sorted([*left, *right], key=lambda event: event.event_id)


def _insert_marked(events: list[MarkedEvent], event: MarkedEvent) -> None:
    """Add ``event`` keeping arrival order (appending, in the usual case of arrival order)."""
    if not events or events[-1].event_id < event.event_id:
        events.append(event)
    else:
        bisect.insort(events, event, key=lambda item: item.event_id)


def _same_value(left: Any, right: Any) -> bool:
    # "true" and True are different writes (the type changed); 1 and 1.0 are not.
    if type(left) is type(right):  # the usual case (a trait re-sent): same JSON type if equal
        return bool(left == right)
    return json_type(left) == json_type(right) and left == right


class IdentityGraph:
    """People as the calls link them, updated one call at a time.

    ``intent_events`` and ``checkout_events`` name the calls each person remembers (the audit
    configuration's lists); ``placeholder`` says which emails are fakes that must not link two
    people (every tester who types ``test@test.com`` is not one shopper).
    """

    def __init__(
        self,
        *,
        intent_events: Iterable[str] = (),
        checkout_events: Iterable[str] = (),
        is_placeholder: Any = None,
    ) -> None:
        self._parent: dict[Node, Node] = {}
        self._people: dict[Node, Person] = {}
        self._intent = frozenset(intent_events)
        self._checkout = frozenset(checkout_events)
        self._is_placeholder = is_placeholder or (lambda value: False)
        #: alias previousId -> a node of each person that aliased it: linked to the userId or
        #: anonymousId of that value whenever one appears (now or later).
        self._aliases: dict[str, list[Node]] = {}
        #: Roots changed since :meth:`take_changes`, and roots merged away.
        self._dirty: set[Node] = set()
        self._gone: set[Node] = set()
        self._email_nodes: dict[str, Node | None] = {}
        #: The identifiers of a call -> the root they were last linked under.
        self._linked: dict[tuple[Node, ...], Node] = {}

    # ---- union-find

    def _find(self, node: Node) -> Node:
        parent = self._parent
        root = node
        while parent[root] != root:
            root = parent[root]
        while parent[node] != root:  # path compression
            parent[node], node = root, parent[node]
        return root

    def _add(self, node: Node, event: ObservedEvent) -> Node:
        if node in self._parent:
            return self._find(node)
        self._parent[node] = node
        person = Person(first_event_id=event.id, last_event_id=event.id)
        kind, value = node
        person.table(kind)[value] = FirstSeen(event.id, event.message_id, set())
        self._people[node] = person
        self._dirty.add(node)
        root = node
        if kind != "email":
            for aliased in self._aliases.get(value, ()):
                root = self._union(root, aliased)
        return root

    def _union(self, left: Node, right: Node) -> Node:
        left, right = self._find(left), self._find(right)
        if left == right:
            return left
        big, small = self._people[left], self._people[right]
        # Union by size (identifiers + events) keeps merges cheap and the trees flat.
        if _weight(big) < _weight(small):
            left, right, big, small = right, left, small, big
        big.absorb(small)
        self._parent[right] = left
        del self._people[right]
        self._dirty.discard(right)
        self._gone.add(right)
        self._dirty.add(left)
        return left

    def _link(self, nodes: list[Node], event: ObservedEvent) -> Node:
        """Add and link a call's identifiers; the root of the person they now form.

        The same people, roots and change sets as adding each identifier as a person of its
        own and union-ing them in order (:meth:`_link_each`), without building and folding
        away the one-identifier people of new identifiers: they have no events, so they never
        outweigh a known person and are simply added to its tables. Half the identifiers of
        a session are new ones joining a known person (a second anonymousId, an email).
        """
        parent, aliases = self._parent, self._aliases
        if aliases and any(node not in parent and node[0] != "email" and node[1] in aliases
                           for node in nodes):
            return self._link_each(nodes, event)  # an alias waits for it: unions as it says
        root: Node | None = None
        fresh: list[Node] = []
        for node in nodes:
            if node not in parent:
                if root is None:
                    fresh.append(node)
                else:
                    self._attach(root, node, event)
            elif root is not None:
                root = self._union(root, self._find(node))
            else:
                root = self._find(node)
                if fresh:
                    # The new identifiers so far would form a person of len(fresh) identifiers
                    # and no events: it is absorbed unless it outweighs (or ties) this one.
                    if len(fresh) >= _weight(self._people[root]):
                        root = self._union(self._add_all(fresh, event), root)
                    else:
                        for new in fresh:
                            self._attach(root, new, event)
                    fresh = []
        if root is None:
            root = self._add_all(fresh, event)
        return root

    def _link_each(self, nodes: list[Node], event: ObservedEvent) -> Node:
        """Add each identifier (a person of its own when new) and union them in order."""
        root = self._add(nodes[0], event)
        for node in nodes[1:]:
            root = self._union(root, self._add(node, event))
        return root

    def _add_all(self, fresh: list[Node], event: ObservedEvent) -> Node:
        """A new person of new identifiers (as ``_link_each`` would build it)."""
        root = self._add(fresh[0], event)
        for node in fresh[1:]:
            self._attach(root, node, event)
        return root

    def _attach(self, root: Node, node: Node, event: ObservedEvent) -> None:
        """Add a new identifier (no alias waits for it) to the person at ``root``: what
        ``_union(root, _add(node, event))`` leaves, when the person at ``root`` weighs at
        least one (always: a person has an identifier)."""
        person = self._people[root]
        self._parent[node] = root
        kind, value = node
        person.table(kind)[value] = FirstSeen(event.id, event.message_id, set())
        if event.id < person.first_event_id:
            person.first_event_id = event.id
        elif event.id > person.last_event_id:
            person.last_event_id = event.id
        # As the union reports it: the absorbed one-identifier person is gone, this one changed.
        self._gone.add(node)
        self._dirty.add(root)

    # ---- feeding

    def observe(self, event: ObservedEvent) -> Person | None:
        """Link the identifiers ``event`` carries and record it on its person."""
        nodes: list[Node] = []
        email_nodes = self._email_nodes
        user_id = event.user_id
        if user_id:
            nodes.append(("user", user_id))
            email_node = email_nodes.get(user_id, _UNSEEN)
            if email_node is _UNSEEN:
                email_node = self._email_node(user_id)
            if email_node is not None:
                nodes.append(email_node)
        if event.anonymous_id:
            nodes.append(("anon", event.anonymous_id))
        if event.type == "identify":
            traits = event.traits
            emails: tuple[Any, ...] = (traits.get("email"), event.context_traits.get("email"))
        else:
            traits = _EMPTY
            emails = (event.context_traits.get("email"),)
        for email in emails:
            if isinstance(email, str):
                email_node = self._email_node(email)
                if email_node is not None and email_node not in nodes:
                    nodes.append(email_node)
        if not nodes:
            return None
        # Most calls repeat a set of identifiers already linked (a shopper's page views and
        # cart events): reuse its root (or the one it was merged into) instead of re-linking.
        pair = tuple(nodes)
        root = self._linked.get(pair)
        if root is None:
            root = self._link(nodes, event)
            if len(self._linked) < _MEMO_LIMIT:
                self._linked[pair] = root
        elif self._parent[root] != root:
            # Merged into another person since: all of these identifiers went with it (a
            # union never splits), so its root is theirs, with nothing to link.
            root = self._linked[pair] = self._find(root)
        if event.type == "alias":
            root = self._alias(root, event)
        person = self._people[root]
        if self._record(person, nodes, event, traits):
            # Only a change a person check reads re-runs the checks: a shopper's hundredth
            # page view does not.
            self._dirty.add(root)
        return person

    def _email_node(self, value: str) -> Node | None:
        """``("email", normalised)`` when ``value`` is a real email (memoised: the same few
        userIds and emails come back on every call)."""
        try:
            return self._email_nodes[value]
        except KeyError:
            pass
        node: Node | None = None
        if is_email(value) and not self._is_placeholder(value):
            node = ("email", normalise_email(value))
        if len(self._email_nodes) < _MEMO_LIMIT:
            self._email_nodes[value] = node
        return node

    def _alias(self, root: Node, event: ObservedEvent) -> Node:
        previous = event.payload.get("previousId")
        if not isinstance(previous, str) or not previous:
            return root
        self._aliases.setdefault(previous, []).append(root)
        for kind in ("user", "anon"):
            if (kind, previous) in self._parent:
                root = self._union(root, (kind, previous))
        return root

    def _record(self, person: Person, nodes: list[Node], event: ObservedEvent,
                traits: Mapping[str, Any]) -> bool:
        """Record ``event`` on ``person``; whether anything a person check reads changed
        (identifiers and their sources, trait values, intent and checkout events, the write
        keys used, the first identify)."""
        changed = False
        event_id = event.id
        person.event_count += 1
        if event_id > person.last_event_id:
            person.last_event_id = event_id
        source = event.source
        person.sources.add(source)
        for kind, value in nodes:
            seen = (person.user_ids if kind == "user" else person.anonymous_ids
                    if kind == "anon" else person.emails)[value]
            sources = seen.sources
            if source not in sources:
                sources.add(source)
                changed = True
            seen.count += 1
        write_key = event.write_key
        if write_key is not None:
            sighting = person.write_keys.get(write_key)
            if sighting is None or event_id < sighting.event_id:
                person.write_keys[write_key] = KeySighting(
                    event_id, event.message_id, source if event.write_key_named else None)
                changed = True
        call_type = event.type
        if call_type == "identify":
            person.identify_count += 1
            changed = changed or person.identify_count == 1
            person_traits = person.traits
            for name, value in traits.items():
                history = person_traits.get(name)
                if not history:
                    person_traits[name] = [self._write(value, event)]
                    changed = True
                elif history[-1].event_id > event_id:
                    # Arrived out of order (a stored session fed in another order): keep order.
                    person_traits[name] = _merge_writes(history, [self._write(value, event)])
                    changed = True
                elif not _same_value(history[-1].value, value):
                    history.append(self._write(value, event))
                    changed = True
        elif call_type == "track" and event.name:
            if event.name in self._intent:
                _insert_marked(person.intent_events, self._marked(event))
                changed = True
            if event.name in self._checkout:
                _insert_marked(person.checkout_events, self._marked(event))
                changed = True
        return changed

    @staticmethod
    def _write(value: Any, event: ObservedEvent) -> TraitWrite:
        return TraitWrite(value, event.source, event.id, event.message_id, event.received_at)

    @staticmethod
    def _marked(event: ObservedEvent) -> MarkedEvent:
        return MarkedEvent(event.id, event.message_id, event.name or "", event.source,
                           event.received_at)

    # ---- reading

    def people(self) -> Iterator[Person]:
        """Every person, in order of their first event."""
        return iter(sorted(self._people.values(), key=lambda person: person.first_event_id))

    def __len__(self) -> int:
        return len(self._people)

    def person_of(self, kind: str, value: str) -> Person | None:
        """The person an identifier belongs to (``kind``: user, anon or email)."""
        if kind == "email":
            value = normalise_email(value)
        node = (kind, value)
        if node not in self._parent:
            return None
        return self._people[self._find(node)]

    def root_of(self, kind: str, value: str) -> Node | None:
        """The root of the person an identifier belongs to: a stable key for that person
        until a merge folds them into another (:meth:`take_changes` names the roots gone)."""
        node = (kind, value)
        if node not in self._parent:
            return None
        return self._find(node)

    def person_at(self, root: Node) -> Person | None:
        """The person whose root is ``root`` (``None`` once merged away)."""
        return self._people.get(root)

    def find(self, person_id: str) -> Person | None:
        """The person named by ``kind:value`` (any identifier of theirs), or a bare value."""
        kind, sep, value = person_id.partition(":")
        if sep and kind in ("user", "anon", "email"):
            return self.person_of(kind, value)
        for kind in ("user", "anon", "email"):
            person = self.person_of(kind, person_id)
            if person is not None:
                return person
        return None

    def key_of(self, person: Person) -> Node:
        """The root node standing for ``person`` (stable until it is merged)."""
        for kind, table in (("user", person.user_ids), ("anon", person.anonymous_ids),
                            ("email", person.emails)):
            for value in table:
                return self._find((kind, value))
        raise KeyError("person without identifiers")

    def take_changes(self) -> tuple[dict[Node, Person], set[Node]]:
        """The people changed since the last call (by root), and the roots merged away."""
        changed = {root: self._people[root] for root in self._dirty}
        gone = self._gone - changed.keys()
        self._dirty, self._gone = set(), set()
        return changed, gone


def _weight(person: Person) -> int:
    return (len(person.user_ids) + len(person.anonymous_ids) + len(person.emails)
            + person.event_count)
