"""``inspector assert``: fail a CI build when tracking broke, without curl and jq.

Exit codes: 0 every assertion holds, 1 one does not, 2 a usage error (an unknown option or
value, a server that cannot be reached, an unknown session): a typo never passes.
"""

from __future__ import annotations

import argparse
import json
import shlex
import time
from pathlib import Path
from typing import Any, NoReturn
from xml.etree import ElementTree

from inspector.cli._checks import (
    CHECKS_SCHEMA,
    Check,
    CheckResult,
    UsageError,
    evaluate,
    open_source,
    read_checks_file,
    where_pair,
)
from inspector.cli._common import fail
from inspector.core.store.fields import parse_path, value_at

__all__ = ["register", "run"]

_EPILOG = """\
examples:
  # after the e2e suite: Order Completed arrived at least once with a numeric total,
  # and no event broke the plan (an error violation)
  inspector assert --wait 30 \\
      --expect "--event 'Order Completed' --where-type properties.total=number --min 1" \\
      --expect "--no-violations --severity error"

  inspector assert --event "Order Completed" --where properties.currency='"EUR"' --count 1
  inspector assert --db ci.sqlite3 --session "ci run" --file checks.json --format junit

Each assertion selects events (--type, --event, --where, --where-type, --status: the
REST API's filters) and demands a count (--count, --min, --max; default --min 1) and/or
--no-violations among them. --where PATH=JSON compares typed JSON (strings quoted:
properties.currency='"EUR"'); --where-type PATH=TYPE (string, number, integer, boolean,
null, object, array). --wait waits (through the API's wait) until the counts worth waiting
for are reached; --max and --no-violations are read after it.

--file checks.json holds the assertions as JSON: a list (or {"checks": [...]}) of objects
with the options' names, e.g.
  [{"name": "an order with a numeric total", "event": "Order Completed",
    "where_type": {"properties.total": "number"}, "min": 1},
   {"name": "no event broke the plan", "no_violations": true, "severity": "error"}]
(`inspector assert --file-schema` prints its JSON Schema).
"""


