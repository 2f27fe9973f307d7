"""Per person: the order in which a session's calls first occur, and when the email arrives.

One SQL statement (:meth:`~inspector.core.store.reader.EventReader.person_calls`) sorts the
session's calls by person and id (SQLite's sorter spills to disk, so memory stays bounded
however big the session), and Python folds them one person at a time:
only the counters below, bounded by the number of distinct call labels, outlive a person.

A *person* is as ``person_calls`` defines it: the call's ``userId``, else the ``userId`` its
``anonymousId`` was sent with on some call of the session, else the ``anonymousId``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from inspector.core.compare.model import Example
from inspector.core.store.reader import EventReader

__all__ = ["PeopleProfile", "build_people", "call_label"]

#: A person's first calls looked at for the order (pairs grow with the square of this).
MAX_LABELS_PER_PERSON = 40
#: Positions beyond this are counted here (the email arrived very late).
_MAX_POSITION = 50


def call_label(call_type: str | None, name: str | None) -> str:
    """How a call is named in sequences: the event name of a track, ``page Product`` for a
    named page or screen, else the call type (``identify``)."""
    call_type = call_type or "?"
    if call_type == "track" and name:
        return name
    return f"{call_type} {name}" if name and call_type in ("page", "screen") else call_type


@dataclass(slots=True)
class PeopleProfile:
    """The order of first calls and the email's arrival, counted over a session's people."""

    people: int = 0
    #: label -> its call type and event name
    label_types: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    #: (a, b) -> [people whose first a came before their first b, example first a, first b]
    pairs: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    #: People who sent an email at some point.
    with_email: int = 0
    #: label of the call that first carried a person's email -> [people, example]
    email_first_on: dict[str, list[Any]] = field(default_factory=dict)
    #: 1-based position of that call among the person's calls -> people
    email_positions: dict[int, int] = field(default_factory=dict)

    def order_count(self, first: str, second: str) -> int:
        """People whose first ``first`` came before their first ``second``."""
        entry = self.pairs.get((first, second))
        return int(entry[0]) if entry else 0

    def median_email_position(self) -> int | None:
        """The median position of the call that first carried the email."""
        total = sum(self.email_positions.values())
        if not total:
            return None
        seen = 0
        for position in sorted(self.email_positions):
            seen += self.email_positions[position]
            if seen * 2 >= total:
                return position
        return None


class _Person:
    """What is kept of the person being folded."""

    __slots__ = ("calls", "email_seen", "firsts", "seen")

    def __init__(self) -> None:
        self.calls = 0
        self.email_seen = False
        self.firsts: list[tuple[str, Example]] = []
        self.seen: set[str] = set()


def build_people(reader: EventReader, session_id: int, *,
                 event_ids: Collection[int] | None = None) -> PeopleProfile:
    """The people profile of a stored session (or of the events ``event_ids`` only)."""
    profile = PeopleProfile()
    current: str | None = None
    person = _Person()
    for key, event_id, message_id, call_type, name, email in reader.person_calls(
            session_id, event_ids=event_ids):
        if key != current:
            if current is not None:
                _close(profile, person)
            current, person = key, _Person()
        person.calls += 1
        label = call_label(call_type, name)
        example = Example(event_id, message_id)
        if label not in person.seen and len(person.firsts) < MAX_LABELS_PER_PERSON:
            person.seen.add(label)
            person.firsts.append((label, example))
            profile.label_types.setdefault(label, (
                call_type or "?", name if call_type in ("track", "page", "screen") else None))
        if not person.email_seen and isinstance(email, str) and email.strip():
            person.email_seen = True
            profile.with_email += 1
            entry = profile.email_first_on.get(label)
            if entry is None:
                profile.email_first_on[label] = [1, example]
            else:
                entry[0] += 1
            position = min(person.calls, _MAX_POSITION)
            profile.email_positions[position] = profile.email_positions.get(position, 0) + 1
    if current is not None:
        _close(profile, person)
    return profile


def _close(profile: PeopleProfile, person: _Person) -> None:
    profile.people += 1
    firsts = person.firsts
    pairs = profile.pairs
    for position, (first, first_example) in enumerate(firsts):
        for second, second_example in firsts[position + 1:]:
            entry = pairs.get((first, second))
            if entry is None:
                pairs[(first, second)] = [1, first_example, second_example]
            else:
                entry[0] += 1
