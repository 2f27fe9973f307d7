"""The verdict's own rules: sources, the status rule, plans as values, and stored violations
from before sources were recorded."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from inspector.core.model import Severity, Source, Status, Violation, ViolationKind
from inspector.core.plan import PlanValidator, Rule, RuleType, TrackingPlan, compile_plan
from inspector.core.verdict import Classifier, status_of

RECEIVED = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
ORDER_RULE = Rule(RuleType.TRACK, "Order Completed", 1, {"properties": {"properties": {
    "type": "object", "properties": {"total": {"type": "number"}}, "required": ["total"]}}})


def test_a_plan_built_with_its_constructor_validates_planned_events() -> None:
    plan = TrackingPlan(rules={(RuleType.TRACK, "Order Completed"): [ORDER_RULE]})
    validator = PlanValidator(compile_plan(plan))
    call = {"type": "track", "event": "Order Completed", "userId": "u",
            "properties": {"total": 1}}
    assert validator.validate(call) == (Status.VALID, [])
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.name = "changed"  # type: ignore[misc]


def test_only_an_ingestion_error_makes_a_call_malformed() -> None:
    def found(source: Source, severity: Severity = Severity.ERROR) -> Violation:
        return Violation(ViolationKind.INVALID_FORMAT, "timestamp", "m", severity, source=source)

    assert status_of([found(Source.INGESTION)], Status.VALID) is Status.MALFORMED
    assert status_of([found(Source.INGESTION, Severity.WARNING)], Status.VALID) is Status.VALID
    assert status_of([found(Source.PLAN)], Status.INVALID) is Status.INVALID
    assert status_of([found(Source.AUDIT)], Status.VALID) is Status.VALID


def test_violations_stored_without_a_source_get_the_one_they_had() -> None:
    timestamp = {"kind": "Invalid Format", "field": "timestamp", "severity": "warning",
                 "message": "Does not match format 'date-time': 'x' is not an ISO-8601 "
                            "timestamp; Segment uses receivedAt instead"}
    plan_format = {"kind": "Invalid Format", "field": "properties.date",
                   "message": "Does not match format 'date-time'"}
    duplicate = {"kind": "Duplicate messageId", "field": "messageId", "message": "m"}
    assert [Violation.from_dict(v).source for v in (timestamp, plan_format, duplicate)] == [
        Source.INGESTION, Source.PLAN, Source.INGESTION]
    big = {"kind": "Out Of Range", "field": "properties.id", "severity": "warning",
           "message": "integer 99999999999999999999 exceeds 64-bit; stored as 1e+20 (the raw "
                      "request keeps the original digits)"}
    assert Violation.from_dict(big).source is Source.INGESTION
    assert Violation.from_dict({**plan_format, "source": "audit"}).source is Source.AUDIT


def test_reclassifying_keeps_what_capture_found_and_replaces_the_plan_part() -> None:
    plan = compile_plan(TrackingPlan(rules={(RuleType.TRACK, "Order Completed"): [ORDER_RULE]}))
    classifier = Classifier(PlanValidator(plan), seen_message_ids=set())
    call = {"type": "track", "event": "Order Completed", "userId": "u", "messageId": "m",
            "timestamp": "soon", "properties": {"total": "1"}}
    first = classifier.classify(call, received=RECEIVED)
    again = classifier.classify(call, received=RECEIVED)
    assert (first.status, again.status) == (Status.INVALID, Status.MALFORMED)
    assert [v.source for v in again.violations] == [Source.INGESTION] * 2 + [Source.PLAN]
    assert again.payload is not None
    fixed = {**again.payload, "properties": {"total": 1}}
    status, violations = classifier.reclassify(fixed, again.violations)
    assert status is Status.MALFORMED  # still the duplicate Segment drops
    assert [v.kind for v in violations] == ["Duplicate messageId", "Invalid Format"]
    assert Classifier(None).reclassify(fixed, first.violations)[0] is Status.NOT_VALIDATED
