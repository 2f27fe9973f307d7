"""A session's profile: per call type and event name, which paths its events carry, with
which types, which values (for enum-like strings) and from which sources.

Built in one pass over the session's rows (payload text parsed with orjson, no row kept), with
memory bounded by the number of distinct *shapes*, not events: each event is reduced to a
hashable signature of its structure (keys and value types per object, element shapes per
array, ignored paths left out), and a shape seen a thousand times is one counter. Only at the
end are the shapes expanded into per-path counts. Nodes (one object layout at one path) are
compiled once and cached, so the per-event work is a few tuple builds and dict lookups per
object in the payload; string values are only looked at for paths that are still enum-like
(see :mod:`inspector.core.compare.options`), which ids and URLs stop being after a few calls.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from inspector.core.compare.model import Example
from inspector.core.compare.options import (
    ENUM_MAX_LENGTH,
    ENUM_MAX_VALUES,
    ENUM_REPEATS,
    CompareOptions,
)
from inspector.core.gc_tuning import collector_paused
from inspector.core.libraries import library_class as official_class
from inspector.core.observed import source_of
from inspector.core.store.reader import CallRow, EventReader

__all__ = ["EventKey", "EventProfile", "PathProfile", "SessionProfile", "build_profile",
           "library_class", "user_id_shape"]

#: ``(call type, event name)``; the name is ``None`` for identify, group and alias.
EventKey = tuple[str, str | None]

#: Call types whose calls are told apart by name.
_NAMED_TYPES = frozenset({"track", "page", "screen"})

_TYPE_NAMES: dict[type, str] = {
    str: "string", int: "number", float: "number", bool: "boolean", type(None): "null",
    dict: "object", list: "array",
}
#: First element of an array's signature (node ids are never negative).
_LIST = -1
#: An empty object or array in a signature.
_EMPTY = -2
#: Array elements looked at per array: their shapes repeat.
_LIST_SAMPLE = 64

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                   r"[0-9a-fA-F]{12}$")
_PREFIXED = re.compile(r"^[A-Za-z]+[_\-:][A-Za-z0-9_\-]+$")


def user_id_shape(user_id: str) -> str:
    """What a userId looks like: ``numeric``, ``uuid``, ``email``, ``prefixed`` (``usr_12``)
    or ``other``: a change of shape between releases splits every person in Customer.io."""
    if user_id.isdecimal():
        return "numeric"
    if "@" in user_id:
        return "email"
    if _UUID.match(user_id):
        return "uuid"
    if _PREFIXED.match(user_id):
        return "prefixed"
    return "other"


def library_class(library_name: str | None) -> str:
    """``server``, ``browser`` or ``mobile`` for an official library, else ``other``."""
    return official_class(library_name) or "other"


class ValueStats:
    """The distinct values of one string path, while it is still enum-like."""

    __slots__ = ("open", "values")

    def __init__(self) -> None:
        #: False once the path proved not enum-like (too many, too long, an address...).
        self.open = True
        #: value -> [count, first event id, its messageId]
        self.values: dict[str, list[Any]] = {}

    def add(self, value: str, event: tuple[int, str | None]) -> None:
        """Count one value (from ``event``)."""
        entry = self.values.get(value)
        if entry is not None:
            entry[0] += 1
            return
        if (len(self.values) >= ENUM_MAX_VALUES or len(value) > ENUM_MAX_LENGTH
                or "@" in value or "://" in value):
            self.open = False
            self.values.clear()
            return
        self.values[value] = [1, *event]


class _Node:
    """One object layout (keys and value types) at one path of one event key, compiled."""

    __slots__ = ("id", "leaves", "nested", "strings")

    def __init__(self, id: int, leaves: tuple[tuple[str, str], ...],
                 nested: tuple[tuple[int, int, bool, str], ...],
                 strings: tuple[tuple[int, ValueStats], ...]) -> None:
        self.id = id
        #: ``(path, type name)`` of every kept key.
        self.leaves = leaves
        #: ``(value index, child prefix id, is an array, element path)`` of kept containers.
        self.nested = nested
        #: ``(value index, stats)`` of kept enum-candidate strings.
        self.strings = strings


@dataclass(slots=True)
class PathProfile:
    """How the events of one key carry one path."""

    path: str
    #: Events carrying the path (at least once).
    present: int = 0
    #: Events per JSON type found at the path (an event can count under two, in an array).
    types: dict[str, int] = field(default_factory=dict)
    type_examples: dict[str, Example] = field(default_factory=dict)
    present_example: Example | None = None
    absent_example: Example | None = None
    #: value -> (count, example) when enum-like; ``None`` when not (or not a string).
    values: dict[str, tuple[int, Example]] | None = None


@dataclass(slots=True)
class EventProfile:
    """Everything the comparison reads of one event key in one session."""

    key: EventKey
    count: int = 0
    examples: list[Example] = field(default_factory=list)
    #: ``(library class, source name)`` -> [count, first event id, messageId]
    sources: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    #: signature -> [count, first event id, messageId]
    shapes: dict[Any, list[Any]] = field(default_factory=dict)
    value_stats: dict[str, ValueStats] = field(default_factory=dict)
    #: Filled by :meth:`SessionProfile.finish`.
    paths: dict[str, PathProfile] = field(default_factory=dict)

    def share(self, path: str) -> float:
        """The share of this key's events that carry ``path``."""
        profile = self.paths.get(path)
        return profile.present / self.count if profile and self.count else 0.0


