"""Findings: what an audit check says about a session, as data.

Like violations, findings are plain values: the store keeps them beside the events, and the
REST API, the CLI, the window and reports only render them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["Finding", "FindingSeverity"]


class FindingSeverity(StrEnum):
    """How much a finding matters: errors fail ``inspector audit``, the rest inform."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for errors, 1 for warnings, 2 for infos (sort order)."""
        return ("error", "warning", "info").index(self.value)


_RANKS = {FindingSeverity.ERROR: 0, FindingSeverity.WARNING: 1, FindingSeverity.INFO: 2}


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a check found, about the events it names.

    ``key`` tells findings of one check apart (a person, a trait, a value): the same key from
    a live run and a from-scratch audit means the same finding. ``event_ids`` are the store's
    ids (for selecting rows), ``message_ids`` Segment's.
    """

    check: str
    severity: FindingSeverity
    message: str
    key: str
    event_ids: tuple[int, ...] = ()
    message_ids: tuple[str, ...] = ()
    person: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    #: How findings are listed: errors first, then by check, first event and key (computed
    #: once here, so sorting a live session's findings needs no Python-level key function).
    order: tuple[int, str, tuple[int, ...], str] = field(
        init=False, repr=False, compare=False, default=(0, "", (), ""))

    def __post_init__(self) -> None:
        object.__setattr__(self, "order", (
            _RANKS[self.severity], self.check, self.event_ids[:1], self.key))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the REST API and ``inspector audit --format json``."""
        return {
            "key": self.key,
            "check": self.check,
            "severity": str(self.severity),
            "message": self.message,
            "message_ids": list(self.message_ids),
            "event_ids": list(self.event_ids),
            "person": self.person,
            "data": dict(self.data),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """Rebuild a finding from :meth:`to_dict` output (findings kept with a session)."""
        return cls(
            check=data["check"], severity=FindingSeverity(data["severity"]),
            message=data["message"], key=data["key"],
            event_ids=tuple(data.get("event_ids", ())),
            message_ids=tuple(data.get("message_ids", ())),
            person=data.get("person"), data=data.get("data", {}),
        )
