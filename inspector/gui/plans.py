"""Tracking plans as the window needs them: a validator plus the planned event names."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, Protocol

from inspector.core.model import Status, Violation
from inspector.core.plan import PlanError, PlanValidator, RuleType, TrackingPlan, revalidate_session
from inspector.core.plan.reading import load_plan_file
from inspector.core.store import EventStore

__all__ = ["LoadedPlan", "PlanLoadError", "Validator", "load_plan", "planned_events",
           "revalidate", "validate_payload"]


class Validator(Protocol):
    """What the capture service and re-validation need from a plan."""

    def validate(self, payload: dict[str, Any]) -> tuple[Status, list[Violation]]: ...


class PlanLoadError(Exception):
    """The plan could not be loaded; ``message`` is one line for a human."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LoadedPlan:
    """A plan file, its validator and its planned event names."""

    def __init__(self, path: Path, validator: Validator, events: list[str]) -> None:
        self.path = path
        self.validator = validator
        self.events = events


def planned_events(plan: TrackingPlan) -> list[str]:
    """Names of the plan's track events, in plan order."""
    return [key for (type_, key) in plan.rules if type_ is RuleType.TRACK and key]


def load_plan(path: Path) -> LoadedPlan:
    """Load and compile ``path``; raises :class:`PlanLoadError` with a readable message.

    Only a regular file of bounded size is read: a FIFO or a device picked in the file dialog
    would otherwise block the GUI thread or fill memory. (The window's own user may hear what
    the OS says; the REST API gives callers less.)
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise PlanLoadError(f"cannot read {path}: not a regular file")
    except OSError as error:
        raise PlanLoadError(f"cannot read {path}: {error.strerror or error}") from error
    try:
        plan = load_plan_file(path)
        validator = PlanValidator(plan)
    except PlanError as error:
        raise PlanLoadError(f"{Path(path).name}: {error}") from error
    except OSError as error:
        raise PlanLoadError(f"cannot read {path}: {error.strerror or error}") from error
    return LoadedPlan(Path(path), validator, planned_events(plan))


def revalidate(store: EventStore, session_id: int, validator: Validator) -> int:
    """Re-validate every event of a session; returns how many changed."""
    if isinstance(validator, PlanValidator):
        return revalidate_session(store, session_id, validator).changed
    # A validator that is not a compiled plan (tests, future plugins): same loop, simpler.
    from inspector.core.store import EventQuery

    updates: list[tuple[int, Status, list[Violation]]] = []
    for record in store.iter_events(EventQuery(session_id=session_id)):
        if record.payload is None or record.status is Status.MALFORMED:
            continue
        status, violations = validator.validate(record.payload)
        if status != record.status or violations != record.violations:
            updates.append((record.id, status, violations))
    return store.update_validation(updates) if updates else 0


def validate_payload(
    payload: dict[str, Any], validator: Validator | None
) -> tuple[Status, list[Violation]]:
    """Status and violations of an edited payload, computed as capture computes them
    (``Ingestor``), so the chip in the editor matches what a re-capture would show.

    The Tracking-API checks run on every payload; the plan's validator, when one is loaded,
    decides the status. Without a plan an event with no structural problem is "not validated".
    """
    from inspector.core.capture.checks import ingestion_violations
    from inspector.core.model import MALFORMED_KINDS, Severity

    violations = ingestion_violations(payload)
    if validator is not None and isinstance(payload.get("type"), str):
        plan_status, plan_violations = validator.validate(payload)
        violations.extend(plan_violations)
    else:
        plan_status = Status.NOT_VALIDATED
    malformed = any(
        v.kind in MALFORMED_KINDS and v.severity is Severity.ERROR for v in violations
    )
    return (Status.MALFORMED if malformed else plan_status), violations
