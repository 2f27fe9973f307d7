"""Validating NDJSON streams of Segment calls (``inspector validate``, CI pipelines).

One Segment call per line; a batch envelope line (``{"batch": [...]}``) counts as its items, with
the envelope's ``context``, ``integrations`` and ``sentAt`` applied as Segment does. Each call
gets the same verdict capture would give it (:class:`~inspector.core.verdict.Classifier`:
normalised first, Segment's ingestion checks, the plan, one status rule); a messageId repeated
within the file is not flagged (test files repeat their calls). A line exported by
``inspector export`` keeps its original timestamps (:func:`~.normalize.as_sent`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from inspector.core.model import Status, Violation, ViolationKind
from inspector.core.verdict.checks import ingestion_violation
from inspector.core.verdict.classify import Classifier, EventValidator
from inspector.core.verdict.normalize import as_sent

__all__ = ["LineResult", "validate_lines"]


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


def validate_lines(
    lines: Iterable[str | bytes],
    validator: EventValidator | None,
) -> Iterator[LineResult]:
    """Validate every call in an NDJSON stream, in order."""
    classifier = Classifier(validator)
    now = datetime.now(UTC)
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            yield LineResult(number, None, Status.MALFORMED, [
                ingestion_violation(ViolationKind.INVALID_JSON, "", str(error))
            ])
            continue
        if isinstance(data, dict) and isinstance(data.get("batch"), list):
            batch: list[Any] = data["batch"]
            for item in batch:
                verdict = classifier.classify(item, received=now, envelope=data,
                                              batch_size=len(batch), single=False)
                yield LineResult(number, verdict.payload, verdict.status, verdict.violations)
            continue
        received = now
        if isinstance(data, dict):
            data, sent_received = as_sent(data)
            received = sent_received or now
        verdict = classifier.classify(data, received=received)
        yield LineResult(number, verdict.payload, verdict.status, verdict.violations)
