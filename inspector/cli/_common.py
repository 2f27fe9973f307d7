"""Helpers shared by subcommands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_db_option", "fail"]


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
