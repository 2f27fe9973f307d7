"""An event's pretty JSON with its offending fields marked, line by line, as the window's
detail pane marks them (:mod:`inspector.core.pretty` lays both out the same way)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from inspector.core.audit import Finding
from inspector.core.model import Severity, Status, Violation
from inspector.core.palette import as_status
from inspector.core.pretty import PrettyJson, field_path, pretty_json
from inspector.core.report.model import JsonLine

__all__ = ["finding_fields", "finding_lines", "violation_highlight", "violation_lines"]


def violation_highlight(violation: Violation, status: Status | str) -> str:
    """The colour class of a violation: a warning's own, else the event's status (invalid's
    for an event that is valid anyway), as :func:`inspector.core.palette.severity_hex`."""
    if violation.severity == Severity.WARNING:
        return "warning"
    chosen = as_status(status)
    return str(Status.INVALID if chosen is Status.VALID else chosen)


def violation_lines(payload: Any, violations: Iterable[Violation],
                    status: Status | str) -> list[JsonLine]:
    """``payload`` as pretty JSON lines, each violation's field marked in its colour (a
    missing field: its parent's first line); errors win a line they share with a warning."""
    ordered = sorted(violations, key=lambda v: v.severity == Severity.WARNING)
    return _lines(_pretty(payload), [(v.field, violation_highlight(v, status)) for v in ordered])


def finding_lines(payload: Any, finding: Finding) -> list[JsonLine]:
    """``payload`` as pretty JSON lines with the fields ``finding`` names marked (those the
    payload holds; if it holds none, the first one's nearest parent)."""
    highlight = "warning" if finding.severity == "warning" else str(Status.INVALID)
    fields = finding_fields(finding)
    pretty = _pretty(payload)
    present = [name for name in fields if field_path(name) in pretty.spans]
    return _lines(pretty, [(name, highlight) for name in present or fields[:1]])


def _pretty(payload: Any) -> PrettyJson:
    return pretty_json(payload if payload is not None else {})


def _lines(pretty: PrettyJson, marks: list[tuple[str, str]]) -> list[JsonLine]:
    """Mark each ``(field, highlight)`` (a missing field: its nearest parent's first line)."""
    chosen: dict[int, str] = {}
    for field_name, highlight in marks:
        span = pretty.span_for(field_name)
        if span is None:
            continue
        for line in range(span[0], span[1] + 1):
            chosen.setdefault(line, highlight)
    return [JsonLine(text, chosen.get(number))
            for number, text in enumerate(pretty.text.split("\n"))]


def finding_fields(finding: Finding) -> list[str]:
    """The payload fields a finding is about, where its data names one (drift and item
    checks name a property path, trait checks a trait); empty when it is about the calls as
    a whole (identity, order)."""
    data = finding.data
    fields: list[str] = []
    named = data.get("field")
    if isinstance(named, str) and named:
        fields.append(named)
    path = data.get("path")
    if isinstance(path, str) and path:
        # Property paths are written relative to properties, with [] for "every element".
        relative = path.replace("[]", ".0")
        fields.append(relative if relative.startswith(("properties.", "traits.", "context."))
                      else f"properties.{relative}")
    trait = data.get("trait")
    if isinstance(trait, str) and trait:
        fields += [f"traits.{trait}", f"context.traits.{trait}"]
    return fields
