"""Near-miss suggestions: "did you mean `Order Completed`?".

Segment matches names exactly ("casing, spacing and spelling matter"), so a near miss is an
unplanned event or property. To point at the intended name, candidates are tried in order of
confidence, and the first step that finds exactly one candidate wins:

1. the same name ignoring case, spacing, ``_``/``-`` and camelCase (``orderId``/``order_id``);
2. the same words in another order (``Completed Order`` / ``Order Completed``);
3. a close spelling of the whole name (difflib ratio >= 0.8, ``Oder Completed``);
4. one name's words contained in the other's (``cart_total`` / ``total``).
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Collection

from inspector.core.model import Violation, ViolationKind

__all__ = ["Suggester", "advice", "words"]

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[^0-9a-zA-Z]+")


def words(name: str) -> tuple[str, ...]:
    """The lower-case words of a name, splitting on punctuation, spaces and camelCase."""
    return tuple(part.lower() for part in _SEPARATORS.split(_CAMEL.sub(" ", name)) if part)


class Suggester:
    """Finds the planned name a misspelt one was probably meant to be; results are cached.

    Thread-safe: the index is immutable after construction and ``functools.lru_cache`` locks.
    """

    def __init__(self, candidates: Collection[str], *, cache_size: int = 4096) -> None:
        self._candidates = tuple(dict.fromkeys(candidates))
        self._set = frozenset(self._candidates)
        self._words = {name: words(name) for name in self._candidates}
        self._cached: Callable[[str], str | None] = functools.lru_cache(maxsize=cache_size)(
            self._suggest
        )
        self._cached_excluding: Callable[[str, frozenset[str]], str | None] = (
            functools.lru_cache(maxsize=cache_size)(self._suggest_excluding)
        )

    def suggest(self, name: str, *, exclude: Collection[str] = ()) -> str | None:
        """The best candidate for ``name``, or None; ``exclude`` names are never suggested."""
        if exclude:
            # Only excluded *candidates* change the answer, so that is the cache key. This is
            # the usual case on the ingest path (an unplanned property next to planned ones),
            # and uncached it ran difflib for every unplanned property of every event: a plan
            # whose events carry a few unplanned properties cost the capture endpoint 3/4 of
            # its throughput.
            excluded = self._set.intersection(exclude)
            if excluded:
                return self._cached_excluding(name, excluded)
        return self._cached(name)

    def _suggest(self, name: str) -> str | None:
        return _best(name, self._candidates, self._words)

    def _suggest_excluding(self, name: str, excluded: frozenset[str]) -> str | None:
        pool = [c for c in self._candidates if c not in excluded]
        return _best(name, pool, self._words)


def _best(name: str, pool: Collection[str], index: dict[str, tuple[str, ...]]) -> str | None:
    pool = [candidate for candidate in pool if candidate != name]
    if not pool:
        return None
    target = words(name)
    joined = "".join(target)
    steps: list[Callable[[tuple[str, ...]], bool]] = [
        lambda w: "".join(w) == joined,
        lambda w: sorted(w) == sorted(target),
    ]
    for step in steps:
        found = [candidate for candidate in pool if step(index[candidate])]
        if len(found) == 1:
            return found[0]
    by_joined = {"".join(index[candidate]): candidate for candidate in pool}
    close = difflib.get_close_matches(joined, list(by_joined), n=2, cutoff=0.8)
    if close:
        return by_joined[close[0]]
    target_set = set(target)
    found = [
        candidate
        for candidate in pool
        if index[candidate]
        and (set(index[candidate]) <= target_set or target_set <= set(index[candidate]))
    ]
    return found[0] if len(found) == 1 else None


_EXPECTED = re.compile(r"Expected: (\[[^\]]*\]|\S+)")
_ARTICLES = {"integer": "an integer", "object": "an object", "array": "an array",
             "null": "null"}


def _a(type_name: str) -> str:
    return _ARTICLES.get(type_name, f"a {type_name}")


def advice(violation: Violation) -> str:
    """What to change, in a few words, for the window's problem list: the near-miss name
    (``did you mean `Order Completed`?``), what to send for a wrong type (``send a number``),
    what to add for a missing field (``add `order_id` to `properties```); ``""`` when there is
    nothing more to say than the message."""
    if violation.suggestion:
        return f"did you mean `{violation.suggestion}`?"
    kind = str(violation.kind)
    if kind == ViolationKind.REQUIRED and violation.field:
        parent, _, name = violation.field.rpartition(".")
        return f"add `{name}` to `{parent}`" if parent else f"add `{name}`"
    if kind == ViolationKind.INVALID_TYPE:
        found = _EXPECTED.search(violation.message)
        if found:
            types = [t for t in found.group(1).strip("[]").split(",") if t]
            if types:
                return "send " + " or ".join(_a(t) for t in types)
    return ""
