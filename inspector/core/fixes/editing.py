"""Support for the detail pane's JSON editor: parse as the user types, diff against the original.

The GUI calls :func:`check_edit` on every (debounced) keystroke; the result carries either the
parsed payload and its diff, ready to hand to the plan validator for live re-validation, or the
parse error with a line and column to underline. Nothing is stored until the user saves
(:meth:`~inspector.core.fixes.corrections.CorrectionStore.save`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from inspector.core.fixes.diff import DiffEntry, json_diff

__all__ = ["EditCheck", "check_edit"]


@dataclass(frozen=True, slots=True)
class EditCheck:
    """The state of an edit: a payload and its diff, or where the JSON is broken."""

    payload: dict[str, Any] | None
    diff: list[DiffEntry] = field(default_factory=list)
    error: str | None = None
    line: int | None = None
    column: int | None = None

    @property
    def ok(self) -> bool:
        """Whether the text is a JSON object that can be saved."""
        return self.payload is not None


def check_edit(original: dict[str, Any], text: str) -> EditCheck:
    """Parse ``text`` (the edited event) and diff it against ``original``."""
    try:
        # The stdlib parser, not orjson, because its errors carry a line and column.
        value = json.loads(text)
    except json.JSONDecodeError as error:
        return EditCheck(None, error=error.msg, line=error.lineno, column=error.colno)
    if not isinstance(value, dict):
        return EditCheck(None, error="an event must be a JSON object", line=1, column=1)
    if not isinstance(value.get("type"), str):
        return EditCheck(None, error='the event needs a "type"', line=1, column=1)
    return EditCheck(value, json_diff(original, value))
