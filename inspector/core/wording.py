"""Counts in words, as every message of the window and the command line says them."""

from __future__ import annotations

from collections.abc import Iterable

from inspector.core.model import Severity, Violation

__all__ = ["count", "problem_summary"]


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``1 event``, ``2 events``, ``0 events`` (``plural`` for irregular words)."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def problem_summary(violations: Iterable[Violation]) -> str:
    """``1 error``, ``2 errors, 1 warning``, ``""`` for none: a warning is never called a
    violation of the event (it does not make it invalid)."""
    errors = warnings = 0
    for violation in violations:
        if violation.severity == Severity.WARNING:
            warnings += 1
        else:
            errors += 1
    parts = [count(errors, "error")] if errors else []
    if warnings:
        parts.append(count(warnings, "warning"))
    return ", ".join(parts)
