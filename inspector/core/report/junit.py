"""JUnit XML of a QA report, so CI systems list each audit check (and each flow step) as a
test case. Written with ElementTree, which escapes every value it is given."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from xml.etree import ElementTree

from inspector.core.report.model import FlowRunReport, FlowStepReport, ReportData

__all__ = ["audit_testsuite", "flow_testsuite", "junit_document", "render_junit"]


def audit_testsuite(name: str, findings: Sequence[Mapping[str, Any]],
                    checks: Sequence[str]) -> ElementTree.Element:
    """A test case per check (failed by its error findings; the others in its output).
    ``findings`` in their JSON form (:meth:`Finding.to_dict`), as ``inspector audit`` has
    them."""
    suite = ElementTree.Element("testsuite", name=name)
    by_check: dict[str, list[Mapping[str, Any]]] = {check: [] for check in checks}
    for finding in findings:
        by_check.setdefault(finding["check"], []).append(finding)
    failures = 0
    for check, items in by_check.items():
        case = ElementTree.SubElement(suite, "testcase", classname="inspector.audit", name=check)
        errors = [f for f in items if f["severity"] == "error"]
        others = [f for f in items if f["severity"] != "error"]
        if errors:
            failures += 1
            failure = ElementTree.SubElement(
                case, "failure", type=check,
                message=f"{len(errors)} finding{'s' if len(errors) != 1 else ''}: "
                f"{errors[0]['message']}")
            failure.text = "\n".join(
                f"{f['message']} [{', '.join(f['message_ids'][:5])}]" for f in errors)
        if others:
            ElementTree.SubElement(case, "system-out").text = "\n".join(
                f"{f['severity']}: {f['message']}" for f in others)
    suite.set("tests", str(len(by_check)))
    suite.set("failures", str(failures))
    return suite


def _plan_testsuite(data: ReportData) -> ElementTree.Element:
    """One test case per violation kind found (none: one passing case), so a CI run shows
    what the tracking plan and Segment's own rules objected to."""
    suite = ElementTree.Element("testsuite", name=f"inspector events {data.session_name}")
    failures = 0
    for group in data.violation_groups:
        case = ElementTree.SubElement(suite, "testcase", classname="inspector.events",
                                      name=group.kind)
        lines = [f"{example.event_label} ({example.message_id or f'event {example.event_id}'}):"
                 f" {example.message}" for example in group.examples]
        text = (f"{group.count} violation{'s' if group.count != 1 else ''} on {group.events} "
                f"event{'s' if group.events != 1 else ''}")
        if group.errors:
            failures += 1
            failure = ElementTree.SubElement(case, "failure", type=group.kind, message=text)
            failure.text = "\n".join(lines)
        else:
            ElementTree.SubElement(case, "system-out").text = "\n".join([text, *lines])
    if not data.violation_groups:
        ElementTree.SubElement(suite, "testcase", classname="inspector.events",
                               name="no violations")
    suite.set("tests", str(max(1, len(data.violation_groups))))
    suite.set("failures", str(failures))
    return suite


def flow_testsuite(steps: Sequence[FlowStepReport], *, name: str,
                   classname: str) -> ElementTree.Element:
    """A test case per step: a failed step fails, a skipped one is skipped, a step still
    pending when the run ended fails as incomplete; the step's calls (messageIds) are its
    output. ``inspector check --format junit`` and the QA report both write flows so."""
    suite = ElementTree.Element("testsuite", name=name)
    failures = skipped = 0
    for step in steps:
        case = ElementTree.SubElement(suite, "testcase", classname=classname, name=step.name)
        if step.status == "failed":
            failures += 1
            ElementTree.SubElement(case, "failure", type="failed",
                                   message=step.reason or "the step failed")
        elif step.status == "pending":
            failures += 1
            ElementTree.SubElement(case, "failure", type="incomplete",
                                   message=step.reason or "no call matched this step (still "
                                   "pending)")
        elif step.status == "skipped":
            skipped += 1
            ElementTree.SubElement(case, "skipped", message=step.reason or "optional step "
                                   "not seen")
        shown = [message_id for message_id in step.message_ids if message_id]
        if shown:
            ElementTree.SubElement(case, "system-out").text = ", ".join(shown)
    suite.set("tests", str(len(steps)))
    suite.set("failures", str(failures))
    suite.set("skipped", str(skipped))
    return suite


def _flow_testsuite(run: FlowRunReport, session: str) -> ElementTree.Element:
    return flow_testsuite(run.steps, name=f"inspector flow {run.flow} ({session})",
                          classname=f"inspector.flow.{run.flow}")


def junit_document(*suites: ElementTree.Element) -> str:
    """``<testsuites>`` holding ``suites``, as an XML document."""
    root = ElementTree.Element("testsuites")
    root.extend(suites)
    ElementTree.indent(root)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            + ElementTree.tostring(root, encoding="unicode") + "\n")


def render_junit(data: ReportData) -> str:
    """The report as JUnit XML: the audit's checks, the events' violation kinds, a suite
    per flow run, and with a baseline the comparison's (a test case per difference kind)."""
    audit = audit_testsuite(f"inspector audit {data.session_name}",
                            [finding.to_dict() for finding in data.audit.findings],
                            data.audit.checks)
    flows = [_flow_testsuite(run, data.session_name) for run in data.flow_runs]
    suites = [audit, _plan_testsuite(data), *flows]
    if data.comparison is not None:
        from inspector.core.compare.report import comparison_testsuite

        suites.append(comparison_testsuite(data.comparison))
    return junit_document(*suites)
