"""``inspector replay``: send a session's (corrected) events to a Customer.io workspace.

Examples::

    inspector replay --session qa --destination "Staging EU" --dry-run
    inspector replay --session qa --status invalid --mode classic --site-id SITE \\
        --api-key-env CIO_API_KEY --track-host http://127.0.0.1:8080
    inspector replay --add-destination "Staging EU" --mode actions --region eu \\
        --site-id SITE --api-key-env CIO_API_KEY
    inspector replay --resume 12 --destination "Staging EU"
    inspector replay --session prod-capture --destination "Staging EU" --audit audit.yaml \
        --allow-cross-environment

Exit codes: 0 everything sent (or previewed), 1 some events failed or were held, 2 usage errors.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import orjson
from pydantic import SecretStr, ValidationError

from inspector.cli._common import add_db_option, fail
from inspector.core.environments import EnvironmentMap
from inspector.core.fixes import CorrectionStore
from inspector.core.paths import default_db_path
from inspector.core.replay import (
    Credentials,
    CredentialStore,
    Destination,
    DestinationStore,
    Dropped,
    ItemStatus,
    Marking,
    Mode,
    PlannedRequest,
    ProductionLockedError,
    Rejected,
    ReplayClient,
    ReplayControl,
    ReplayEngine,
    ReplayOptions,
    ReplayProgress,
    ReplayRunStore,
    cross_environment,
    preview_requests,
    replay_scope,
    to_items,
)
from inspector.core.secrets import SecretStoreError
from inspector.core.store import EventQuery, EventStore
from inspector.core.store.connection import Database

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``replay`` subcommand."""
    parser = subparsers.add_parser(
        "replay", help="replay (corrected) events to a staging Customer.io workspace"
    )
    add_db_option(parser)
    parser.add_argument("--session", metavar="NAME", help="session to replay")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--status", help="only events with these statuses, comma-separated")
    which.add_argument("--event", metavar="NAME", help="only events with this name")
    parser.add_argument("--destination", metavar="NAME", help="a saved destination")
    inline = parser.add_argument_group("inline destination (instead of --destination)")
    inline.add_argument("--mode", choices=[str(mode) for mode in Mode])
    inline.add_argument("--site-id", metavar="ID", default="")
    inline.add_argument("--api-key-env", metavar="VAR",
                        help="environment variable holding the API key (never on the command "
                             "line, where it would land in shell history)")
    inline.add_argument("--track-host", metavar="URL",
                        help="override the Customer.io host (self-hosted proxy, tests)")
    inline.add_argument("--region", choices=["us", "eu"], default="us")
    inline.add_argument("--send-anonymous", action="store_true",
                        help="Classic: send events without userId to /api/v1/events")
    inline.add_argument("--no-unix-time", action="store_true",
                        help="do not convert ISO 8601 traits/properties to unix seconds")
    inline.add_argument("--production", action="store_true",
                        help="mark the destination production (replay needs --unlock NAME)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the requests as JSON lines {method, url, body}; send nothing")
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second (100)")
    parser.add_argument("--unlock", metavar="NAME",
                        help="type a production destination's name to allow this run")
    parser.add_argument("--audit", metavar="FILE", type=Path,
                        help="the audit configuration whose environments say which write "
                        "keys are production and staging (and each one's destination)")
    parser.add_argument("--allow-cross-environment", action="store_true",
                        help="replay even when events captured with production keys go to "
                        "a staging workspace, or staging events to production")
    runs = parser.add_mutually_exclusive_group()
    runs.add_argument("--resume", type=int, metavar="RUN", help="resume an interrupted run")
    runs.add_argument("--retry-failed", type=int, metavar="RUN",
                      help="send a run's failed and held events again")
    parser.add_argument("--test-connection", action="store_true",
                        help="check the credentials and region, then stop")
    parser.add_argument("--add-destination", metavar="NAME",
                        help="save the inline destination under NAME (the key goes to the "
                        "keyring, or stays in --api-key-env with --key-from-env)")
    parser.add_argument("--key-from-env", action="store_true",
                        help="with --add-destination: store no key, read --api-key-env's "
                        "variable at every replay instead")
    parser.add_argument("--allow-plaintext-keyring", action="store_true",
                        help="store the key even when the keyring backend is a plaintext file "
                        "(also INSPECTOR_ALLOW_PLAINTEXT_KEYRING=1)")
    parser.add_argument("--list-destinations", action="store_true")
    parser.set_defaults(handler=run)


