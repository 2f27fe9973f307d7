"""Helpers shared by subcommands."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import IO

from inspector.core.model import Status

__all__ = ["DIM", "RESET", "STATUS_COLOURS", "add_db_option", "colour_wanted", "fail"]

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
