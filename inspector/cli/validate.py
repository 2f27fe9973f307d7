"""``inspector validate``: check NDJSON Segment calls against a tracking plan.

Exit status: 0 when every call is valid (warnings allowed), 1 when any is invalid, unplanned or
malformed, 2 on a usage error, an unreadable events file or a plan that does not load.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterable
from typing import IO, Any
from xml.etree import ElementTree

import orjson

from inspector.cli._common import DIM, RESET, STATUS_COLOURS, colour_wanted
from inspector.core.model import Severity, Status, Violation
from inspector.core.plan import PlanError, PlanValidator, TrackingPlan, load_plan_file
from inspector.core.verdict.ndjson import LineResult, validate_lines

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``validate`` subcommand."""
    parser = subparsers.add_parser(
        "validate",
        help="validate NDJSON Segment calls against a tracking plan",
        description="Validate Segment calls (one JSON object per line, batch envelopes "
        "allowed) against a tracking plan. Exit 0: all valid; 1: some are not; 2: error.",
    )
    parser.add_argument("--plan", required=True, metavar="PLAN", help="tracking plan file")
    parser.add_argument("events", nargs="?", default="-",
                        help="NDJSON file of Segment calls, or - for stdin (default)")
    parser.add_argument("--format", choices=("text", "json", "junit"), default="text",
                        help="output format (default: text)")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="colour text output (default: on a terminal)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Validate and print; returns the exit status."""
    try:
        compiled = load_plan_file(args.plan)
    except PlanError as error:
        print(f"inspector validate: plan error: {error}", file=sys.stderr)
        return 2
    plan = compiled.plan
    validator = PlanValidator(compiled)
    try:
        stream: IO[bytes] = (
            sys.stdin.buffer if args.events == "-" else open(args.events, "rb")  # noqa: SIM115
        )
    except OSError as error:
        print(f"inspector validate: cannot read {args.events}: {error.strerror}", file=sys.stderr)
        return 2
    try:
        results = validate_lines(stream, validator)
        if args.format == "json":
            counts = _write_json(results, sys.stdout)
        elif args.format == "junit":
            counts = _write_junit(results, sys.stdout, plan)
        else:
            colour = args.color == "always" or (args.color == "auto" and colour_wanted(sys.stdout))
            counts = _write_text(results, sys.stdout, colour=colour)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    failing = sum(n for status, n in counts.items() if status is not Status.VALID)
    return 1 if failing else 0


def _write_json(results: Iterable[LineResult], out: IO[str]) -> Counter[Status]:
    counts: Counter[Status] = Counter()
    for result in results:
        counts[result.status] += 1
        out.write(orjson.dumps(result.to_dict()).decode() + "\n")
    return counts


def _write_text(results: Iterable[LineResult], out: IO[str], *, colour: bool) -> Counter[Status]:
    counts: Counter[Status] = Counter()

    def paint(text: str, code: str) -> str:
        return f"{code}{text}{RESET}" if colour else text

    for result in results:
        counts[result.status] += 1
        call = (result.payload or {}).get("type") or "?"
        name = f" {result.event!r}" if result.event is not None else ""
        status = paint(f"{result.status.upper():<13}", STATUS_COLOURS[result.status])
        out.write(f"line {result.line:<5} {status} {call}{name}\n")
        for violation in result.violations:
            severity = "" if violation.severity is Severity.ERROR else " (warning)"
            kind = paint(str(violation.kind), DIM) if colour else str(violation.kind)
            field = f"{violation.field}: " if violation.field else ""
            out.write(f"    {kind}{severity}  {field}{violation.message}\n")
    total = sum(counts.values())
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    out.write(f"{total} events: {summary or 'none'}\n")
    return counts


def _write_junit(
    results: Iterable[LineResult], out: IO[str], plan: TrackingPlan
) -> Counter[Status]:
    counts: Counter[Status] = Counter()
    suite = ElementTree.Element("testsuite", name=f"tracking plan {plan.name or plan.source}")
    for result in results:
        counts[result.status] += 1
        call = (result.payload or {}).get("type") or "unknown"
        case = ElementTree.SubElement(
            suite,
            "testcase",
            classname=f"segment.{call}",
            name=f"line {result.line}: {result.event or call}",
        )
        errors = [v for v in result.violations if v.severity is Severity.ERROR]
        warnings = [v for v in result.violations if v.severity is not Severity.ERROR]
        if result.status is not Status.VALID:
            failure = ElementTree.SubElement(
                case,
                "failure",
                type=str(result.status),
                message="; ".join(_one_line(v) for v in errors)
                or str(result.status),
            )
            failure.text = "\n".join(f"{v.kind}\t{v.field}\t{v.message}" for v in errors)
        if warnings:
            ElementTree.SubElement(case, "system-out").text = "\n".join(
                f"warning: {v.kind}\t{v.field}\t{v.message}" for v in warnings
            )
    suite.set("tests", str(sum(counts.values())))
    suite.set("failures", str(sum(n for s, n in counts.items() if s is not Status.VALID)))
    root = ElementTree.Element("testsuites")
    root.append(suite)
    ElementTree.indent(root)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ElementTree.tostring(root, encoding="unicode") + "\n")
    return counts


def _one_line(violation: Violation) -> str:
    field = f"{violation.field}: " if violation.field else ""
    return f"{violation.kind}: {field}{violation.message}"
