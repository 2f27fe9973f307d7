"""``inspector people``: the people a session's traffic links, as Customer.io will see them."""

from __future__ import annotations

import argparse
import json
import sys
from typing import IO, Any

from inspector.cli._common import fail
from inspector.cli._sessions import SessionSourceError, load_session_json
from inspector.cli.audit import add_session_source

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``people`` subcommand."""
    parser = subparsers.add_parser(
        "people", help="list the people a session links (identifiers, traits, findings)",
        description="The people a session's calls link: userIds (with their shape), "
        "anonymousIds, emails, sources, each trait's current value and its writer, and the "
        "audit findings about each person.",
    )
    add_session_source(parser)
    parser.add_argument("--mode", choices=("classic", "actions", "pipelines"),
                        help="also show the Customer.io profiles a destination in this mode "
                        "would hold after the session (people, attributes, events, drops)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the people; exit 2 on a usage error."""
    try:
        result = load_session_json(args, "people")
    except SessionSourceError as error:
        return fail(str(error))
    try:
        if args.format == "json":
            sys.stdout.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        else:
            write_text(result, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        sys.stderr.close()
    return 0


def write_text(result: dict[str, Any], out: IO[str]) -> None:
    """A block per person."""
    people = result["people"]
    for person in people:
        out.write(f"{person['label']}  ({person['event_count']} calls, "
                  f"sources: {', '.join(person['sources']) or '-'})\n")
        for user in person["user_ids"]:
            out.write(f"    userId       {user['value']}  [{user['shape']}] from "
                      f"{', '.join(user['sources'])}\n")
        for anonymous in person["anonymous_ids"]:
            out.write(f"    anonymousId  {anonymous}\n")
        for email in person["emails"]:
            out.write(f"    email        {email}\n")
        for name, trait in person["traits"].items():
            out.write(f"    trait {name} = {json.dumps(trait['value'], ensure_ascii=False)}"
                      f"  (by {trait['source']}, {trait['writes']} value"
                      f"{'s' if trait['writes'] != 1 else ''})\n")
        for finding in person["findings"]:
            out.write(f"    {finding['severity']}: {finding['message']}\n")
    out.write(f"session {result['session'].get('name')!r}: {len(people)} "
              f"{'person' if len(people) == 1 else 'people'}\n")
    holdings = result.get("customerio")
    if holdings:
        out.write(f"\n{holdings['headline']}\n")
        for profile in holdings["profiles"]:
            out.write(f"    {profile['identifier']}: {len(profile['attributes'])} attributes, "
                      f"{len(profile['events'])} events\n")
        if holdings["dropped"]:
            out.write(f"    dropped: {len(holdings['dropped'])} calls "
                      f"(e.g. {holdings['dropped'][0]['reason']})\n")
        for anonymous, events in holdings["anonymous_unmerged"].items():
            out.write(f"    anonymous {anonymous}: {len(events)} events never merged\n")
        if holdings["outside_trigger_window"]:
            out.write(f"    {len(holdings['outside_trigger_window'])} events are older than "
                      "72 h: they cannot trigger campaigns\n")
