"""``inspector tls``: the local CA that ``--tls`` uses, and how to trust it.

Only the CA's public certificate is ever printed or pointed at; the private key stays in the
data folder (mode 0600) and no command exports it.
"""

from __future__ import annotations

import argparse

from inspector.cli._common import fail
from inspector.core.tls import TlsError, load_or_create_ca, trust_instructions

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``tls`` subcommand."""
    parser = subparsers.add_parser(
        "tls", help="the local CA behind --tls: its certificate path and how to trust it",
        description="Print the local CA certificate (public) that signs the HTTPS certificate "
        "of `inspector serve --tls`, created on first use.",
    )
    actions = parser.add_subparsers(dest="tls_action", metavar="ACTION", required=True)
    actions.add_parser("ca-path", help="print the CA certificate's path (nothing else)")
    actions.add_parser("show", help="print the path, SHA-256 fingerprint and how to trust it "
                       "on iOS simulators, Android emulators, browsers and OS stores")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print what the action asks for."""
    try:
        ca = load_or_create_ca()
    except TlsError as error:
        return fail(str(error))
    if args.tls_action == "ca-path":
        print(ca.cert_path)
    else:
        print(trust_instructions(ca), end="")
    return 0
