"""A session's profile before any ignore list is applied: the form kept with each session.

The profile builder (:mod:`inspector.core.compare.profile`) folds events into a
:class:`RawProfile`: per call type and event name, every path with its counts, JSON types,
enum-like values and first examples, and the raw ``(write key, library)`` pairs the calls came
from. Nothing in it depends on a comparison's options or on the write keys' names, so it can
be built once, in the background as events are captured
(:class:`~inspector.core.compare.stored.ProfileBuilder`), and stored; a comparison applies its
ignore lists and names when it reads it (:func:`~inspector.core.compare.profile.view`).

Two raw profiles of consecutive runs of events (all of ``earlier`` before all of ``later``,
by store id) merge into the profile of both (:func:`merge`), equal to the one a single pass
would build: counts add up, first examples come from the earlier side, and a path's first
event without it is found from each side's first event. So the stored profile up to a
watermark plus a profile of the events above it is the whole session's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from inspector.core.compare.options import ENUM_MAX_VALUES

__all__ = ["FORMAT", "RawEvent", "RawPath", "RawProfile", "decode", "encode", "merge"]

#: Bumped whenever the stored form or what goes into it changes: stored profiles of another
#: format are rebuilt from the session's events.
FORMAT = 1

#: ``[event id, messageId]``
RawExample = list[Any]


@dataclass(slots=True)
class RawPath:
    """How the events of one key carry one path."""

    #: Events carrying the path (at least once).
    present: int = 0
    #: Events per JSON type found at the path.
    types: dict[str, int] = field(default_factory=dict)
    #: JSON type -> the first event with that type at the path.
    type_examples: dict[str, RawExample] = field(default_factory=dict)
    present_example: RawExample | None = None
    #: The first event of the key *without* the path (``None``: every event so far has it).
    absent_example: RawExample | None = None
    #: String value -> ``[count, first event id, messageId]`` while the path is enum-like
    #: (``None``: no string seen, or ``closed``).
    values: dict[str, list[Any]] | None = None
    #: The path's strings proved not enum-like (too many, too long, an address...).
    closed: bool = False


@dataclass(slots=True)
class RawEvent:
    """One call type and event name of a session."""

    type: str
    name: str | None
    count: int = 0
    #: The first three events.
    examples: list[RawExample] = field(default_factory=list)
    #: ``(write key, library name)`` -> ``[count, first event id, messageId]``
    sources: dict[tuple[str | None, str | None], list[Any]] = field(default_factory=dict)
    paths: dict[str, RawPath] = field(default_factory=dict)


@dataclass(slots=True)
class RawProfile:
    """A run of a session's events, profiled with nothing ignored."""

    events: dict[tuple[str, str | None], RawEvent] = field(default_factory=dict)
    total: int = 0
    #: userId shape -> ``[count, first event id, messageId]``
    user_id_shapes: dict[str, list[Any]] = field(default_factory=dict)


def _add_counted(into: dict[Any, list[Any]], later: dict[Any, list[Any]]) -> None:
    """Add ``later``'s ``[count, example...]`` entries to ``into`` (whose examples are
    earlier)."""
    for key, entry in later.items():
        mine = into.get(key)
        if mine is None:
            into[key] = list(entry)
        else:
            mine[0] += entry[0]


def _merge_values(path: RawPath, later: RawPath) -> None:
    if path.closed:
        return
    if later.closed:
        path.closed, path.values = True, None
        return
    if later.values is None:
        return
    if path.values is None:
        path.values = {value: list(entry) for value, entry in later.values.items()}
    else:
        _add_counted(path.values, later.values)
    if len(path.values) > ENUM_MAX_VALUES:  # what one pass would have seen: too many values
        path.closed, path.values = True, None


def _merge_event(event: RawEvent, later: RawEvent) -> None:
    first_earlier = event.examples[0] if event.examples else None
    first_later = later.examples[0] if later.examples else None
    for name, path in event.paths.items():
        if name not in later.paths and path.absent_example is None:
            path.absent_example = first_later  # no later event carries it
    for name, other in later.paths.items():
        found = event.paths.get(name)
        if found is None:
            # No earlier event carried it: the first earlier one is the first without it.
            event.paths[name] = path = RawPath(
                absent_example=first_earlier if first_earlier is not None
                else other.absent_example)
            path.present_example = other.present_example
            path.values = None if other.values is None else {
                value: list(entry) for value, entry in other.values.items()}
            path.closed = other.closed
            path.present = other.present
            path.types = dict(other.types)
            path.type_examples = dict(other.type_examples)
            continue
        path = found
        path.present += other.present
        for type_name, count in other.types.items():
            path.types[type_name] = path.types.get(type_name, 0) + count
            path.type_examples.setdefault(type_name, other.type_examples[type_name])
        if path.present_example is None:
            path.present_example = other.present_example
        if path.absent_example is None:
            path.absent_example = other.absent_example
        _merge_values(path, other)
    event.count += later.count
    event.examples.extend(later.examples[:3 - len(event.examples)])
    _add_counted(event.sources, later.sources)


def merge(earlier: RawProfile, later: RawProfile) -> RawProfile:
    """``earlier`` with ``later`` (events that all came after it) folded in; ``earlier`` is
    changed and returned, ``later`` is left as it was."""
    for key, event in later.events.items():
        mine = earlier.events.get(key)
        if mine is None:
            earlier.events[key] = mine = RawEvent(key[0], key[1])
        _merge_event(mine, event)
    earlier.total += later.total
    _add_counted(earlier.user_id_shapes, later.user_id_shapes)
    return earlier


# ---- the stored form: compact JSON (orjson), one document per session


def encode(profile: RawProfile) -> bytes:
    """The stored form of ``profile``."""
    return orjson.dumps({
        "format": FORMAT, "total": profile.total, "user_id_shapes": profile.user_id_shapes,
        "events": [
            [event.type, event.name, event.count, event.examples,
             [[write_key, library, *entry] for (write_key, library), entry in
              event.sources.items()],
             {name: [path.present, path.types, path.type_examples, path.present_example,
                     path.absent_example, path.values, path.closed]
              for name, path in event.paths.items()}]
            for event in profile.events.values()],
    })


def decode(data: bytes | str) -> RawProfile | None:
    """A profile from its stored form; ``None`` if it is of another :data:`FORMAT`."""
    document = orjson.loads(data)
    if document.get("format") != FORMAT:
        return None
    profile = RawProfile(total=document["total"], user_id_shapes=document["user_id_shapes"])
    for type_, name, count, examples, sources, paths in document["events"]:
        profile.events[(type_, name)] = RawEvent(
            type_, name, count, examples,
            {(write_key, library): entry for write_key, library, *entry in sources},
            {path: RawPath(*fields) for path, fields in paths.items()})
    return profile