class _UsageError(Exception):
    """A problem with the arguments; reported in one line, exit code 2."""


def run(args: argparse.Namespace) -> int:
    """Run the subcommand."""
    path = args.db or default_db_path()
    try:
        db = Database(path)
        destinations = DestinationStore(
            db, CredentialStore(allow_plaintext=args.allow_plaintext_keyring))
        if args.list_destinations:
            for destination in destinations.list():
                print(destination.model_dump_json())
            print(f"inspector: keys are kept in: "
                  f"{destinations.credentials.backend().description}", file=sys.stderr)
            return 0
        if args.add_destination:
            new, secret = _inline(args, name=args.add_destination)
            if args.key_from_env:
                new = new.model_copy(update={"api_key_env": args.api_key_env,
                                             "site_id": args.site_id})
            destinations.save(new, secret)
            where = (f"the key is read from ${args.api_key_env} at each replay"
                     if args.key_from_env else
                     f"credentials in the {destinations.credentials.backend().description}")
            print(f"inspector: saved destination {new.name!r} ({where})", file=sys.stderr)
            return 0
        destination, credentials = _destination(args, destinations)
        if args.test_connection:
            return asyncio.run(_test_connection(destination, credentials))
        if args.resume is not None or args.retry_failed is not None:
            run_id = args.resume if args.resume is not None else args.retry_failed
            return asyncio.run(_replay(args, db, destination, credentials, run_id,
                                       retry_failed=args.retry_failed is not None))
        store = EventStore(path)
        if not args.session:
            raise _UsageError("--session is required")
        session = store.session_by_name(args.session)
        if session is None:
            raise _UsageError(f"no session {args.session!r} in {path}")
        statuses = [s for s in args.status.split(",") if s] if args.status else None
        query = EventQuery(session_id=session.id, status=statuses, event=args.event)
        environments = _environments(args.audit)
        scope = replay_scope(CorrectionStore(store).iter_effective(query), environments,
                             store.write_key_names())
        pairs = scope.pairs
        crossing = cross_environment(environments, destination, scope.environments)
        if crossing is not None:
            print(f"inspector: warning: {crossing.message}", file=sys.stderr)
        if args.dry_run:
            return _dry_run(destination, pairs)
        if crossing is not None and not args.allow_cross_environment:
            raise _UsageError("not replayed across environments: add "
                              "--allow-cross-environment to replay anyway")
        if destination.marking is Marking.PRODUCTION and args.unlock != destination.name:
            raise _UsageError(f"{destination.name!r} is marked production: add "
                              f"--unlock {destination.name!r} to replay to it")
        runs = ReplayRunStore(db)
        planned = runs.create_run(destination, pairs, session_id=session.id,
                                  options={"rate": args.rate})
        print(f"inspector: run {planned.id}: {len(pairs)} events from {session.name!r} to "
              f"{destination.name!r}", file=sys.stderr)
        return asyncio.run(_replay(args, db, destination, credentials, planned.id))
    except (_UsageError, SecretStoreError) as error:
        return fail(str(error))
    except (ValidationError, ValueError) as error:
        return fail(str(error).splitlines()[0])


def _environments(path: Path | None) -> EnvironmentMap:
    """The environments of the audit file (none without one: no cross-environment check)."""
    from inspector.core.audit import AuditConfigError, load_audit_config

    if path is None:
        return EnvironmentMap()
    try:
        return load_audit_config(path).environment_map
    except AuditConfigError as error:
        raise _UsageError(f"audit configuration: {error}") from error


