"""Replay benchmark: 10,000 events to the local Customer.io stand-in with injected faults.

    PYTHONPATH=. python bench/replay.py [--events 10000] [--rate 1000] [--fault-rate 0.05]

For each mode (v1 = Classic, v2 = Actions batches) it reports the requests per second achieved
against the configured rate (retries count as requests: they use rate-limit slots too), the
duplicates the stand-in had to ignore (must be 0: a run never delivers an event twice), losses
(events never accepted; must be 0) and per-person order violations (must be 0).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson
from pydantic import SecretStr

from inspector.core.fixes import CorrectionStore
from inspector.core.replay import (
    Credentials,
    Destination,
    ItemStatus,
    Mode,
    ReplayClient,
    ReplayEngine,
    ReplayOptions,
    ReplayRunStore,
    collect_items,
    stable_event_id,
)
from inspector.core.store import EventQuery
from inspector.core.store.connection import Database
from tests.support.customerio_standin import CustomerIOStandIn
from tests.support.events import add_events, make_event


def _events(count: int, people: int) -> list[dict[str, Any]]:
    events = []
    for index in range(count):
        user = f"user-{index % people}"
        if index < people:
            events.append(make_event("identify", index=index, userId=user,
                                     traits={"email": f"{user}@example.com", "plan": "pro"}))
        else:
            events.append(make_event("track", index=index, userId=user, event="Step",
                                     properties={"step": index, "at": "2026-11-20T10:00:00Z"}))
    return events


async def _bench_mode(
    mode: Mode, db_path: Path, events: list[dict[str, Any]], args: argparse.Namespace
) -> dict[str, Any]:
    standin = CustomerIOStandIn(fault_retry_after=args.retry_after)
    standin.set_fault_rate(args.fault_rate, seed=42)
    await standin.start()
    try:
        store, session_id, _ = add_events(db_path, events, session=f"bench {mode}")
        corrections = CorrectionStore(store)
        destination = Destination(name=f"bench {mode}", mode=mode, track_host=standin.base_url,
                                  batch_size=args.batch_size)
        runs = ReplayRunStore(Database(db_path))
        run = runs.create_run(destination,
                              collect_items(corrections, EventQuery(session_id=session_id)))
        options = ReplayOptions(rate=args.rate, concurrency=args.concurrency, max_attempts=20,
                                backoff_base=0.05, backoff_max=1.0)
        credentials = Credentials(site_id=standin.site_id, api_key=SecretStr(standin.api_key))
        async with ReplayClient(destination, credentials) as client:
            engine = ReplayEngine(runs, client, options=options)
            started = time.perf_counter()
            summary = await engine.run(run.id)
            elapsed = time.perf_counter() - started
    finally:
        await standin.stop()

    expected = {stable_event_id(e) for e in events if e["type"] == "track"}
    accepted = set(standin.events)
    order: dict[str, list[str]] = defaultdict(list)
    for person, event_id in standin.timeline:
        if event_id != "identify":
            order[person].append(event_id)
    wanted: dict[str, list[str]] = defaultdict(list)
    for event in events:
        if event["type"] == "track":
            wanted[f"u:{event['userId']}"].append(stable_event_id(event))
    violations = sum(1 for person, ids in wanted.items() if order.get(person) != ids)
    identified = sum(1 for e in events if e["type"] == "identify")
    people_seen = len(standin.people)
    return {
        "mode": "v1 (classic)" if mode is Mode.CLASSIC else "v2 (actions batch)",
        "events": len(events),
        "requests": summary.requests,
        "faults_injected": standin.faults_sent,
        "retries": summary.retries,
        "elapsed_s": round(elapsed, 2),
        "configured_rate": args.rate,
        "achieved_rps": round(summary.requests / elapsed, 1),
        "events_per_s": round(len(events) / elapsed, 1),
        "sent": summary.counts[ItemStatus.SENT],
        "failed": summary.counts[ItemStatus.FAILED],
        "duplicates": standin.duplicates,
        "losses": len(expected - accepted) + (identified - people_seen),
        "order_violations": violations,
    }


async def _main(args: argparse.Namespace) -> int:
    events = _events(args.events, args.people)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode in (Mode.CLASSIC, Mode.ACTIONS):
            if args.mode and str(mode) != args.mode:
                continue
            result = await _bench_mode(mode, Path(tmp) / f"{mode}.sqlite", events, args)
            results.append(result)
            print(orjson.dumps(result).decode(), flush=True)
    bad = [r for r in results if r["duplicates"] or r["losses"] or r["order_violations"]]
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 if any duplicate, loss or order violation was seen."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--rate", type=float, default=100.0,
                        help="configured requests per second (the product default, 100)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--fault-rate", type=float, default=0.05)
    parser.add_argument("--retry-after", default="0.1",
                        help="Retry-After sent with injected faults (seconds)")
    parser.add_argument("--mode", choices=["classic", "actions"])
    return asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
