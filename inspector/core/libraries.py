"""Segment's official libraries, by the kind of place they run in.

Several layers ask the same question of ``context.library.name`` (did Order Completed come from
the backend? may a browser write ``vip_tier``? does a flow step want a server library?), so the
answer lives here once.
"""

from __future__ import annotations

__all__ = ["LIBRARY_CLASSES", "library_class"]

#: Library names by the kind of source they run in (``context.library.name``).
LIBRARY_CLASSES: dict[str, frozenset[str]] = {
    "server": frozenset({
        "analytics-python", "@segment/analytics-node", "analytics-node", "analytics-ruby",
        "analytics-go", "analytics-java", "analytics-php", "analytics.NET", "analytics-dotnet",
        "analytics-csharp", "analytics-rust",
    }),
    "browser": frozenset({"analytics.js", "analytics-next", "@segment/analytics-next"}),
    "mobile": frozenset({
        "analytics-ios", "analytics-android", "analytics-swift", "analytics-kotlin",
        "analytics-react-native", "@segment/analytics-react-native", "analytics-flutter",
    }),
}

_CLASS_OF = {name: kind for kind, names in LIBRARY_CLASSES.items() for name in names}


def library_class(library_name: str | None) -> str | None:
    """``server``, ``browser`` or ``mobile`` for an official library; ``None`` otherwise."""
    if library_name is None:
        return None
    return _CLASS_OF.get(library_name)
