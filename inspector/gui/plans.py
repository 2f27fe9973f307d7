"""Tracking plans as the window needs them: a validator plus the planned event names."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inspector.core.model import Status, Violation
from inspector.core.plan import CompiledPlan, PlanError, PlanValidator, RuleType
from inspector.core.plan.reading import load_plan_file
from inspector.core.store import EventStore
from inspector.core.verdict import Classifier
from inspector.core.verdict import EventValidator as Validator
from inspector.core.verdict.normalize import as_sent
from inspector.core.verdict.revalidate import revalidate_session

__all__ = ["LoadedPlan", "PlanLoadError", "Validator", "load_plan", "planned_events",
           "revalidate", "validate_payload"]


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


def planned_events(compiled: CompiledPlan) -> list[str]:
    """Names of the plan's track events, in plan order."""
    return [key for (type_, key) in compiled.plan.rules if type_ is RuleType.TRACK and key]


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
        compiled = load_plan_file(path)
    except PlanError as error:
        raise PlanLoadError(f"{Path(path).name}: {error}") from error
    except OSError as error:
        raise PlanLoadError(f"cannot read {path}: {error.strerror or error}") from error
    return LoadedPlan(Path(path), PlanValidator(compiled), planned_events(compiled))


def revalidate(store: EventStore, session_id: int, validator: Validator) -> int:
    """Re-validate every event of a session; returns how many changed."""
    return revalidate_session(store, session_id, validator).changed


def validate_payload(
    payload: dict[str, Any], validator: Validator | None
) -> tuple[Status, list[Violation]]:
    """Status and violations of an edited payload: the verdict capture gives the call it is
    (judged as sent and received, see ``as_sent``), so the chip in the editor matches what a
    re-capture would show."""
    item, received = as_sent(payload)
    verdict = Classifier(validator).classify(item, received=received or datetime.now(UTC))
    return verdict.status, verdict.violations
