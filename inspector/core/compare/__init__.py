"""Compare two captures (a baseline and a candidate): missing and new events and properties,
type and value changes, sources, identity and the order of calls per person.

Qt-free. The entry point is :func:`compare` over two :class:`Side` objects
(:func:`open_side` makes one from a session name, id or NDJSON/HAR file); the result is a
:class:`Comparison` of :class:`Difference` objects, rendered by :mod:`.report`. Kinds and
severities are documented in ``docs/compare.md`` and :mod:`.diff`.
"""

from inspector.core.compare.engine import Side, compare
from inspector.core.compare.model import Comparison, Difference, Example, Kind, Severity, SideInfo
from inspector.core.compare.options import DEFAULT_IGNORE, DEFAULT_VALUE_IGNORE, CompareOptions
from inspector.core.compare.sides import SideError, open_side

__all__ = [
    "DEFAULT_IGNORE",
    "DEFAULT_VALUE_IGNORE",
    "CompareOptions",
    "Comparison",
    "Difference",
    "Example",
    "Kind",
    "Severity",
    "Side",
    "SideError",
    "SideInfo",
    "compare",
    "open_side",
]
