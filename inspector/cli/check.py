"""``inspector check``: do the checkout flows pass over a session? For testers and CI.

Exit 0 when every flow passes, 1 when any fails or is incomplete, 2 on a usage or flow-file
error. ``--wait`` keeps reading the session until no flow is incomplete (or the time is up),
for a CI job whose last calls are still on their way.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import IO, Any

from inspector.cli._common import (
    RESET,
    CaptureDatabaseError,
    add_db_option,
    colour_wanted,
    fail,
    open_capture_session,
)

__all__ = ["check_json", "register", "run", "write_junit", "write_text"]

_POLL_SECONDS = 0.25
_MARKS = {"passed": "✓", "failed": "✗", "pending": "…", "skipped": "–"}
_COLOURS = {"passed": "\033[32m", "failed": "\033[31m", "pending": "\033[33m",
            "skipped": "\033[90m", "incomplete": "\033[33m"}


class _UsageError(Exception):
    """Exit code 2 with this one-line message."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``check`` subcommand."""
    parser = subparsers.add_parser(
        "check", help="check checkout flows over a session",
        description="Evaluate flows (bundled by name, or flow files) over a capture session. "
        "Exit 0 when every flow passes, 1 when any fails or is incomplete, 2 on a usage or "
        "flow-file error.",
    )
    parser.add_argument("--flow", action="append", default=[], metavar="NAME|FILE",
                        help="a bundled flow (guest-checkout, returning-customer, "
                        "multi-device, refund, subscription-cancel) or a flow file; repeat "
                        "for several")
    add_db_option(parser)
    parser.add_argument("--url", metavar="URL",
                        help="a running `inspector serve` (e.g. http://127.0.0.1:8787) "
                        "instead of --db")
    parser.add_argument("--session", metavar="NAME",
                        help="session name or id (default: the latest, or serve's current)")
    parser.add_argument("--since", metavar="TIME",
                        help="only calls received since TIME: an ISO 8601 time, or a "
                        "duration ago (30s, 10m, 2h)")
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                        help="keep reading until no flow is incomplete, at most this long")
    parser.add_argument("--config", metavar="FILE",
                        help="audit configuration (consent trait, placeholders); --db only")
    parser.add_argument("--format", choices=("text", "json", "junit"), default="text")
    parser.add_argument("--print-schema", action="store_true",
                        help="print the JSON Schema of a flow file and exit")
    parser.add_argument("--list", action="store_true", help="list the bundled flows and exit")
    parser.set_defaults(handler=run)


def _since(value: str | None) -> float | None:
    from inspector.core.conditions import parse_duration
    from inspector.core.timeutil import parse_timestamp

    if value is None:
        return None
    moment = parse_timestamp(value)
    if moment is not None:
        return moment.timestamp()
    try:
        return time.time() - parse_duration(value)
    except ValueError as error:
        raise _UsageError(f"--since {value!r}: give an ISO 8601 time or a duration like "
                          "10m") from error


def run(args: argparse.Namespace) -> int:
    """Evaluate and report."""
    from inspector.core.flows import Flow, FlowError, bundled_flow_names, load_flow

    if args.print_schema:
        print(json.dumps(Flow.json_schema(), indent=2))
        return 0
    if args.list:
        for name in bundled_flow_names():
            flow = load_flow(name).flow
            print(f"{name}: {flow.description or ''}")
        return 0
    if not args.flow:
        return fail("give at least one --flow NAME|FILE (see --list)")
    if args.wait < 0:
        return fail("--wait must be zero or more seconds")
    try:
        loaded = [load_flow(spec) for spec in args.flow]
        since = _since(args.since)
        if args.url:
            if args.db is not None or args.config is not None:
                raise _UsageError("--url reads serve's session: give no --db or --config")
            results = _from_url(args, loaded, since)
        else:
            results = _from_db(args, loaded, since)
    except (FlowError, _UsageError) as error:
        return fail(str(error))
    out = sys.stdout
    try:
        if args.format == "json":
            out.write(json.dumps(check_json(results), indent=2, ensure_ascii=False) + "\n")
        elif args.format == "junit":
            write_junit(results, out)
        else:
            write_text(results, out)
        out.flush()
    except BrokenPipeError:
        sys.stderr.close()
    return 0 if results and all(result["status"] == "passed" for result in results) else 1


def _settled(results: Sequence[dict[str, Any]]) -> bool:
    return all(result["status"] != "incomplete" for result in results)


