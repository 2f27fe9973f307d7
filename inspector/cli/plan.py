"""``inspector plan``: list a plan's rules, fetch one from Segment, keep the API token.

    inspector plan show PLAN [--json]
    inspector plan fetch --plan-id tp_... --token-name NAME -o FILE
    inspector plan token NAME          (reads the token from stdin, or prompts on a terminal)
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from inspector.core.plan import PlanError, compile_plan, load_plan_file
from inspector.core.plan.fetch import DEFAULT_BASE_URL, fetch_plan_data, load_token, store_token
from inspector.core.plan.formats import load_data

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``plan`` subcommand and its actions."""
    parser = subparsers.add_parser("plan", help="show, fetch and manage tracking plans")
    actions = parser.add_subparsers(dest="plan_command", metavar="ACTION", required=True)

    show = actions.add_parser("show", help="list a plan's rules")
    show.add_argument("plan", metavar="PLAN", help="tracking plan file")
    show.add_argument("--json", action="store_true", help="print JSON instead of a table")
    show.set_defaults(handler=run, action=_show)

    fetch = actions.add_parser("fetch", help="download a plan from the Segment Public API")
    fetch.add_argument("--plan-id", required=True, help="the tp_... tracking plan id")
    fetch.add_argument("--token-name", required=True,
                       help="name the Public API token was stored under (`plan token NAME`)")
    fetch.add_argument("-o", "--output", required=True, help="file to write the plan to")
    fetch.add_argument("--base-url", default=DEFAULT_BASE_URL,
                       help="Public API base URL (EU: https://eu1.api.segmentapis.com)")
    fetch.set_defaults(handler=run, action=_fetch)

    token = actions.add_parser("token", help="store a Public API token in the keyring")
    token.add_argument("name", help="a name to refer to the token by")
    token.add_argument("--allow-plaintext-keyring", action="store_true",
                       help="store it even when the keyring backend is a plaintext file "
                       "(also INSPECTOR_ALLOW_PLAINTEXT_KEYRING=1)")
    token.set_defaults(handler=run, action=_token)


def run(args: argparse.Namespace) -> int:
    """Dispatch to the chosen action; PlanError exits with status 2."""
    try:
        result: int = args.action(args)
    except PlanError as error:
        print(f"inspector plan: {error}", file=sys.stderr)
        return 2
    return result


def _show(args: argparse.Namespace) -> int:
    plan = load_plan_file(args.plan).plan  # compiled: a plan that cannot validate is an error
    rows: list[dict[str, Any]] = []
    for (rule_type, key), versions in sorted(
        plan.rules.items(), key=lambda item: (str(item[0][0]), item[0][1] or "")
    ):
        default = versions[0]
        rows.append({
            "type": str(rule_type),
            "key": key,
            "versions": [rule.version for rule in versions],
            "deprecated_versions": [rule.version for rule in versions if rule.deprecated],
            "default_version": default.version,
            "required": default.required_fields(),
        })
    if args.json:
        print(json.dumps({"source": plan.source, "format": plan.format, "name": plan.name,
                          "settings": plan.settings.to_dict(), "rules": rows}, indent=2))
        return 0
    print(f"{plan.name or plan.source}: {plan.format}, {len(plan)} rules")
    width = max([len(row["key"] or "") for row in rows] + [3])
    print(f"{'TYPE':<9} {'KEY':<{width}} {'VERSIONS':<12} REQUIRED")
    for row in rows:
        listed = ",".join(
            f"{v}{' (deprecated)' if v in row['deprecated_versions'] else ''}"
            for v in row["versions"]
        )
        print(f"{row['type']:<9} {row['key'] or '-':<{width}} {listed:<12} "
              f"{', '.join(row['required']) or '-'}")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    token = load_token(args.token_name)
    data = fetch_plan_data(args.plan_id, token, base_url=args.base_url)
    # Compiled, to refuse to save an unusable plan.
    plan = compile_plan(load_data(data, source=f"segment:{args.plan_id}")).plan
    Path(args.output).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"saved {len(plan)} rules of {plan.name or args.plan_id} to {args.output}")
    return 0


def _token(args: argparse.Namespace) -> int:
    if sys.stdin.isatty():
        token = getpass.getpass(f"Segment Public API token for {args.name!r}: ")
    else:
        token = sys.stdin.readline()
    token = token.strip()
    if not token:
        print("inspector plan token: no token given", file=sys.stderr)
        return 2
    backend = store_token(args.name, token, allow_plaintext=args.allow_plaintext_keyring)
    print(f"stored token {args.name!r} in the {backend.description}")
    return 0
