"""A stand-in tracking plan for GUI tests, until :mod:`inspector.core.plan` is merged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from inspector.core.model import Status, Violation
from inspector.gui.plans import LoadedPlan, PlanLoadError

PLANNED = ["Product Viewed", "Added to Cart", "Checkout Started", "Order Completed",
           "Subscription Canceled", "Cart Viewed"]


class FakeValidator:
    """Flags the demo's three planted mistakes the way the real plan would."""

    def validate(self, payload: dict[str, Any]) -> tuple[Status, list[Violation]]:
        if payload.get("type") != "track":
            return Status.VALID, []
        name = payload.get("event")
        properties = payload.get("properties") or {}
        if name not in PLANNED:
            return Status.UNPLANNED, [Violation("Unplanned Event", "event",
                                                f"{name!r} is not in the tracking plan",
                                                suggestion="Did you mean 'Order Completed'?")]
        violations = []
        if isinstance(properties.get("price"), str):
            violations.append(Violation("Invalid Type", "properties.price",
                                        "price must be a number, got string",
                                        suggestion="send 12.5, not \"12.5\""))
        if name == "Order Completed" and "order_id" not in properties:
            violations.append(Violation("Required", "properties.order_id",
                                        "order_id is required"))
        return (Status.INVALID if violations else Status.VALID), violations


def write_plan(path: Path) -> Path:
    rules = [{"key": name, "type": "TRACK", "version": 1, "jsonSchema": {}} for name in PLANNED]
    path.write_bytes(orjson.dumps({"rules": rules}))
    return path


def fake_loader(path: Path) -> LoadedPlan:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as error:
        raise PlanLoadError(f"cannot read {path.name}: {error}") from error
    names = [r["key"] for r in data["rules"] if r.get("type") == "TRACK"]
    return LoadedPlan(path, FakeValidator(), names)
