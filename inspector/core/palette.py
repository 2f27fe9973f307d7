"""The status colours, glyphs and labels, as plain values (Qt-free).

The window's theme paints with them and the QA reports (:mod:`inspector.core.report`)
print with them, so a failing field is the same colour in both.
The five colours come from the Okabe-Ito palette, which stays distinguishable under the common
colour-vision deficiencies, and are mid-tones that read on light and dark backgrounds. Colour is
never the only signal: each status also has its own glyph and its name as text.
"""

from __future__ import annotations

from inspector.core.model import Severity, Status

__all__ = ["STATUS_COLORS", "STATUS_GLYPHS", "STATUS_LABELS", "as_status", "severity_hex"]

STATUS_COLORS: dict[Status, str] = {
    Status.VALID: "#009E73",  # bluish green
    Status.INVALID: "#D55E00",  # vermillion
    Status.UNPLANNED: "#E69F00",  # orange
    Status.MALFORMED: "#CC79A7",  # reddish purple
    Status.NOT_VALIDATED: "#8C8C8C",  # grey
}

#: A glyph per status, so the chip reads without colour.
STATUS_GLYPHS: dict[Status, str] = {
    Status.VALID: "✓",
    Status.INVALID: "✕",
    Status.UNPLANNED: "?",
    Status.MALFORMED: "!",
    Status.NOT_VALIDATED: "–",
}

STATUS_LABELS: dict[Status, str] = {
    Status.VALID: "valid",
    Status.INVALID: "invalid",
    Status.UNPLANNED: "unplanned",
    Status.MALFORMED: "malformed",
    Status.NOT_VALIDATED: "not validated",
}


def as_status(value: str | Status) -> Status:
    """``value`` as a status; anything unknown reads as not validated."""
    try:
        return Status(value)
    except ValueError:
        return Status.NOT_VALIDATED


def severity_hex(severity: str, status: str | Status) -> str:
    """A violation's colour: errors take the event's status colour (invalid's for a valid
    event); warnings are always the unplanned orange."""
    if severity == Severity.WARNING:
        return STATUS_COLORS[Status.UNPLANNED]
    chosen = as_status(status)
    return STATUS_COLORS[Status.INVALID if chosen is Status.VALID else chosen]
