"""The ``inspector`` command line.

Each subcommand lives in its own module exposing ``register(subparsers)``, which adds a parser
whose ``handler`` default is a function ``(argparse.Namespace) -> int`` returning the exit code.
``inspector`` with no subcommand opens the window (when PySide6 is available).

Exit codes: 0 success, 1 the command ran and found problems (invalid events), 2 usage or
environment errors (bad arguments, unreadable files, a port already in use).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from inspector import __version__

#: ``inspector.core.store.derive.COMMAND``, spelled here so that the child's start imports
#: nothing it does not need before it is dispatched.
DERIVE_COMMAND = "_derive"

__all__ = ["build_parser", "main"]

#: Subcommand modules, in the order ``--help`` lists them.
_SUBCOMMANDS = ("serve", "export", "import_", "validate", "audit", "check", "people", "plan",
               "replay", "diff", "tls", "gui", "report", "assert_")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every subcommand that can be imported."""
    parser = argparse.ArgumentParser(
        prog="inspector",
        description="Capture, validate and replay Segment events on your own machine.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"inspector {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _SUBCOMMANDS:
        try:
            module = importlib.import_module(f"inspector.cli.{name}")
        except ModuleNotFoundError as error:
            # A subcommand whose module is not there yet, or whose optional dependency is not
            # installed, is left out of the parser rather than breaking every other command.
            if error.name is not None and error.name.startswith("inspector.cli"):
                continue
            raise
        module.register(subparsers)
    parser.epilog = _window_options(parser)
    return parser


def _window_options(parser: argparse.ArgumentParser) -> str | None:
    """The window's options, for the top-level help: ``inspector --demo`` (the README's first
    command) is ``inspector gui --demo``, and a user reading ``--help`` must find it."""
    for action in parser._subparsers._group_actions if parser._subparsers else []:
        if isinstance(action, argparse._SubParsersAction) and "gui" in action.choices:
            gui = action.choices["gui"]
            lines = ["With no COMMAND, inspector opens the window; its options (see "
                     "`inspector gui --help`):"]
            for option in gui._actions:
                if not option.option_strings or option.help == argparse.SUPPRESS:
                    continue
                if "-h" in option.option_strings:
                    continue
                flag = ", ".join(option.option_strings)
                if option.nargs != 0:
                    flag += f" {option.metavar or option.dest.upper()}"
                lines.append(f"  {flag:<18}{option.help or ''}")
            return "\n".join(lines)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == [DERIVE_COMMAND]:
        # The writer's background indexing child (unlisted; see inspector.core.store.derive),
        # started before anything else is imported: it needs none of the subcommands.
        from inspector.core.store.derive import main as derive_main

        return derive_main(arguments[1:])
    parser = build_parser()
    if _defaults_to_gui(parser, arguments):
        # No subcommand: open the window, so `inspector --demo` means `inspector gui --demo`.
        arguments = ["gui", *arguments]
    args = parser.parse_args(arguments)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        result: int = handler(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`inspector validate --format json | head`): stop quietly, as
        # a command killed by SIGPIPE would, instead of a traceback. Point stdout at /dev/null
        # so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    return result


def _defaults_to_gui(parser: argparse.ArgumentParser, arguments: list[str]) -> bool:
    if not _has_gui(parser) or any(a in ("-h", "--help", "--version") for a in arguments):
        return False
    choices = _subcommands(parser)
    return not any(argument in choices for argument in arguments)


def _subcommands(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._subparsers._group_actions if parser._subparsers else []:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def _has_gui(parser: argparse.ArgumentParser) -> bool:
    for action in parser._subparsers._group_actions if parser._subparsers else []:
        if isinstance(action, argparse._SubParsersAction) and "gui" in action.choices:
            return True
    return False
