"""What a comparison ignores, and the thresholds its kinds are judged by.

Paths are dotted, with ``[]`` for "any element of an array": ``properties.items[].sku``.
Ignore entries are globs (:func:`fnmatch.fnmatchcase`, where ``*`` also crosses dots); ignoring
an object ignores everything under it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import lru_cache

__all__ = [
    "DEFAULT_IGNORE",
    "DEFAULT_VALUE_IGNORE",
    "ENUM_MAX_LENGTH",
    "ENUM_MAX_VALUES",
    "CompareOptions",
]

#: Fields that differ between any two captures of the same flow (ids, clocks, the client's
#: machine): not compared at all.
DEFAULT_IGNORE: tuple[str, ...] = (
    "messageId", "timestamp", "sentAt", "receivedAt", "originalTimestamp", "writeKey",
    "_metadata", "context.ip", "context.userAgent", "context.userAgentData",
    "context.library.version", "context.page.referrer", "context.page.search",
    "context.instanceId", "context.device.id", "context.device.advertisingId",
)

#: Fields whose presence and type are compared but never their values: identifiers (their
#: values are per person or per order), addresses, and the library (see ``source_changed``).
DEFAULT_VALUE_IGNORE: tuple[str, ...] = (
    "userId", "anonymousId", "groupId", "previousId", "id", "*.id", "*Id", "*_id", "*email",
    "*Email", "*phone", "name", "traits.name", "*first_name", "*last_name", "*firstName",
    "*lastName", "context.library.*", "type", "event",
)

#: A string property is enum-like (its values are compared as a set) while it takes at most
#: this many distinct values...
ENUM_MAX_VALUES = 16
#: ...each at most this long, with no ``@`` (an address) or ``://`` (a URL) in any...
ENUM_MAX_LENGTH = 40
#: ...and the events carrying it outnumber its distinct values at least this many times over
#: (ids that happen to be few still differ on every call: three carts, three values).
ENUM_REPEATS = 2


@dataclass(frozen=True, slots=True)
class CompareOptions:
    """Ignore lists and thresholds; ``ignore`` adds to (never replaces) the defaults unless
    ``defaults`` is false."""

    ignore: Sequence[str] = ()
    value_ignore: Sequence[str] = ()
    defaults: bool = True
    #: A property always sent in the baseline (this share or more) that the candidate sends
    #: less often is an error...
    always_share: float = 0.95
    #: ...and any other drop in share by this much a warning.
    share_drop: float = 0.25
    #: An order of two calls is a person's habit on one side when this share of the people who
    #: made both made them in that order (see ``sequence_changed`` in docs/compare.md).
    dominant_order: float = 0.8
    ignored_globs: tuple[str, ...] = field(init=False)
    value_globs: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        base = DEFAULT_IGNORE if self.defaults else ()
        values = DEFAULT_VALUE_IGNORE if self.defaults else ()
        object.__setattr__(self, "ignored_globs", (*base, *self.ignore))
        object.__setattr__(self, "value_globs", (*values, *self.value_ignore))

    def ignored(self, path: str) -> bool:
        """Whether ``path`` is not compared at all."""
        return _matches(self.ignored_globs, path)

    def values_ignored(self, path: str) -> bool:
        """Whether ``path``'s values are not compared (its presence and type still are)."""
        return _matches(self.value_globs, path)


@lru_cache(maxsize=8192)
def _matches(globs: tuple[str, ...], path: str) -> bool:
    return any(fnmatchcase(path, glob) for glob in globs)
