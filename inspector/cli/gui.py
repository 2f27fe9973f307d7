"""``inspector gui`` (and ``inspector`` with no subcommand): open the window."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``gui`` subcommand."""
    parser = subparsers.add_parser(
        "gui", help="open the inspector window (the default with no subcommand)"
    )
    parser.add_argument("--port", type=int, default=8787, metavar="N",
                        help="capture port (default 8787; 0 = any free)")
    parser.add_argument("--host", default="127.0.0.1", metavar="ADDR", help="capture address")
    parser.add_argument("--db", metavar="PATH",
                        help="database file (default: per-user data folder)")
    parser.add_argument("--session", metavar="NAME", help="capture into this named session")
    parser.add_argument("--plan", metavar="FILE", help="tracking plan to validate against")
    parser.add_argument("--audit", metavar="FILE",
                        help="audit configuration, JSON or YAML (default: the bundled "
                        "retention defaults; see docs/audit.md)")
    parser.add_argument("--tls", action="store_true",
                        help="also capture over HTTPS (see `inspector serve --tls`)")
    parser.add_argument("--tls-port", type=int, metavar="PORT",
                        help="HTTPS port with --tls (default: --port + 1)")
    parser.add_argument("--forward", metavar="URL",
                        help="also send each request upstream (see `inspector serve --forward`)")
    parser.add_argument("--demo", action="store_true",
                        help="load the example plan and send demo traffic")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Open the window; 2 when PySide6 is missing."""
    try:
        from inspector.gui.app import run as run_gui
    except ImportError as error:
        import sys

        print(f"inspector: the window needs PySide6 ({error}); try `inspector serve`",
              file=sys.stderr)
        return 2
    return run_gui(args)
