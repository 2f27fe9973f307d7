"""``inspector serve``: the capture endpoint and REST API without a window (for CI)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import threading
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import TextIO

from inspector.cli._access import (
    AccessOptionError,
    access_config,
    access_notice,
    add_access_options,
    ready_fields,
)
from inspector.cli._common import RESET, STATUS_COLOURS, add_db_option, colour_wanted, fail
from inspector.core.capture import CaptureConfig, CaptureError, CaptureService
from inspector.core.gc_tuning import CAPTURE_YOUNG_THRESHOLD, settle_garbage_collector
from inspector.core.model import Status
from inspector.core.paths import database_problem, default_db_path
from inspector.core.store import CommittedEvent

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``serve`` subcommand."""
    parser = subparsers.add_parser(
        "serve",
        help="run the capture endpoint headless (for CI pipelines and scripts)",
        description="Capture Segment calls on HOST:PORT and serve the REST API under "
        "/inspector/api/. Point a Segment library's host at http://HOST:PORT.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="port (default 8787; 0 = any free)")
    add_db_option(parser)
    parser.add_argument("--session", metavar="NAME", help="capture session name (created if new)")
    parser.add_argument("--plan", type=Path, metavar="FILE",
                        help="tracking plan to validate against")
    parser.add_argument("--audit", type=Path, metavar="FILE",
                        help="audit configuration (JSON or YAML) for GET /inspector/api/audit "
                        "and /people (default: the bundled retention defaults)")
    parser.add_argument("--forward", metavar="URL",
                        help="also send each request upstream, e.g. https://api.segment.io")
    parser.add_argument("--name-key", action="append", default=[], metavar="KEY=NAME",
                        help="label a write key, e.g. --name-key abc123='staging web'")
    parser.add_argument("--durable", action="store_true",
                        help="fsync every commit, so an acknowledged event also survives a "
                        "power cut or OS crash (without it: a crash of inspector only); slower")
    parser.add_argument("--tls", action="store_true",
                        help="also serve HTTPS (mobile SDKs, analytics-next batching) with a "
                        "certificate from inspector's local CA; see `inspector tls show`")
    parser.add_argument("--tls-port", type=int, metavar="PORT",
                        help="HTTPS port with --tls (default: --port + 1; 0 = any free)")
    parser.add_argument("--analytics-js", type=Path, metavar="DIR",
                        help="serve /analytics.js/v1/<key>/analytics.min.js from this "
                        "@segment/analytics-next package (default $INSPECTOR_ANALYTICS_JS)")
    parser.add_argument("--quiet", action="store_true", help="do not print a line per event")
    add_access_options(parser)
    parser.add_argument("--ready-json", action="store_true",
                        help="print one JSON line when listening ({\"url\": ..., \"port\": ..., "
                        "\"session\": {...}, \"database\": ..., \"urls\": [...], "
                        "\"token_required\": ..., \"api_token\": ... when generated}) instead "
                        "of the banner; for programs that start serve with --port 0")
    parser.add_argument("--exit-with-stdin", action="store_true",
                        help="stop when stdin reaches end of file (the parent process that "
                        "holds its other end exited, even if it was killed)")
    parser.add_argument("--demo", action="store_true",
                        help="load the bundled example plan and send demo checkout traffic")
    parser.set_defaults(handler=run)


class EventPrinter:
    """Prints one line per committed event, batched off the writer thread."""

    def __init__(self, stream: TextIO, names: dict[str, str]) -> None:
        self._stream = stream
        self._names = names
        self._colour = colour_wanted(stream)
        self._pending: deque[CommittedEvent] = deque()
        self._wake = threading.Event()

    def on_commit(self, events: list[CommittedEvent]) -> None:
        """Writer-thread listener: queue only, never print here (it would slow commits)."""
        self._pending.extend(events)

    async def run(self) -> None:
        """Flush queued lines every 100 ms."""
        while True:
            await asyncio.sleep(0.1)
            self.flush()

    def flush(self) -> None:
        """Print everything queued so far."""
        lines: list[str] = []
        while self._pending:
            lines.append(self.format(self._pending.popleft()))
        if lines:
            self._stream.write("\n".join(lines) + "\n")
            self._stream.flush()

    def format(self, committed: CommittedEvent) -> str:
        """``time type name ids status`` for one event."""
        event = committed.event
        moment = datetime.fromtimestamp(event.received_at).strftime("%H:%M:%S.%f")[:-3]
        ids = " ".join(
            part for part in (
                f"userId={event.user_id}" if event.user_id else "",
                f"anonymousId={event.anonymous_id}" if event.anonymous_id else "",
            ) if part
        ) or "(no ids)"
        source = ""
        if event.write_key:
            source = f" [{self._names.get(event.write_key, event.write_key)}]"
        status = event.status
        if event.violation_count:
            status += f" ({event.violation_count} violation{'s' * (event.violation_count > 1)})"
        if self._colour:
            status = f"{STATUS_COLOURS[Status(event.status)]}{status}{RESET}"
        return (f"{moment} {event.type or '-':<8} {event.name or '-'} {ids} {status}{source}"
                f" #{committed.id}")


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM."""
    names: dict[str, str] = {}
    for item in args.name_key:
        key, sep, name = item.partition("=")
        if not sep or not key or not name:
            return fail(f"--name-key expects KEY=NAME, got {item!r}")
        names[key] = name
    plan_path: Path | None = args.plan
    if args.demo and plan_path is None:
        from inspector.core.resources import example_plan_path

        plan_path = example_plan_path()
    try:
        access = access_config(args)
    except AccessOptionError as error:
        return fail(str(error))
    config = CaptureConfig(
        host=args.host, port=args.port, db_path=args.db, session_name=args.session,
        forward_url=args.forward, plan_path=plan_path, durable=args.durable,
        audit_path=args.audit,
        tls=args.tls or args.tls_port is not None, tls_port=args.tls_port,
        analytics_js=args.analytics_js, **access,
    )
    from inspector.core.audit import AuditConfigError

    try:
        service = CaptureService(config)
    except AuditConfigError as error:
        return fail(f"audit configuration: {error}")
    except Exception as error:  # an unreadable or foreign database file
        path = args.db if args.db is not None else default_db_path()
        return fail(f"cannot open the capture database: {database_problem(path, error)}")
    for key, name in names.items():
        service.store.name_write_key(key, name)
    try:
        return asyncio.run(_serve(service, args, {**service.store.write_key_names(), **names}))
    except CaptureError as error:
        return fail(error.message)
    except KeyboardInterrupt:
        return 0


async def _serve(service: CaptureService, args: argparse.Namespace,
                 names: dict[str, str]) -> int:
    printer = EventPrinter(sys.stdout, names)
    if not args.quiet:
        service.add_listener(printer.on_commit)

    def on_plan(description: dict[str, object], report: object) -> None:
        changed = getattr(report, "changed", 0)
        total = getattr(report, "total", 0)
        print(f"inspector: plan {description.get('path')} reloaded ({description.get('rules')} "
              f"rules); re-validated {total} events, {changed} changed", flush=True)

    service.plan_listeners.append(on_plan)
    try:
        await service.start()
    except Exception as error:
        if isinstance(error, CaptureError):
            raise
        # A plan that cannot be loaded is a usage error, reported in one line.
        await service.stop()
        raise CaptureError(str(error)) from error
    # Long-running from here on: keep the collector off start-up objects and away from the
    # per-request garbage of parsed JSON.
    settle_garbage_collector(young_threshold=CAPTURE_YOUNG_THRESHOLD)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    if args.exit_with_stdin:
        _stop_at_end_of_stdin(loop, stop)
    if args.ready_json:
        ready = {"url": service.base_url, "port": service.port,
                 "session": service.session.to_dict(), "database": str(service.store.path),
                 "pid": os.getpid(), "tls_url": service.tls_url, "tls_port": service.tls_port,
                 "tls_ca": str(service.tls_ca.cert_path) if service.tls_ca else None,
                 **ready_fields(service)}
        print(json.dumps(ready), flush=True)
    else:
        print(
            f"inspector {service.base_url}  session {service.session.name!r}  "
            f"db {service.store.path}" + (f"  plan {args.plan}" if args.plan else ""),
            flush=True,
        )
        print(f"  point your Segment library's host at {service.base_url} "
              f"(REST API: {service.base_url}/inspector/api/events)", flush=True)
        if service.tls_url and service.tls_ca:
            print(f"  HTTPS: {service.tls_url} (CA {service.tls_ca.cert_path}; how to trust "
                  f"it: {service.base_url}/inspector/tls or `inspector tls show`)", flush=True)
        for line in access_notice(service, args):
            print(line, flush=True)
    printing = asyncio.create_task(printer.run())
    if args.demo:
        from inspector.core.demo import send_demo_traffic_async

        await send_demo_traffic_async(service.base_url)
    await stop.wait()
    printing.cancel()
    await service.stop()
    printer.flush()
    print("inspector: stopped", file=sys.stderr, flush=True)
    return 0


def _stop_at_end_of_stdin(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Set ``stop`` once stdin closes: a child of the window never outlives it.

    A blocking read on a daemon thread is the portable way (a pipe cannot be added to the
    Windows proactor loop); the OS closes the parent's end of the pipe however the parent ends.
    """

    def wait() -> None:
        # os.read on the descriptor, not sys.stdin.buffer: a daemon thread blocked inside the
        # buffered reader holds its lock, and the interpreter's shutdown then aborts with
        # "could not acquire lock for <stdin>" (exit by SIGABRT after a clean stop).
        try:
            descriptor = sys.stdin.fileno()
            while os.read(descriptor, 4096):
                pass
        except (OSError, ValueError):  # no usable stdin: treat as closed
            pass
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=wait, name="inspector-stdin-watch", daemon=True).start()