def _from_db(args: argparse.Namespace, loaded: Sequence[Any],
             since: float | None) -> list[dict[str, Any]]:
    from pathlib import Path

    from inspector.core.audit import AuditConfigError, load_audit_config
    from inspector.core.flows import RunEvaluator
    from inspector.core.flows.session import catch_up

    try:
        config = load_audit_config(Path(args.config) if args.config else None)
    except AuditConfigError as error:
        raise _UsageError(str(error)) from error
    try:
        store, session = open_capture_session(args.db, args.session)
    except CaptureDatabaseError as error:
        raise _UsageError(str(error)) from error
    try:
        evaluator = RunEvaluator([item.flow for item in loaded], config, since=since)
        deadline = time.monotonic() + args.wait
        while True:
            catch_up(evaluator, store, session.id)
            waiting = time.monotonic() < deadline
            results = [result.to_dict() for result in evaluator.results(ended=not waiting)]
            if not waiting or _settled(results):
                return results
            time.sleep(_POLL_SECONDS)
    finally:
        store.close()


def _from_url(args: argparse.Namespace, loaded: Sequence[Any],
              since: float | None) -> list[dict[str, Any]]:
    import httpx

    specs = [{"name": item.origin.removeprefix("bundled:")} if item.origin.startswith(
        "bundled:") else {"content": item.text, "source": item.origin} for item in loaded]
    body: dict[str, Any] = {"flows": specs}
    if args.session:
        body["session"] = args.session
    if since is not None:
        body["since"] = since
    url = args.url.rstrip("/") + "/inspector/api/flows/check"
    token = os.environ.get("INSPECTOR_API_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    deadline = time.monotonic() + args.wait
    while True:
        try:
            response = httpx.post(url, json=body, headers=headers, timeout=120.0)
        except httpx.HTTPError as error:
            raise _UsageError(f"cannot reach {args.url}: {error}") from error
        if response.status_code != 200:
            try:
                message = response.json().get("message", response.text)
            except ValueError:
                message = response.text[:200]
            raise _UsageError(f"{url}: HTTP {response.status_code}: {message}")
        results: list[dict[str, Any]] = response.json()["flows"]
        if time.monotonic() >= deadline or _settled(results):
            return results
        time.sleep(_POLL_SECONDS)


def check_json(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """``{"flows": [{"flow", "status", "steps": [{"name", "status", "message_ids",
    "reason"}]}]}``: the shape CI scripts read."""
    return {"flows": [{
        "flow": result["flow"], "status": result["status"],
        "steps": [{"name": step["name"], "status": step["status"],
                   "message_ids": step["message_ids"], "reason": step["reason"]}
                  for step in result["steps"]],
    } for result in results]}


def write_text(results: Sequence[dict[str, Any]], out: IO[str]) -> None:
    """A line per flow, then a line per step with its mark, calls and reason."""
    colour = colour_wanted(out)

    def paint(status: str, text: str) -> str:
        return f"{_COLOURS.get(status, '')}{text}{RESET}" if colour else text

    for result in results:
        out.write(f"{paint(result['status'], result['status'].upper())}  {result['flow']}\n")
        for step in result["steps"]:
            mark = paint(step["status"], _MARKS.get(step["status"], "?"))
            line = f"  {mark} {step['name']} ({step['status']})"
            if step["message_ids"]:
                line += f"  {', '.join(str(item) for item in step['message_ids'][:3])}"
                if len(step["message_ids"]) > 3:
                    line += f" (+{len(step['message_ids']) - 3} more)"
            out.write(line + "\n")
            if step["reason"]:
                out.write(f"      {step['reason']}\n")
    passed = sum(1 for result in results if result["status"] == "passed")
    out.write(f"{passed} of {len(results)} flow{'s' if len(results) != 1 else ''} passed\n")


def write_junit(results: Sequence[dict[str, Any]], out: IO[str]) -> None:
    """A test suite per flow and a test case per step (the QA report's flow suites:
    :func:`~inspector.core.report.junit.flow_testsuite`)."""
    from inspector.core.report.junit import flow_testsuite, junit_document
    from inspector.core.report.model import FlowStepReport

    out.write(junit_document(*(flow_testsuite(
        [FlowStepReport(name=step["name"], status=step["status"], reason=step["reason"],
                        event_ids=step.get("event_ids", []),
                        message_ids=[item or "" for item in step["message_ids"]])
         for step in result["steps"]], name=result["flow"], classname=result["flow"])
        for result in results)))
