"""Counts in words."""

from __future__ import annotations

from inspector.core.model import Severity, Source, Violation
from inspector.core.wording import count, problem_summary


def test_plurals() -> None:
    assert [count(n, "event") for n in (0, 1, 2)] == ["0 events", "1 event", "2 events"]
    assert count(2, "match", "matches") == "2 matches"


def test_a_warning_is_called_a_warning() -> None:
    warning = Violation("Unplanned Property", "properties.x", "x", Severity.WARNING,
                        source=Source.PLAN)
    error = Violation("Invalid Type", "properties.price", "y", source=Source.PLAN)
    assert problem_summary([warning]) == "1 warning"
    assert problem_summary([error, error, warning]) == "2 errors, 1 warning"
    assert problem_summary([]) == ""
