"""What a comparison finds: kinds of difference, their severities, and one difference.

The severity of each kind is decided in :mod:`inspector.core.compare.diff` and tabled in
``docs/compare.md``; this module only names them and carries the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["Comparison", "Difference", "Example", "Kind", "Severity", "SideInfo"]


class Kind(StrEnum):
    """The kinds of difference between a baseline and a candidate capture."""

    MISSING_EVENT = "missing_event"
    UNEXPECTED_EVENT = "unexpected_event"
    MISSING_PROPERTY = "missing_property"
    UNEXPECTED_PROPERTY = "unexpected_property"
    TYPE_CHANGED = "type_changed"
    VALUES_CHANGED = "values_changed"
    SOURCE_CHANGED = "source_changed"
    IDENTITY_CHANGED = "identity_changed"
    SEQUENCE_CHANGED = "sequence_changed"


class Severity(StrEnum):
    """How bad a difference is: only errors fail ``inspector diff`` (exit 1)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


#: Errors first, then warnings, then infos.
SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True, slots=True)
class Example:
    """One stored event that shows a difference (its store id and messageId)."""

    event_id: int
    message_id: str | None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {"id": self.event_id, "message_id": self.message_id}


@dataclass(frozen=True, slots=True)
class Difference:
    """One way the candidate differs from the baseline.

    ``event`` and ``type`` name the call (``event`` is the track/page/screen name, ``None`` for
    identify, group and alias); ``path`` is the property path (``properties.items[].sku``) or
    ``None``. ``baseline`` and ``candidate`` are JSON values describing each side (shares,
    type shares, value sets, sources, orders), as the kind needs.
    """

    kind: Kind
    severity: Severity
    event: str | None
    type: str | None
    path: str | None
    baseline: Any
    candidate: Any
    message: str
    baseline_examples: tuple[Example, ...] = ()
    candidate_examples: tuple[Example, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form ``inspector diff --format json`` prints."""
        return {
            "kind": str(self.kind), "severity": str(self.severity), "event": self.event,
            "type": self.type, "path": self.path, "baseline": self.baseline,
            "candidate": self.candidate, "message": self.message,
            "examples": {"baseline": [e.to_dict() for e in self.baseline_examples],
                         "candidate": [e.to_dict() for e in self.candidate_examples]},
        }

    @property
    def event_label(self) -> str:
        """The call as a title: ``track Order Completed``, ``identify``."""
        return " ".join(part for part in (self.type, self.event) if part) or "(session)"


@dataclass(frozen=True, slots=True)
class SideInfo:
    """Which capture one side is: a stored session, or a file imported for the comparison."""

    name: str
    session_id: int
    events: int
    #: The NDJSON or HAR file this side was imported from, if it was.
    file: str | None = None
    #: The flow whose run this side was narrowed to (``events`` then counts the run's calls).
    flow: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        data: dict[str, Any] = {"name": self.name, "id": self.session_id, "events": self.events}
        if self.file is not None:
            data["file"] = self.file
        if self.flow is not None:
            data["flow"] = self.flow
        return data


@dataclass(frozen=True, slots=True)
class Comparison:
    """The differences between two captures, errors first."""

    baseline: SideInfo
    candidate: SideInfo
    differences: tuple[Difference, ...] = field(default_factory=tuple)

    @property
    def has_errors(self) -> bool:
        """Whether any difference is an error (``inspector diff`` then exits 1)."""
        return any(d.severity is Severity.ERROR for d in self.differences)

    def counts(self) -> dict[str, int]:
        """Differences per severity."""
        return {str(s): sum(1 for d in self.differences if d.severity is s) for s in Severity}

    def to_dict(self) -> dict[str, Any]:
        """``{"baseline", "candidate", "differences"}``, as ``--format json`` prints it."""
        return {"baseline": self.baseline.to_dict(), "candidate": self.candidate.to_dict(),
                "differences": [d.to_dict() for d in self.differences]}