class _Parser(argparse.ArgumentParser):
    """An argument parser for one ``--expect``: errors are usage errors, not an exit."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"--expect: {message}")


def _add_check_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", help="the assertion's name in reports")
    parser.add_argument("--type", help="call type (track, identify, page, screen, group, alias)")
    parser.add_argument("--event", help="event name (a track's event, a page's or screen's name)")
    parser.add_argument("--where", action="append", default=[], metavar="PATH=JSON",
                        help="payload value at PATH equals JSON (repeatable, all must hold); "
                        "PATH=* means present and not null")
    parser.add_argument("--where-type", action="append", default=[], metavar="PATH=TYPE",
                        help="payload value at PATH is of this JSON type (repeatable)")
    parser.add_argument("--status", action="append", default=[], metavar="S",
                        help="valid, invalid, unplanned, malformed, not_validated or problems "
                        "(repeatable: any of them)")
    parser.add_argument("--count", type=int, metavar="N", help="exactly N events match")
    parser.add_argument("--min", type=int, metavar="N", help="at least N events match")
    parser.add_argument("--max", type=int, metavar="N", help="at most N events match")
    parser.add_argument("--no-violations", action="store_true",
                        help="no matching event has a violation")
    parser.add_argument("--severity", choices=("error", "warning"), type=str.lower,
                        help="with --no-violations: only violations of this severity count")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``assert`` subcommand."""
    parser = subparsers.add_parser(
        "assert", help="check captured events in CI: exit 1 when an assertion fails",
        description="Check what a running `inspector serve` (--url) or a capture database "
        "(--db) captured. Exit 0 when every assertion holds, 1 when one does not, 2 on a "
        "usage error.", epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--url", help="a running serve (default http://127.0.0.1:8787; "
                        "$INSPECTOR_API_TOKEN is sent as its bearer token)")
    source.add_argument("--db", type=Path, metavar="PATH",
                        help="read this capture database instead (no --wait)")
    parser.add_argument("--session", metavar="NAME",
                        help="session name or id, or all (default: the serve's current "
                        "session; with --db the newest)")
    _add_check_options(parser)
    parser.add_argument("--expect", action="append", default=[], metavar="OPTIONS",
                        help="one more assertion, its options in one quoted string "
                        "(repeatable)")
    parser.add_argument("--file", type=Path, metavar="CHECKS.json",
                        help="more assertions from a JSON file (format below)")
    parser.add_argument("--wait", type=float, metavar="SECONDS",
                        help="wait up to SECONDS (at most 120) for the counts to be reached")
    parser.add_argument("--format", choices=("text", "json", "junit"), default="text",
                        help="report format (default text)")
    parser.add_argument("--file-schema", action="store_true",
                        help="print the JSON Schema of --file and exit")
    parser.set_defaults(handler=run)


def _check_of(args: argparse.Namespace) -> Check | None:
    """The assertion the check options make (``None``: none given)."""
    given = (args.type, args.event, args.where, args.where_type, args.status, args.count,
             args.min, args.max, args.no_violations, args.severity, args.name)
    if not any(value not in (None, [], False) for value in given):
        return None
    pairs: list[tuple[str, str]] = []
    if args.type is not None:
        pairs.append(("type", args.type))
    if args.event is not None:
        pairs.append(("event", args.event))
    pairs += [where_pair(text) for text in args.where]
    pairs += [where_pair(text, "--where-type") for text in args.where_type]
    if args.status:
        pairs.append(("status", ",".join(args.status)))
    return Check(name=args.name, pairs=pairs, count=args.count, minimum=args.min,
                 maximum=args.max, no_violations=args.no_violations, severity=args.severity)


def _expected(text: str) -> Check:
    parser = _Parser(prog="--expect", add_help=False)
    _add_check_options(parser)
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise UsageError(f"--expect {text!r}: {error}") from error
    check = _check_of(parser.parse_args(words))
    if check is None:
        raise UsageError(f"--expect {text!r} asserts nothing")
    return check


def run(args: argparse.Namespace) -> int:
    """Evaluate the assertions and report; the exit code."""
    if args.file_schema:
        print(json.dumps(CHECKS_SCHEMA, indent=2))
        return 0
    started = time.monotonic()
    try:
        checks = [check for check in [_check_of(args)] if check is not None]
        checks += [_expected(text) for text in args.expect]
        if args.file is not None:
            checks += read_checks_file(args.file)
        if not checks:
            raise UsageError("nothing to assert: give --event, --count, --no-violations..., "
                             "--expect or --file")
        for check in checks:
            check.validate()
        source = open_source(args.url, args.db, args.session, args.wait)
        try:
            results = evaluate(checks, source, args.wait)
        finally:
            source.close()
    except UsageError as error:
        return fail(str(error))
    report = {"text": _text, "json": _json, "junit": _junit}[args.format]
    print(report(results, time.monotonic() - started))
    return 0 if all(result.passed for result in results) else 1


# ---- reports


def _event_line(event: dict[str, Any], check: Check) -> list[str]:
    """An event as a failure shows it: what it is, the values the field tests read, and its
    violations in Segment's words."""
    name = f' "{event["event"]}"' if event.get("event") else ""
    lines = [f"#{event['id']} {event['type']}{name} {event['status']}"]
    for key, _ in check.pairs:
        if key.startswith(("field.", "field_type.")):
            path = key.partition(".")[2]
            found = value_at(event.get("payload"), parse_path(path))
            shown = json.dumps(found) if _is_json(found) else "(absent)"
            lines.append(f"    {path} = {shown}")
    for violation in event.get("violations", []):
        field = f" ({violation['field']})" if violation.get("field") else ""
        lines.append(f"    {violation['severity']}: {violation['kind']}{field}: "
                     f"{violation['message']}")
    return lines


def _is_json(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool, list, dict))


def _explain(result: CheckResult, *, with_summary: bool = True) -> list[str]:
    lines = [f"  looked for: {result.check.looked_for()}"]
    if with_summary:
        lines.append(f"  {result.summary()}")
    if result.timed_out:
        lines.append("  (the wait timed out)")
    if result.shown:
        lines.append(f"  {result.shown_as}:")
        for event in result.shown:
            lines += [f"    {line}" for line in _event_line(event, result.check)]
    elif not result.passed and result.matched == 0:
        lines.append("  no event comes close")
    return lines


def _text(results: list[CheckResult], seconds: float) -> str:
    lines: list[str] = []
    for result in results:
        lines.append(f"{'PASS' if result.passed else 'FAIL'}  {result.check.title()}: "
                     f"{result.summary()}")
        if not result.passed:
            lines += _explain(result, with_summary=False)
    failed = sum(not result.passed for result in results)
    lines.append(f"{len(results) - failed} passed, {failed} failed")
    return "\n".join(lines)


def _json(results: list[CheckResult], seconds: float) -> str:
    return json.dumps({"passed": all(result.passed for result in results),
                       "checks": [result.to_dict() for result in results]}, indent=2)


def _junit(results: list[CheckResult], seconds: float) -> str:
    failures = sum(not result.passed for result in results)
    suites = ElementTree.Element("testsuites", tests=str(len(results)),
                                 failures=str(failures), errors="0", time=f"{seconds:.3f}")
    suite = ElementTree.SubElement(suites, "testsuite", name="inspector assert",
                                   tests=str(len(results)), failures=str(failures),
                                   errors="0", time=f"{seconds:.3f}")
    for result in results:
        case = ElementTree.SubElement(suite, "testcase", classname="inspector.assert",
                                      name=result.check.title())
        if not result.passed:
            failure = ElementTree.SubElement(case, "failure", message=result.summary(),
                                             type="AssertionFailed")
            failure.text = "\n".join(_explain(result))
    ElementTree.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(
        suites, encoding="unicode")
