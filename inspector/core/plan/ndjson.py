"""Validating NDJSON streams of Segment calls (``inspector validate``, CI pipelines).

One Segment call per line; a batch envelope line (``{"batch": [...]}``) counts as its items, with
the envelope's ``context`` and ``integrations`` merged into each item as Segment does. Ingestion
checks (Segment's own drop rules) are injectable so the CLI can use the capture layer's checks
when they exist and a minimal stand-in otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from inspector.core.model import MALFORMED_KINDS, Status, Violation, ViolationKind
from inspector.core.plan.validator import PlanValidator

__all__ = ["ChecksFunction", "LineResult", "basic_ingestion_checks", "validate_lines"]

ChecksFunction = Callable[[dict[str, Any]], list[Violation]]

_MALFORMED = frozenset(str(kind) for kind in MALFORMED_KINDS)


@dataclass(frozen=True, slots=True)
class LineResult:
    """The outcome for one call read from line ``line`` (batch items share their line)."""

    line: int
    payload: dict[str, Any] | None
    status: Status
    violations: list[Violation]

    @property
    def event(self) -> str | None:
        """The event name for track, the page/screen name otherwise."""
        if self.payload is None:
            return None
        value = self.payload.get("event") if self.payload.get("type") == "track" else None
        value = value if value is not None else self.payload.get("name")
        return value if isinstance(value, str) else None

    def to_dict(self) -> dict[str, Any]:
        """The ``--format json`` object."""
        payload = self.payload or {}
        violations = [violation.to_dict() for violation in self.violations]
        return {
            "line": self.line,
            "messageId": payload.get("messageId"),
            "type": payload.get("type"),
            "event": self.event,
            "status": str(self.status),
            "violations": violations,
        }


def basic_ingestion_checks(payload: dict[str, Any]) -> list[Violation]:
    """The two Tracking API drop rules that matter for NDJSON files: identity and event name.

    Used only when the capture layer's full checks are not available.
    """
    found: list[Violation] = []
    call = payload.get("type")
    if call != "alias" and not (_present(payload.get("userId")) or _present(
        payload.get("anonymousId")
    )):
        found.append(Violation(kind=ViolationKind.MISSING_IDENTIFIER, field="userId",
                               message="Missing userId or anonymousId"))
    if call == "track" and not (isinstance(payload.get("event"), str) and payload["event"]):
        found.append(Violation(kind=ViolationKind.MISSING_EVENT, field="event",
                               message="Missing event key for track call"))
    return found


def validate_lines(
    lines: Iterable[str | bytes],
    validator: PlanValidator,
    *,
    checks: ChecksFunction | None = basic_ingestion_checks,
) -> Iterator[LineResult]:
    """Validate every call in an NDJSON stream, in order."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            yield LineResult(number, None, Status.MALFORMED, [
                Violation(kind=ViolationKind.INVALID_JSON, field="",
                          message=str(error))
            ])
            continue
        for item in _calls(data):
            if not isinstance(item, dict):
                yield LineResult(number, None, Status.MALFORMED, [
                    Violation(kind=ViolationKind.INVALID_JSON, field="",
                              message="Invalid JSON: a call must be a JSON object")
                ])
                continue
            ingest = checks(item) if checks is not None else []
            status, found = validator.validate(item)
            if any(str(v.kind) in _MALFORMED for v in ingest):
                status = Status.MALFORMED
            yield LineResult(number, item, status, ingest + found)


def _calls(data: Any) -> list[Any]:
    if not (isinstance(data, dict) and isinstance(data.get("batch"), list)):
        return [data]
    items: list[Any] = []
    for item in data["batch"]:
        if isinstance(item, dict):
            item = dict(item)
            for key in ("context", "integrations"):
                outer, inner = data.get(key), item.get(key)
                if isinstance(outer, dict):
                    item[key] = {**outer, **inner} if isinstance(inner, dict) else dict(outer)
        items.append(item)
    return items


def _present(value: Any) -> bool:
    return value is not None and value != ""
