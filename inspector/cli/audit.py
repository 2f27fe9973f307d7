"""``inspector audit``: the retention audits over a stored session, for people and for CI."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from inspector.cli._common import DIM, RESET, add_db_option, colour_wanted, fail
from inspector.cli._sessions import SessionSourceError, load_session_json

__all__ = ["register", "run"]

_SEVERITY_COLOURS = {"error": "\033[31m", "warning": "\033[33m", "info": "\033[36m"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``audit`` subcommand."""
    parser = subparsers.add_parser(
        "audit", help="run the retention audits over a session",
        description="Audit a capture session for retention hygiene: people and identity, "
        "email capture, trait write rules. Exit 0 with no error-severity finding, 1 with "
        "any, 2 on a usage or configuration error.",
    )
    add_session_source(parser)
    parser.add_argument("--format", choices=("text", "json", "junit"), default="text")
    parser.add_argument("--print-schema", action="store_true",
                        help="print the JSON Schema of the audit file and exit")
    parser.set_defaults(handler=run)


def add_session_source(parser: argparse.ArgumentParser) -> None:
    """``--db`` or ``--url``, ``--session`` and ``--config``: where the session comes from."""
    add_db_option(parser)
    parser.add_argument("--url", metavar="URL",
                        help="a running `inspector serve` (e.g. http://127.0.0.1:8787) "
                        "instead of --db")
    parser.add_argument("--session", metavar="NAME",
                        help="session name or id (default: the latest, or serve's current)")
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="audit configuration file, JSON or YAML (default: the bundled "
                        "retention defaults)")


def run(args: argparse.Namespace) -> int:
    """Audit and report; exit 1 when any error-severity finding exists."""
    from inspector.core.audit import AuditConfig

    if args.print_schema:
        print(json.dumps(AuditConfig.json_schema(), indent=2))
        return 0
    try:
        result = load_session_json(args, "audit")
    except SessionSourceError as error:
        return fail(str(error))
    findings: list[dict[str, Any]] = result["findings"]
    out = sys.stdout
    try:
        if args.format == "json":
            out.write(json.dumps({"session": result["session"], "findings": findings},
                                 indent=2, ensure_ascii=False) + "\n")
        elif args.format == "junit":
            write_junit(result["session"], findings, result.get("checks", []), out)
        else:
            write_text(result["session"], findings, out)
        out.flush()
    except BrokenPipeError:
        # `inspector audit | head`: the reader left; that is not an error of ours.
        sys.stderr.close()
    return 1 if any(finding["severity"] == "error" for finding in findings) else 0


def write_text(session: dict[str, Any], findings: Sequence[dict[str, Any]], out: IO[str]) -> None:
    """One block per finding, errors first, then a count line."""
    colour = colour_wanted(out)
    for finding in findings:
        severity = finding["severity"]
        label = f"{severity.upper():<8}"
        if colour:
            label = f"{_SEVERITY_COLOURS.get(severity, '')}{label}{RESET}"
        check = f"{DIM}{finding['check']}{RESET}" if colour else finding["check"]
        out.write(f"{label}{check}\n    {finding['message']}\n")
        if finding["message_ids"]:
            shown = ", ".join(finding["message_ids"][:5])
            more = len(finding["message_ids"]) - 5
            out.write(f"    events: {shown}{f' (+{more} more)' if more > 0 else ''}\n")
    counts = {name: sum(1 for f in findings if f["severity"] == name)
              for name in ("error", "warning", "info")}
    summary = ", ".join(f"{n} {name}{'s' if n != 1 else ''}" for name, n in counts.items())
    out.write(f"session {session.get('name')!r}: {summary}\n")


def write_junit(session: dict[str, Any], findings: Sequence[dict[str, Any]],
                checks: Sequence[str], out: IO[str]) -> None:
    """A test case per check (failed by its error findings), so CI systems list them."""
    from inspector.core.report.junit import audit_testsuite, junit_document

    out.write(junit_document(
        audit_testsuite(f"inspector audit {session.get('name')}", findings, checks)))
