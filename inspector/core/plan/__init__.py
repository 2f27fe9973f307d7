"""Tracking plans: loading every Segment plan format, and validating events against them.

    formats    detect a file's format, read its rules      (TrackingPlan.load / from_data)
    compile    clean and compile each rule's JSON Schema once
    validator  PlanValidator.validate(payload) -> (Status, [Violation])
    messages   jsonschema errors in Segment's kinds, fields and wording
    explain    name a failing event's violations with small per-part validators (fast path)
    suggest    near-miss suggestions ("did you mean 'Order Completed'?")
    revalidate re-validate a stored session and report what changed
    fetch      download a plan from the Segment Public API (token in the keyring)
    watch      reload a plan file when it changes on disk
"""

from inspector.core.plan.errors import PlanError, PlanFetchError
from inspector.core.plan.revalidate import EventDiff, RevalidationReport, revalidate_session
from inspector.core.plan.rules import PlanSettings, Rule, RuleType, TrackingPlan
from inspector.core.plan.validator import PlanValidator

__all__ = [
    "EventDiff",
    "PlanError",
    "PlanFetchError",
    "PlanSettings",
    "PlanValidator",
    "RevalidationReport",
    "Rule",
    "RuleType",
    "TrackingPlan",
    "revalidate_session",
]
