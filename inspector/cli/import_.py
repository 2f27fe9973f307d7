"""``inspector import``: load NDJSON or a browser HAR into a capture session."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inspector.cli._common import add_db_option, fail
from inspector.core.exchange import import_file
from inspector.core.exchange.importer import ImportFileError
from inspector.core.paths import default_db_path
from inspector.core.store import EventStore

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``import`` subcommand."""
    parser = subparsers.add_parser(
        "import", help="import NDJSON Segment calls or a HAR saved from browser devtools"
    )
    parser.add_argument("file", type=Path, metavar="FILE")
    add_db_option(parser)
    parser.add_argument("--session", metavar="NAME",
                        help="session to import into (created if new; default: a new one)")
    parser.add_argument("--plan", type=Path, metavar="FILE", help="validate against this plan")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Import; exit 2 if the file cannot be read or is neither NDJSON nor HAR."""
    store = EventStore(args.db or default_db_path())
    validator = None
    if args.plan is not None:
        try:
            from inspector.core.plan import PlanValidator, load_plan_file

            validator = PlanValidator(load_plan_file(args.plan))
        except Exception as error:
            return fail(str(error))
    session = store.open_session(args.session or f"Import of {args.file.name}")
    try:
        summary = import_file(args.file, store, session.id, validator=validator)
    except ImportFileError as error:
        return fail(str(error))
    for problem in summary.skipped:
        print(f"inspector: skipped {problem}", file=sys.stderr)
    print(f"inspector: imported {summary.events} events from {summary.requests} requests "
          f"into session {session.name!r}", file=sys.stderr)
    return 0
