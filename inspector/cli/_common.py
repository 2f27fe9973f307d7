"""Helpers shared by subcommands."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING

from inspector.core.model import Status

if TYPE_CHECKING:
    import httpx

    from inspector.core.store import EventStore, SessionInfo

__all__ = ["DIM", "RESET", "STATUS_COLOURS", "CaptureDatabaseError", "add_db_option",
           "api_headers", "colour_wanted", "error_message", "fail", "open_capture_session"]

#: ANSI colours for the five statuses on a terminal (the window's palette, roughly).
STATUS_COLOURS = {
    Status.VALID: "\033[32m",
    Status.INVALID: "\033[31m",
    Status.UNPLANNED: "\033[33m",
    Status.MALFORMED: "\033[35m",
    Status.NOT_VALIDATED: "\033[90m",
}
RESET = "\033[0m"
DIM = "\033[2m"


def colour_wanted(stream: IO[str]) -> bool:
    """Colour on a terminal, unless NO_COLOR is set (https://no-color.org)."""
    return stream.isatty() and os.environ.get("NO_COLOR") is None


def add_db_option(parser: argparse.ArgumentParser) -> None:
    """``--db PATH``: the capture database (default: the per-user data folder)."""
    parser.add_argument(
        "--db", type=Path, default=None, metavar="PATH",
        help="capture database (default: per-user data folder, or $INSPECTOR_DB)",
    )


def fail(message: str, code: int = 2) -> int:
    """Print a one-line error to stderr and return ``code``."""
    print(f"inspector: {message}", file=sys.stderr)
    return code


def api_headers() -> dict[str, str]:
    """The headers a command sends to a serve's REST API: its bearer token, which a serve
    bound beyond loopback requires (printed at its start), from ``$INSPECTOR_API_TOKEN``."""
    token = os.environ.get("INSPECTOR_API_TOKEN")
    return {"Authorization": f"Bearer {token}"} if token else {}


def error_message(response: httpx.Response) -> str:
    """The ``message`` of an API error answer (its text when it is not the JSON one)."""
    try:
        message = response.json().get("message", response.text)
    except ValueError:
        message = response.text[:200]
    return str(message)


class CaptureDatabaseError(Exception):
    """The capture database or the session asked for cannot be used (a usage error: exit 2)."""


def open_capture_session(db: Path | None, session: str | None
                         ) -> tuple[EventStore, SessionInfo]:
    """The capture database ``db`` (default: the per-user one) and its session named or
    numbered ``session`` (default: the latest). The caller closes the store."""
    from inspector.core.paths import default_db_path
    from inspector.core.store import EventStore

    path = db or default_db_path()
    if not path.exists():
        raise CaptureDatabaseError(f"no capture database at {path}")
    try:
        store = EventStore(path)
    except Exception as error:  # an unreadable or foreign file
        raise CaptureDatabaseError(
            f"cannot open the capture database {path}: {error}") from error
    found = store.find_session(session) if session else store.latest_session()
    if found is None:
        store.close()
        raise CaptureDatabaseError(f"no session {session!r} in {path}" if session
                                   else f"no sessions in {path}")
    return store, found