@dataclass(slots=True)
class SessionProfile:
    """A session's events, reduced to what two sessions are compared on."""

    events: dict[EventKey, EventProfile] = field(default_factory=dict)
    total: int = 0
    #: userId shape -> [count, first event id, messageId]
    user_id_shapes: dict[str, list[Any]] = field(default_factory=dict)


class _Builder:
    """Folds rows into a :class:`SessionProfile`."""

    def __init__(self, options: CompareOptions, write_key_names: Mapping[str, str]) -> None:
        self.options = options
        self.names = write_key_names
        self.profile = SessionProfile()
        self._cache: dict[tuple[int, tuple[str, ...], tuple[type, ...]], _Node] = {}
        self._nodes: list[_Node] = []
        #: prefix id -> (event profile, path); a prefix is one path of one event key.
        self._prefixes: list[tuple[EventProfile, str]] = []
        self._prefix_ids: dict[tuple[EventKey, str], int] = {}
        self._roots: dict[EventKey, tuple[EventProfile, int]] = {}
        self._sources: dict[tuple[str | None, str | None], tuple[str, str]] = {}
        self._event: tuple[int, str | None] = (0, None)
        self._sign = self._make_signer()

    def _prefix(self, event: EventProfile, path: str) -> int:
        key = (event.key, path)
        found = self._prefix_ids.get(key)
        if found is None:
            found = self._prefix_ids[key] = len(self._prefixes)
            self._prefixes.append((event, path))
        return found

    def add(self, row: CallRow) -> None:
        """Fold one event in."""
        type_ = row.type or "?"
        key = (type_, row.name if type_ in _NAMED_TYPES else None)
        root = self._roots.get(key)
        if root is None:
            event = EventProfile(key)
            self.profile.events[key] = event
            root = self._roots[key] = (event, self._prefix(event, ""))
        event, prefix = root
        self._event = example = (row.id, row.message_id)
        event.count += 1
        if len(event.examples) < 3:
            event.examples.append(Example(*example))
        self.profile.total += 1
        try:
            payload = orjson.loads(row.payload) if row.payload is not None else None
        except orjson.JSONDecodeError:
            payload = None
        if type(payload) is not dict:
            payload = {}
        signature = self._sign(payload, prefix)
        shape = event.shapes.get(signature)
        if shape is None:
            event.shapes[signature] = [1, *example]
        else:
            shape[0] += 1
        self._count_source(event, row.write_key, payload)
        if row.user_id:
            shape_name = user_id_shape(row.user_id)
            seen = self.profile.user_id_shapes.get(shape_name)
            if seen is None:
                self.profile.user_id_shapes[shape_name] = [1, *example]
            else:
                seen[0] += 1

    def _count_source(self, event: EventProfile, write_key: str | None,
                      payload: dict[str, Any]) -> None:
        context = payload.get("context")
        library = context.get("library") if type(context) is dict else None
        name = library.get("name") if type(library) is dict else None
        library_name = name if type(name) is str and name else None
        cached = self._sources.get((write_key, library_name))
        if cached is None:
            cached = self._sources[(write_key, library_name)] = (
                library_class(library_name), source_of(write_key, library_name, self.names))
        counted = event.sources.get(cached)
        if counted is None:
            event.sources[cached] = [1, *self._event]
        else:
            counted[0] += 1

    def _make_signer(self) -> Callable[[dict[str, Any], int], Any]:
        """The per-object signature function, with everything it reads bound locally (it runs
        for every object of every event: attribute lookups were a third of its time)."""
        cache_get = self._cache.get
        compile_node = self._compile
        builder = self

        def sign(node: dict[str, Any], prefix: int) -> Any:
            values = tuple(node.values())
            cache_key = (prefix, tuple(node), tuple(map(type, values)))
            compiled = cache_get(cache_key)
            if compiled is None:
                compiled = compile_node(cache_key)
            strings = compiled.strings
            if strings:
                prune = False
                event = builder._event
                for index, stats in strings:
                    if stats.open:
                        stats.add(values[index], event)
                    else:
                        prune = True
                if prune:  # a path that stopped being enum-like costs nothing from now on
                    compiled.strings = tuple(item for item in strings if item[1].open)
            nested = compiled.nested
            if not nested:
                return compiled.id
            parts: list[Any] = [compiled.id]
            for index, child, is_list, _ in nested:
                value = values[index]
                if not value:  # {} or []: nothing below
                    parts.append(_EMPTY)
                elif is_list:
                    objects = []
                    scalars = set()
                    for item in value[:_LIST_SAMPLE]:
                        kind = type(item)
                        if kind is dict:
                            objects.append(sign(item, child))
                        else:
                            scalars.add(kind)
                    parts.append((_LIST, frozenset(objects), frozenset(scalars)))
                else:
                    parts.append(sign(value, child))
            return tuple(parts)

        return sign

    def _compile(self, cache_key: tuple[int, tuple[str, ...], tuple[type, ...]]) -> _Node:
        prefix, keys, types = cache_key
        event, base = self._prefixes[prefix]
        leaves = []
        nested = []
        strings = []
        options = self.options
        for index, (key, kind) in enumerate(zip(keys, types, strict=True)):
            path = f"{base}.{key}" if base else str(key)
            if options.ignored(path):
                continue
            leaves.append((path, _TYPE_NAMES.get(kind, "string")))
            if kind is dict:
                nested.append((index, self._prefix(event, path), False, path))
            elif kind is list:
                element = f"{path}[]"
                nested.append((index, self._prefix(event, element), True, element))
            elif kind is str and not options.values_ignored(path):
                stats = event.value_stats.get(path)
                if stats is None:
                    stats = event.value_stats[path] = ValueStats()
                strings.append((index, stats))
        compiled = _Node(len(self._nodes), tuple(leaves), tuple(nested), tuple(strings))
        self._nodes.append(compiled)
        self._cache[cache_key] = compiled
        return compiled

    # ---- expansion, once per distinct shape

    def finish(self) -> SessionProfile:
        """Expand every shape into per-path counts."""
        for event in self.profile.events.values():
            self._finish_event(event)
        return self.profile

    def _finish_event(self, event: EventProfile) -> None:
        expanded: list[tuple[set[tuple[str, str]], list[Any]]] = []
        for signature, (count, event_id, message_id) in event.shapes.items():
            found: set[tuple[str, str]] = set()
            self._expand(signature, found)
            expanded.append((found, [count, Example(event_id, message_id)]))
        paths: dict[str, PathProfile] = {}
        for found, (count, example) in expanded:
            carried = set()
            for path, type_name in found:
                profile = paths.get(path)
                if profile is None:
                    profile = paths[path] = PathProfile(path, present_example=example)
                if path not in carried:
                    carried.add(path)
                    profile.present += count
                profile.types[type_name] = profile.types.get(type_name, 0) + count
                profile.type_examples.setdefault(type_name, example)
        for found, (_, example) in expanded:
            carried_paths = {path for path, _ in found}
            for path, profile in paths.items():
                if profile.absent_example is None and path not in carried_paths:
                    profile.absent_example = example
        for path, stats in event.value_stats.items():
            profile = paths.get(path)
            if (profile is None or not stats.open or not stats.values
                    or len(stats.values) * ENUM_REPEATS > profile.present):
                continue
            profile.values = {value: (count, Example(event_id, message_id))
                              for value, (count, event_id, message_id) in stats.values.items()}
        event.paths = paths
        event.shapes.clear()  # no longer needed: the paths say it all
        event.value_stats.clear()

    def _expand(self, signature: Any, found: set[tuple[str, str]]) -> None:
        if type(signature) is int:
            found.update(self._nodes[signature].leaves)
            return
        node = self._nodes[signature[0]]
        found.update(node.leaves)
        for child, (_, _, is_list, element) in zip(signature[1:], node.nested, strict=True):
            if child is _EMPTY:  # an empty object or array (the int -2, interned)
                continue
            if not is_list:
                self._expand(child, found)
                continue
            _, objects, scalars = child
            for kind in scalars:
                found.add((element, _TYPE_NAMES.get(kind, "string")))
            if objects:
                found.add((element, "object"))
            for item in objects:
                self._expand(item, found)


def fold_rows(rows: Iterable[CallRow], options: CompareOptions,
              write_key_names: Mapping[str, str]) -> SessionProfile:
    """A profile of ``rows`` (any iterable of stored rows, e.g. for tests)."""
    builder = _Builder(options, write_key_names)
    with collector_paused():
        for row in rows:
            builder.add(row)
    return builder.finish()


def build_profile(reader: EventReader, session_id: int, options: CompareOptions | None = None,
                  *, event_ids: Collection[int] | None = None) -> SessionProfile:
    """The profile of a stored session, or of the events ``event_ids`` of it only (a flow
    run's, say): one pass over its rows in id order."""
    rows: Iterable[CallRow] = reader.iter_call_rows(session_id)
    if event_ids is not None:
        wanted = frozenset(event_ids)
        rows = (row for row in rows if row.id in wanted)
    return fold_rows(rows, options or CompareOptions(), reader.write_key_names())
