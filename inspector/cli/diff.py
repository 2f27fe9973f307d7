"""``inspector diff``: compare a candidate capture with a baseline, for people and for CI."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.cli._common import add_db_option, colour_wanted, fail

if TYPE_CHECKING:
    from inspector.core.compare import Side

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``diff`` subcommand."""
    parser = subparsers.add_parser(
        "diff", help="compare a candidate capture with a baseline",
        description="Compare two captures: missing or new events and properties, type and "
        "value changes, sources, identity, and the order of calls per person. BASELINE and "
        "CANDIDATE are session names or ids, or NDJSON / HAR files (imported for the "
        "comparison). With CANDIDATE alone, the baseline is the session accepted in the "
        "window (\"Accept as new baseline\"). Exit 0 with no error-severity difference, 1 "
        "with any, 2 on a usage error.",
    )
    parser.add_argument("sides", nargs="+", metavar="BASELINE CANDIDATE",
                        help="the baseline, then the candidate")
    add_db_option(parser)
    parser.add_argument("--ignore", action="append", default=[], metavar="PATH",
                        help="a path glob not to compare (repeatable; added to the default "
                        "volatile fields: messageId, timestamps, context.ip...)")
    parser.add_argument("--flow", metavar="NAME|FILE",
                        help="compare only the calls of this flow's run on each side (a "
                        "bundled flow or a flow file, as inspector check takes); the order "
                        "compared is then the order of the flow's steps")
    parser.add_argument("--format", choices=("text", "json", "junit", "html"), default="text")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE",
                        help="write the report to FILE instead of standard output")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Compare and report; exit 1 when any difference is an error."""
    from inspector.core.compare import CompareOptions, SideError, compare, open_side
    from inspector.core.compare.report import FORMATS
    from inspector.core.paths import default_db_path
    from inspector.core.store import EventStore

    if len(args.sides) > 2:
        return fail("give BASELINE and CANDIDATE (or CANDIDATE alone)")
    path = args.db or default_db_path()
    with ExitStack() as stack:
        store = None
        if path.exists():
            try:
                store = EventStore(path)
            except Exception as error:  # an unreadable or foreign file
                return fail(f"cannot open the capture database {path}: {error}")
            stack.callback(store.close)
        specs = list(args.sides)
        if len(specs) == 1:
            accepted = store.accepted_baseline() if store is not None else None
            if accepted is None:
                return fail("no baseline given and none accepted yet (give BASELINE "
                            "CANDIDATE, or accept a baseline in the window)")
            specs.insert(0, str(accepted.id))
        try:
            baseline = stack.enter_context(open_side(specs[0], store, label="baseline"))
            candidate = stack.enter_context(open_side(specs[1], store, label="candidate"))
        except SideError as error:
            return fail(str(error))
        if args.flow is not None:
            narrowed = _narrow(args.flow, baseline, candidate)
            if isinstance(narrowed, str):
                return fail(narrowed)
            baseline, candidate = narrowed
        comparison = compare(baseline, candidate, CompareOptions(ignore=tuple(args.ignore)))
    if args.format == "text":
        from inspector.core.compare.report import render_text

        stream = sys.stdout if args.output is None else None
        text = render_text(comparison, colour=stream is not None and colour_wanted(stream))
    else:
        text = FORMATS[args.format](comparison)
    if args.output is not None:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as error:
            return fail(f"cannot write {args.output}: {error.strerror}")
    else:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:
            sys.stderr.close()
    return 1 if comparison.has_errors else 0


def _narrow(spec: str, baseline: Side, candidate: Side) -> tuple[Side, Side] | str:
    """Both sides narrowed to the flow's run, or why not (a usage error: exit 2).

    A baseline run with no call is a usage error (nothing to compare against: the wrong flow
    or the wrong session); a candidate run with no call is compared, so each of the
    baseline's calls is a ``missing_event`` and the exit is 1.
    """
    from inspector.core.compare.flow_side import narrow_to_flow
    from inspector.core.flows import FlowError, load_flow

    try:
        flow = load_flow(spec).flow
    except FlowError as error:
        return str(error)
    old, new = narrow_to_flow(baseline, flow), narrow_to_flow(candidate, flow)
    if not old.event_ids:
        return (f"--flow {flow.name}: its run matched no call in the baseline "
                f"{baseline.info.name!r}, so there is nothing to compare against")
    if not new.event_ids:
        print(f"inspector: --flow {flow.name}: its run matched no call in the candidate "
              f"{candidate.info.name!r}", file=sys.stderr)
    return old, new
