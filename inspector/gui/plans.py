"""Tracking plans as the window needs them, whether or not :mod:`inspector.core.plan` exists.

The plan package is written in parallel; importing it is guarded so the window runs (and shows
a clear message) without it.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Protocol

import orjson

from inspector.core.model import Status, Violation
from inspector.core.store import EventQuery, EventStore

__all__ = ["LoadedPlan", "PlanLoadError", "Validator", "load_plan", "planned_events",
           "revalidate"]


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


def planned_events(data: Any) -> list[str]:
    """Track-event names of a plan in the Segment Public API format (``{"rules": [...]}``)."""
    rules: Any = None
    if isinstance(data, dict):
        rules = data.get("rules")
        for wrapper in ("tracking_plan", "trackingPlan", "data"):
            if rules is None and isinstance(data.get(wrapper), dict):
                rules = data[wrapper].get("rules")
    if isinstance(rules, dict):  # the v1 shape: {"rules": {"events": [...]}}
        events = rules.get("events", [])
        return [str(e["name"]) for e in events if isinstance(e, dict) and e.get("name")]
    names: list[str] = []
    for rule in rules if isinstance(rules, list) else []:
        if not isinstance(rule, dict):
            continue
        key = str(rule.get("key") or "")
        if str(rule.get("type", "")).upper() == "TRACK" and key and key not in names:
            names.append(key)
    return names


def load_plan(path: Path) -> LoadedPlan:
    """Load and compile ``path``; raises :class:`PlanLoadError` with a readable message."""
    try:
        data = orjson.loads(Path(path).read_bytes())
    except OSError as error:
        raise PlanLoadError(f"cannot read {path}: {error.strerror or error}") from error
    except orjson.JSONDecodeError as error:
        raise PlanLoadError(f"{path} is not valid JSON: {error}") from error
    try:
        plan_module: Any = importlib.import_module("inspector.core.plan")
    except ImportError as error:
        raise PlanLoadError(
            f"tracking plans are not available in this build ({error})"
        ) from error
    try:
        plan = plan_module.TrackingPlan.load(path)
        validator = plan_module.PlanValidator(plan)
    except Exception as error:  # PlanError, or anything a broken file provokes
        message = getattr(error, "message", None) or str(error)
        raise PlanLoadError(f"cannot load plan {path.name}: {message}") from error
    return LoadedPlan(path, validator, planned_events(data))


def revalidate(store: EventStore, session_id: int, validator: Validator) -> int:
    """Re-validate every event of a session; returns how many were updated."""
    try:
        plan_module: Any = importlib.import_module("inspector.core.plan")
        function = plan_module.revalidate_session
    except (ImportError, AttributeError):
        function = None
    if function is not None:
        result = function(store, session_id, validator)
        return int(result) if isinstance(result, int) else 0
    return _revalidate(store, session_id, validator)


def _revalidate(store: EventStore, session_id: int, validator: Validator) -> int:
    updates: list[tuple[int, Status, list[Violation]]] = []
    changed = 0
    for record in store.iter_events(EventQuery(session_id=session_id)):
        if record.payload is None or record.status is Status.MALFORMED:
            continue
        status, violations = validator.validate(record.payload)
        updates.append((record.id, status, violations))
        if len(updates) >= 2000:
            changed += store.update_validation(updates)
            updates = []
    return changed + (store.update_validation(updates) if updates else 0)


