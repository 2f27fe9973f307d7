"""``inspector export``: write a session as NDJSON, HAR or CSV."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from inspector.cli._common import add_db_option, fail
from inspector.core.exchange import EXPORT_FORMATS, export_events
from inspector.core.paths import default_db_path
from inspector.core.store import EventQuery, EventStore

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``export`` subcommand."""
    parser = subparsers.add_parser("export", help="export a capture session")
    add_db_option(parser)
    parser.add_argument("--session", metavar="NAME", help="session name (default: the latest)")
    parser.add_argument("--format", required=True, choices=EXPORT_FORMATS)
    parser.add_argument("--status", help="only these statuses, comma-separated")
    parser.add_argument("-o", "--output", metavar="FILE", help="output file (default: stdout)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Export; exit 2 if the database or session cannot be found."""
    path = args.db or default_db_path()
    if not path.exists():
        return fail(f"no capture database at {path}")
    store = EventStore(path)
    session = store.session_by_name(args.session) if args.session else store.latest_session()
    if session is None:
        return fail(f"no session {args.session!r} in {path}" if args.session
                    else f"no sessions in {path}")
    statuses = [s for s in args.status.split(",") if s] if args.status else None
    query = EventQuery(session_id=session.id, status=statuses)
    stream: TextIO
    if args.output:
        try:
            stream = open(args.output, "w", encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as error:
            return fail(f"cannot write {args.output}: {error.strerror}")
    else:
        stream = sys.stdout
    try:
        summary = export_events(store, query, args.format, stream)
    finally:
        if stream is not sys.stdout:
            stream.close()
    note = f" ({summary.raw} malformed, written as received)" if summary.raw else ""
    unit = "requests" if args.format == "har" else "events"
    print(f"inspector: exported {summary.written} {unit} from {session.name!r}{note}",
          file=sys.stderr)
    return 0
