"""Tracking plans: loading every Segment plan format, and validating events against them.

    formats    detect a file's format, read its rules      (read_plan / load_data -> TrackingPlan)
    reading    read a plan file (bounded, regular files) and compile it   (load_plan_file)
    compile    compile each rule's JSON Schema once        (compile_plan -> CompiledPlan)
    validator  PlanValidator(CompiledPlan).validate(payload) -> (Status, [Violation])
    messages   jsonschema errors in Segment's kinds, fields and wording
    explain    name a failing event's violations with small per-part validators (fast path)
    suggest    near-miss suggestions ("did you mean 'Order Completed'?")
    fetch      download a plan from the Segment Public API (token in the keyring)
    watch      reload a plan file when it changes on disk

A plan knows nothing of capture or of a call's final status: that is the verdict's
(:mod:`inspector.core.verdict`), which combines the plan's answer with Segment's own checks.
"""

from inspector.core.plan.compile import CompiledPlan, compile_plan
from inspector.core.plan.errors import PlanError, PlanFetchError
from inspector.core.plan.formats import load_data, read_plan
from inspector.core.plan.reading import load_plan_file
from inspector.core.plan.rules import PlanSettings, Rule, RuleType, TrackingPlan
from inspector.core.plan.validator import PlanValidator

__all__ = [
    "CompiledPlan",
    "PlanError",
    "PlanFetchError",
    "PlanSettings",
    "PlanValidator",
    "Rule",
    "RuleType",
    "TrackingPlan",
    "compile_plan",
    "load_data",
    "load_plan_file",
    "read_plan",
]
