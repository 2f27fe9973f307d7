"""``inspector diff``: compare a candidate capture with a baseline, for people and for CI."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path

from inspector.cli._common import add_db_option, colour_wanted, fail

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
