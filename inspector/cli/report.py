"""``inspector report``: a session's QA report as HTML, JUnit XML or Markdown."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.cli._common import (
    CaptureDatabaseError,
    add_db_option,
    fail,
    open_capture_session,
)

if TYPE_CHECKING:
    from inspector.core.audit import AuditConfig
    from inspector.core.compare import Comparison
    from inspector.core.flows import LoadedFlow
    from inspector.core.report import FlowRunReport
    from inspector.core.store import EventStore, SessionInfo

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``report`` subcommand."""
    parser = subparsers.add_parser(
        "report", help="write a session's QA report (HTML, JUnit or Markdown)",
        description="Write a QA report of a stored session: counts by status, the plan, the "
        "audit findings, violations by kind, notes, and each failing event's JSON with the "
        "offending field highlighted. Exit 0 when the report passes, 1 when it fails "
        "(a problem event or an error finding), 2 on a usage or file error.",
    )
    add_db_option(parser)
    parser.add_argument("--session", metavar="NAME",
                        help="session name or id (default: the latest)")
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="audit configuration file, JSON or YAML (default: the bundled "
                        "retention defaults)")
    parser.add_argument("--plan", type=Path, metavar="FILE",
                        help="the tracking plan the session was validated against, named in "
                        "the summary with its SHA-256 (statuses are as stored: this does not "
                        "re-validate)")
    parser.add_argument("--flow", action="append", default=[], metavar="NAME|FILE",
                        help="also evaluate this flow over the whole session (the session's "
                        "kept flow runs are always in the report); repeat for several")
    parser.add_argument("--baseline", metavar="SESSION",
                        help="also compare the session (the candidate) with this baseline: a "
                        "session name or id, or an NDJSON / HAR file, as inspector diff takes; "
                        "an error-severity difference fails the report")
    parser.add_argument("--format", required=True, choices=("html", "junit", "md"))
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="FILE",
                        help="the file to write")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Write the report; 1 when it fails, 2 when it cannot be written."""
    from inspector.core.audit import AuditConfigError, load_audit_config
    from inspector.core.plan import PlanError
    from inspector.core.report import build_report, describe_plan_file, write_report

    try:
        config = load_audit_config(args.config)
    except AuditConfigError as error:
        return fail(str(error))
    plan = None
    if args.plan is not None:
        try:
            plan = describe_plan_file(args.plan)
        except PlanError as error:
            return fail(f"--plan: {error}")
    from inspector.core.flows import FlowError, load_flow

    try:
        loaded = [load_flow(spec) for spec in args.flow]
    except FlowError as error:
        return fail(str(error))
    try:
        store, session = open_capture_session(args.db, args.session)
    except CaptureDatabaseError as error:
        return fail(str(error))
    try:
        comparison: Comparison | None = None
        if args.baseline is not None:
            compared = _compare(store, session, args.baseline)
            if isinstance(compared, str):
                return fail(compared)
            comparison = compared
        data = build_report(store, session, audit_config=config,
                            audit_config_path=args.config, plan=plan,
                            flow_runs=_flow_runs(store, session.id, loaded, config),
                            comparison=comparison)
    finally:
        store.close()
    try:
        size = write_report(data, args.format, args.output)
    except OSError as error:
        return fail(f"cannot write {args.output}: {error.strerror or error}")
    verdict = "passed" if data.passed else "failed"
    print(f"inspector: wrote the {args.format} report of {session.name!r} to {args.output} "
          f"({size:,} bytes): {verdict}", file=sys.stderr)
    return 0 if data.passed else 1


def _compare(store: EventStore, session: SessionInfo, spec: str) -> Comparison | str:
    """The session compared with the baseline ``spec``, or why it cannot be (exit 2)."""
    from inspector.core.compare import Side, SideError, SideInfo, compare, open_side

    candidate = Side(store, SideInfo(session.name, session.id, session.event_count),
                     db_path=store.path)
    try:
        with open_side(spec, store, label="--baseline") as baseline:
            return compare(baseline, candidate)
    except SideError as error:
        return str(error)


def _flow_runs(store: EventStore, session_id: int, loaded: Sequence[LoadedFlow],
               config: AuditConfig) -> list[FlowRunReport]:
    """The session's kept flow runs, then each ``--flow`` evaluated over the whole session."""
    import time

    from inspector.core.flows.runs import flow_result_report, flow_run_reports, load_runs
    from inspector.core.flows.session import evaluate_session

    reports = flow_run_reports(load_runs(store, session_id))
    if loaded:
        now = time.time()
        results = evaluate_session(store, session_id, [item.flow for item in loaded], config)
        reports += [flow_result_report(result, f"check-{result.flow}", now, now)
                    for result in results]
    return reports
