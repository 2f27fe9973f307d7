"""A session's profile: per call type and event name, which paths its events carry, with
which types, which values (for enum-like strings) and from which sources.

Built in one pass over the session's rows (payload text parsed with orjson, no row kept), with
memory bounded by the number of distinct *shapes*, not events: each event is reduced to a
hashable signature of its structure (keys and value types per object, element shapes per
array), and a shape seen a thousand times is one counter. Only at the end are the shapes
expanded into per-path counts. Nodes (one object layout at one path) are compiled once and
cached, so the per-event work is a few tuple builds and dict lookups per object in the
payload; string values are only looked at for paths that are still enum-like (see
:mod:`inspector.core.compare.options`), which ids and URLs stop being after a few calls.

The pass ignores nothing and names no source: it builds a
:class:`~inspector.core.compare.raw.RawProfile`, the form kept with each session and merged
batch by batch in the background (:mod:`inspector.core.compare.stored`). A comparison reads
the stored profile, folds in the events above its watermark, and only then applies its ignore
lists and the write keys' names (:func:`view`).
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
from inspector.core.compare.raw import RawEvent, RawPath, RawProfile, merge
from inspector.core.gc_tuning import collector_paused
from inspector.core.libraries import library_class as official_class
from inspector.core.observed import source_of
from inspector.core.store.reader import CallRow, EventReader

__all__ = ["EventKey", "EventProfile", "PathProfile", "SessionProfile", "build_profile",
           "fold_rows", "library_class", "profile_rows", "user_id_shape", "view"]

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
        if not self.open:
            return
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
        #: ``(path, type name)`` of every key.
        self.leaves = leaves
        #: ``(value index, child prefix id, is an array, element path)`` of containers.
        self.nested = nested
        #: ``(value index, stats)`` of enum-candidate strings.
        self.strings = strings


class _KeyState:
    """What the builder keeps of one event key until :meth:`_Builder.finish`."""

    __slots__ = ("event", "root", "shapes", "value_stats")

    def __init__(self, event: RawEvent, root: int) -> None:
        self.event = event
        self.root = root
        #: signature -> [count, first event id, messageId]
        self.shapes: dict[Any, list[Any]] = {}
        self.value_stats: dict[str, ValueStats] = {}


class _Builder:
    """Folds rows into a :class:`~inspector.core.compare.raw.RawProfile`."""

    def __init__(self) -> None:
        self.profile = RawProfile()
        #: ``(prefix id, *keys, *their value types)`` -> the compiled layout
        self._cache: dict[tuple[Any, ...], _Node] = {}
        self._nodes: list[_Node] = []
        #: prefix id -> (key state, path); a prefix is one path of one event key.
        self._prefixes: list[tuple[_KeyState, str]] = []
        self._prefix_ids: dict[tuple[str, str | None, str], int] = {}
        self._keys: dict[EventKey, _KeyState] = {}
        self._event: tuple[int, str | None] = (0, None)
        self._sign = self._make_signer()

    def _prefix(self, state: _KeyState, path: str) -> int:
        """The id of ``path`` under ``state``'s key (one per path, however many layouts lead
        to it)."""
        key = (state.event.type, state.event.name, path)
        found = self._prefix_ids.get(key)
        if found is None:
            found = self._prefix_ids[key] = len(self._prefixes)
            self._prefixes.append((state, path))
        return found

    def add(self, row: CallRow) -> None:
        """Fold one event in."""
        # Unpacked once: a named tuple's attributes cost a lookup each.
        event_id, _, write_key, type_, name, user_id, _, message_id, text = row
        type_ = type_ or "?"
        key = (type_, name if type_ in _NAMED_TYPES else None)
        state = self._keys.get(key)
        if state is None:
            state = self._key_state(key)
        event = state.event
        self._event = example = (event_id, message_id)
        event.count += 1
        if len(event.examples) < 3:
            event.examples.append([event_id, message_id])
        self.profile.total += 1
        try:
            payload = orjson.loads(text) if text is not None else None
        except orjson.JSONDecodeError:
            payload = None
        if type(payload) is not dict:
            payload = {}
        try:
            signature = self._sign(payload, state.root)
        except RecursionError:
            # Nested deeper than Python's stack (orjson parses up to 1,024 levels): counted
            # as a call with nothing in it, rather than ending the pass (or the builder).
            payload = {}
            signature = self._sign(payload, state.root)
        shape = state.shapes.get(signature)
        if shape is None:
            state.shapes[signature] = [1, *example]
        else:
            shape[0] += 1
        context = payload.get("context")
        library = context.get("library") if type(context) is dict else None
        library_name = library.get("name") if type(library) is dict else None
        source = (write_key, library_name if type(library_name) is str and library_name
                  else None)
        counted = event.sources.get(source)
        if counted is None:
            event.sources[source] = [1, *example]
        else:
            counted[0] += 1
        if user_id:
            shape_name = user_id_shape(user_id)
            seen = self.profile.user_id_shapes.get(shape_name)
            if seen is None:
                self.profile.user_id_shapes[shape_name] = [1, *example]
            else:
                seen[0] += 1

    def _key_state(self, key: EventKey) -> _KeyState:
        event = RawEvent(*key)
        self.profile.events[key] = event
        state = self._keys[key] = _KeyState(event, 0)
        state.root = self._prefix(state, "")
        return state

    def _make_signer(self) -> Callable[[dict[str, Any], int], Any]:
        """The per-object signature function, with everything it reads bound locally (it runs
        for every object of every event: attribute lookups were a third of its time)."""
        cache_get = self._cache.get
        compile_node = self._compile
        builder = self

        def sign(node: dict[str, Any], prefix: int) -> Any:
            values = tuple(node.values())
            # One flat tuple (prefix, keys..., their value types...): one build, one hash.
            cache_key = (prefix, *node, *map(type, values))
            compiled = cache_get(cache_key)
            if compiled is None:
                compiled = compile_node(cache_key)
            strings = compiled.strings
            if strings:
                prune = False
                for index, stats in strings:
                    # A value seen before is only counted (inline: most are, and a call per
                    # string was a fifth of the pass).
                    entry = stats.values.get(values[index])
                    if entry is not None:
                        entry[0] += 1
                        continue
                    stats.add(values[index], builder._event)
                    if not stats.open:  # now, or already (then by another layout)
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

    def _compile(self, cache_key: tuple[Any, ...]) -> _Node:
        prefix = cache_key[0]
        half = (len(cache_key) - 1) // 2
        keys, types = cache_key[1:1 + half], cache_key[1 + half:]
        state, base = self._prefixes[prefix]
        leaves = []
        nested = []
        strings = []
        for index, (key, kind) in enumerate(zip(keys, types, strict=True)):
            path = f"{base}.{key}" if base else str(key)
            leaves.append((path, _TYPE_NAMES.get(kind, "string")))
            if kind is dict:
                nested.append((index, self._prefix(state, path), False, path))
            elif kind is list:
                element = f"{path}[]"
                nested.append((index, self._prefix(state, element), True, element))
            elif kind is str:
                stats = state.value_stats.get(path)
                if stats is None:
                    stats = state.value_stats[path] = ValueStats()
                strings.append((index, stats))
        compiled = _Node(len(self._nodes), tuple(leaves), tuple(nested), tuple(strings))
        self._nodes.append(compiled)
        self._cache[cache_key] = compiled
        return compiled

    # ---- expansion, once per distinct shape

    def finish(self) -> RawProfile:
        """Expand every shape into per-path counts."""
        for state in self._keys.values():
            self._finish_key(state)
        return self.profile

    def _finish_key(self, state: _KeyState) -> None:
        expanded: list[tuple[set[tuple[str, str]], int, list[Any]]] = []
        for signature, (count, event_id, message_id) in state.shapes.items():
            found: set[tuple[str, str]] = set()
            self._expand(signature, found)
            expanded.append((found, count, [event_id, message_id]))
        paths: dict[str, RawPath] = {}
        for found, count, example in expanded:
            carried = set()
            for path, type_name in found:
                profile = paths.get(path)
                if profile is None:
                    profile = paths[path] = RawPath(present_example=example)
                if path not in carried:
                    carried.add(path)
                    profile.present += count
                profile.types[type_name] = profile.types.get(type_name, 0) + count
                profile.type_examples.setdefault(type_name, example)
        # Shapes are in the order of their first events: the first shape without a path
        # holds the first event without it.
        for found, _, example in expanded:
            carried_paths = {path for path, _ in found}
            for path, profile in paths.items():
                if profile.absent_example is None and path not in carried_paths:
                    profile.absent_example = example
        for path, stats in state.value_stats.items():
            profile = paths.get(path)
            if profile is None:
                continue
            if stats.open:
                profile.values = stats.values
            else:
                profile.closed = True
        state.event.paths = paths
        state.shapes = {}  # no longer needed: the paths say it all
        state.value_stats = {}

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


def profile_rows(rows: Iterable[CallRow]) -> RawProfile:
    """The raw profile of ``rows`` (stored rows in id order)."""
    builder = _Builder()
    with collector_paused():
        for row in rows:
            builder.add(row)
    return builder.finish()


# ---- what a comparison reads: the raw profile with its options applied


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


def _example(raw: list[Any] | None) -> Example | None:
    return None if raw is None else Example(raw[0], raw[1])


def _ignored(path: str, paths: Collection[str], options: CompareOptions) -> bool:
    """Whether ``path`` is left out: it or an object or array it is under is ignored.

    Array element paths (``items[]``) are not matched themselves (their array is), and only
    ancestors that are paths of the event count (a key with a dot in it has none).
    """
    if not path.endswith("[]") and options.ignored(path):
        return True
    cut = len(path)
    while True:
        if path.endswith("[]", 0, cut):
            cut -= 2
        else:
            cut = path.rfind(".", 0, cut)
            if cut < 0:
                return False
        parent = path[:cut]
        if parent in paths and options.ignored(parent):
            return True


def _view_path(path: str, raw: RawPath, options: CompareOptions) -> PathProfile:
    profile = PathProfile(
        path, raw.present, dict(raw.types),
        {name: Example(*example) for name, example in raw.type_examples.items()},
        _example(raw.present_example), _example(raw.absent_example))
    if (raw.values and not raw.closed and not options.values_ignored(path)
            and len(raw.values) * ENUM_REPEATS <= raw.present):
        profile.values = {value: (count, Example(event_id, message_id))
                          for value, (count, event_id, message_id) in raw.values.items()}
    return profile


def view(raw: RawProfile, options: CompareOptions,
         write_key_names: Mapping[str, str]) -> SessionProfile:
    """What a comparison under ``options`` reads of ``raw``: ignored paths left out, values
    of value-ignored paths dropped, sources named."""
    profile = SessionProfile(total=raw.total, user_id_shapes=raw.user_id_shapes)
    named: dict[tuple[str | None, str | None], tuple[str, str]] = {}
    for key, event in raw.events.items():
        viewed = profile.events[key] = EventProfile(
            key, event.count, [Example(*example) for example in event.examples])
        # In the order of their first calls, as one pass over the events meets them.
        for source, (count, event_id, message_id) in sorted(
                event.sources.items(), key=lambda item: item[1][1]):
            name = named.get(source)
            if name is None:
                name = named[source] = (library_class(source[1]),
                                        source_of(source[0], source[1], write_key_names))
            entry = viewed.sources.get(name)
            if entry is None:
                viewed.sources[name] = [count, event_id, message_id]
            else:
                entry[0] += count
        paths = event.paths
        viewed.paths = {path: _view_path(path, stats, options) for path, stats in paths.items()
                        if not _ignored(path, paths, options)}
    return profile


def fold_rows(rows: Iterable[CallRow], options: CompareOptions,
              write_key_names: Mapping[str, str]) -> SessionProfile:
    """A profile of ``rows`` (any iterable of stored rows, e.g. for tests)."""
    return view(profile_rows(rows), options, write_key_names)


def build_profile(reader: EventReader, session_id: int, options: CompareOptions | None = None,
                  *, event_ids: Collection[int] | None = None,
                  stored: bool = True) -> SessionProfile:
    """The profile of a stored session, or of the events ``event_ids`` of it only (a flow
    run's, say).

    A whole session's starts from the profile kept with it (:mod:`.stored`), if any, and
    profiles only the events above its watermark; ``stored=False``, or a subset of events,
    profiles every event in one pass in id order. The two give the same profile.
    """
    options = options or CompareOptions()
    names = reader.write_key_names()
    if event_ids is not None:
        wanted = frozenset(event_ids)
        return fold_rows((row for row in reader.iter_call_rows(session_id)
                          if row.id in wanted), options, names)
    from inspector.core.compare.stored import load_profile

    kept = load_profile(reader, session_id) if stored else None
    if kept is None:
        return fold_rows(reader.iter_call_rows(session_id), options, names)
    upto, raw = kept
    tail = profile_rows(reader.iter_call_rows(session_id, after_id=upto))
    return view(merge(raw, tail), options, names)