def _inline(args: argparse.Namespace, *, name: str) -> tuple[Destination, Credentials]:
    if not args.mode:
        raise _UsageError("give --destination NAME, or --mode with --api-key-env")
    if not args.api_key_env:
        raise _UsageError("--api-key-env VAR is required for an inline destination")
    key = os.environ.get(args.api_key_env)
    if not key:
        raise _UsageError(f"environment variable {args.api_key_env} is not set")
    destination = Destination(
        name=name, mode=Mode(args.mode), region=args.region, track_host=args.track_host,
        marking=Marking.PRODUCTION if args.production else Marking.STAGING,
        send_anonymous=args.send_anonymous, convert_to_unix_time=not args.no_unix_time,
    )
    return destination, Credentials(site_id=args.site_id, api_key=SecretStr(key))


def _destination(
    args: argparse.Namespace, destinations: DestinationStore
) -> tuple[Destination, Credentials | None]:
    if args.destination:
        destination = destinations.get(args.destination)
        if destination is None:
            raise _UsageError(f"no destination called {args.destination!r}")
        credentials = destinations.credentials_for(destination)
        if credentials is None and not args.dry_run:
            raise _UsageError(destinations.missing_credentials(destination))
        return destination, credentials
    destination, credentials = _inline(args, name=args.track_host or f"inline {args.mode}")
    return destination, credentials


def _dry_run(destination: Destination, pairs: Sequence[tuple[int | None, Any]]) -> int:
    out = sys.stdout.buffer
    dropped = 0
    for entry in preview_requests(destination, to_items(pairs)):
        if isinstance(entry, PlannedRequest):
            request = entry.request
            out.write(orjson.dumps({"method": request.method, "url": request.url,
                                    "body": request.body}) + b"\n")
        elif isinstance(entry, Dropped | Rejected):
            dropped += 1
            event_id = pairs[entry.seq][0]
            kind = "dropped" if isinstance(entry, Dropped) else "rejected"
            print(f"inspector: event {event_id} {kind}: {entry.reason}", file=sys.stderr)
    out.flush()
    if dropped:
        print(f"inspector: {dropped} events would not be sent", file=sys.stderr)
    return 0


async def _test_connection(destination: Destination, credentials: Credentials | None) -> int:
    if credentials is None:
        return fail(f"no credentials for {destination.name!r}")
    async with ReplayClient(destination, credentials) as client:
        check = await client.test_connection()
    print(f"inspector: {check.message}", file=sys.stderr)
    return 0 if check.ok and not check.region_mismatch else 1


async def _replay(
    args: argparse.Namespace, db: Database, destination: Destination,
    credentials: Credentials | None, run_id: int, *, retry_failed: bool = False,
) -> int:
    if credentials is None:
        return fail(f"no credentials for {destination.name!r}")
    runs = ReplayRunStore(db)
    control = ReplayControl()
    loop = asyncio.get_running_loop()
    # First Ctrl-C stops cleanly (in-flight requests finish, the rest stays pending).
    with suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGINT, control.cancel)
    last_shown = [0.0]

    def show(progress: ReplayProgress) -> None:
        if progress.elapsed - last_shown[0] >= 1.0 or progress.pending == 0:
            last_shown[0] = progress.elapsed
            print(f"\rinspector: {progress.done}/{progress.total} "
                  f"(sent {progress.sent}, failed {progress.failed}, dropped {progress.dropped})",
                  end="", file=sys.stderr)

    options = ReplayOptions(rate=args.rate)
    try:
        async with ReplayClient(destination, credentials) as client:
            engine = ReplayEngine(runs, client, options=options, control=control,
                                  on_progress=show)
            summary = await engine.run(run_id, retry_failed=retry_failed, unlock=args.unlock)
    except ProductionLockedError as error:
        return fail(str(error))
    except KeyError as error:
        return fail(str(error.args[0]))
    finally:
        with suppress(NotImplementedError):
            loop.remove_signal_handler(signal.SIGINT)
    print(file=sys.stderr)
    print(orjson.dumps(summary.to_dict()).decode())
    counts = summary.counts
    if counts[ItemStatus.PENDING]:
        print(f"inspector: {counts[ItemStatus.PENDING]} events not sent yet; continue with "
              f"--resume {run_id}", file=sys.stderr)
    if counts[ItemStatus.FAILED] or counts[ItemStatus.HELD]:
        print(f"inspector: send the failed ones again with --retry-failed {run_id}",
              file=sys.stderr)
        return 1
    return 0
