"""Sustained load: constant traffic into ``inspector serve`` with searches and summaries asked
throughout, the search indexer off and then on, in the same run.

Usage:  python bench/soak.py [--duration 300] [--rate 2000] [--batch 20] [--phases off,on]
                             [--threads]

Each phase starts a fresh ``inspector serve`` (its own process and database; ``off`` with
``INSPECTOR_SEARCH_INDEX=0``; ``thread`` with the indexers on threads of the server's process,
``INSPECTOR_BACKGROUND=thread``, instead of their own process) and sends ``--rate`` events/s
of ~1 KB (bench/ingest.py's Order Completed) for ``--duration`` seconds, as ``/v1/batch``
requests of ``--batch`` events, paced open-loop (a request is due every batch/rate seconds
whether or not earlier ones were answered; at most 64 in flight). Meanwhile, one after the
other, it asks ``events?q=user-<n>&limit=50``, ``summary`` and ``health`` (whose
``search_index.lag_seconds`` is the age of the oldest event the search index has not reached),
about once a second each.

Reported per phase: events acknowledged per second over the phase, the requests' latency, the
``q`` and ``summary`` latencies (p50 / p95 / p99 / max), the index lag (p50 / p95 / max), and
how long the index took to catch up after the load stopped. Then the targets of issue 16: lag
at most 5 s, every ``q`` and ``summary`` under 0.5 s, ingest rate with indexing on at least
0.85x the rate with it off.

The server's CPU counts every process it started (the background indexing child too).
``--threads`` (Linux) also splits it by thread: the server then runs under a wrapper that gives
each Python thread its name at the OS level (``prctl``), so ``/proc/<pid>/task/*/comm`` tells
the event loop (``MainThread``: capture handlers and the API), the executor threads answering
``q`` and ``summary`` (``asyncio_N``), the writer, checkpointer and catch-up workers apart.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import process_tree, realistic_event, tree_cpu_seconds  # noqa: E402

#: Requests in flight at most; beyond that a due request waits (and counts as late).
_IN_FLIGHT = 64


@dataclass
class Phase:
    """What one phase measured."""

    name: str
    sent_events: int = 0
    acked_events: int = 0
    errors: int = 0
    late_sends: int = 0
    seconds: float = 0.0
    request_latency: list[float] = field(default_factory=list)
    q_latency: list[float] = field(default_factory=list)
    summary_latency: list[float] = field(default_factory=list)
    lag: list[float] = field(default_factory=list)
    catch_up: float | None = None
    events_at_end: int = 0
    #: The server's CPU seconds during the load, and during the catch-up after it.
    cpu_load: float = 0.0
    cpu_catch_up: float = 0.0
    #: The machine's 1-minute load average when the load stopped (other programs included).
    load_average: float = 0.0
    #: With ``--threads``: CPU seconds during the load per process and thread name.
    thread_cpu: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.acked_events / self.seconds if self.seconds else 0.0


def thread_cpu_seconds(pid: int) -> dict[str, float]:
    """CPU seconds so far per ``process/thread`` name, for ``pid`` and its children."""
    ticks = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = {}
    for index, one in enumerate(process_tree(pid)):
        for task in Path(f"/proc/{one}/task").glob("*"):
            try:
                name = (task / "comm").read_text().strip()
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            key = f"{'serve' if index == 0 else f'child{index}'}/{name}"
            if name.startswith("asyncio_"):
                key = f"{key.split('/')[0]}/asyncio_*"
            totals[key] = totals.get(key, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return totals


def percentiles(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    return (f"p50 {statistics.median(ordered):.3f} / p95 {at(0.95):.3f} / p99 {at(0.99):.3f} / "
            f"max {ordered[-1]:.3f} s (n={len(ordered)})")


#: Runs ``inspector`` with every Python thread named at the OS level (for ``--threads``).
_NAMED_THREADS = """
import ctypes, runpy, sys, threading
_prctl = ctypes.CDLL(None).prctl
def _name(name):
    _prctl(15, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)  # PR_SET_NAME
_run = threading.Thread.run
def _named_run(self):
    _name(self.name)
    _run(self)
threading.Thread.run = _named_run
_name("MainThread")
sys.argv[0] = "inspector"
runpy.run_module("inspector", run_name="__main__", alter_sys=True)
"""


def start_serve(db: Path, index: bool, named_threads: bool = False,
                background: str = "process") -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "INSPECTOR_SEARCH_INDEX": "1" if index else "0",
           "INSPECTOR_BACKGROUND": background, "PYTHONUNBUFFERED": "1"}
    launch = ["-c", _NAMED_THREADS] if named_threads else ["-m", "inspector"]
    process = subprocess.Popen(
        [sys.executable, *launch, "serve", "--port", "0", "--db", str(db), "--quiet",
         "--ready-json", "--session", "soak"],
        stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert process.stdout is not None
    ready = json.loads(process.stdout.readline())
    return process, str(ready["url"])


async def send_load(base: str, phase: Phase, rate: int, batch: int, duration: float,
                    first_index: int) -> None:
    import aiohttp
    import orjson

    interval = batch / rate
    gate = asyncio.Semaphore(_IN_FLIGHT)
    connector = aiohttp.TCPConnector(limit=_IN_FLIGHT)
    tasks: set[asyncio.Task[None]] = set()
    async with aiohttp.ClientSession(base, connector=connector) as session:

        async def post(first: int) -> None:
            body = orjson.dumps({"batch": [realistic_event(first + n) for n in range(batch)],
                                 "writeKey": "bench-web"})
            started = time.perf_counter()
            try:
                async with session.post("/v1/batch", data=body, headers={
                        "Content-Type": "application/json"}) as response:
                    await response.read()
                    ok = response.status == 200
            except aiohttp.ClientError:
                ok = False
            finally:
                gate.release()
            phase.request_latency.append(time.perf_counter() - started)
            if ok:
                phase.acked_events += batch
            else:
                phase.errors += 1

        start = time.perf_counter()
        number = 0
        while True:
            due = start + number * interval
            if due - start >= duration:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)  # pacing an open-loop load: the clock is the input
            elif delay < -interval:
                phase.late_sends += 1
            await gate.acquire()
            task = asyncio.create_task(post(first_index + number * batch))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            phase.sent_events += batch
            number += 1
        if tasks:
            await asyncio.wait(tasks)
        phase.seconds = time.perf_counter() - start


async def ask_throughout(base: str, phase: Phase, stop: asyncio.Event) -> None:
    import aiohttp

    rng = random.Random(16)
    async with aiohttp.ClientSession(base) as session:

        async def timed(path: str) -> tuple[float, Any]:
            started = time.perf_counter()
            async with session.get(path) as response:
                data = await response.json()
            return time.perf_counter() - started, data

        while not stop.is_set():
            tick = time.perf_counter()
            took, _ = await timed(f"/inspector/api/events?q=user-{rng.randrange(500)}&limit=50")
            phase.q_latency.append(took)
            took, _ = await timed("/inspector/api/summary")
            phase.summary_latency.append(took)
            _, health = await timed("/inspector/api/health")
            if health.get("search_index", {}).get("enabled"):
                phase.lag.append(float(health["search_index"]["lag_seconds"]))
            rest = 1.0 - (time.perf_counter() - tick)
            if rest > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), rest)


async def catch_up_seconds(base: str, timeout: float = 600.0) -> float | None:
    """Seconds until the search index has every event, asking health every 0.1 s."""
    import aiohttp

    started = time.perf_counter()
    async with aiohttp.ClientSession(base) as session:
        while time.perf_counter() - started < timeout:
            async with session.get("/inspector/api/health") as response:
                state = (await response.json())["search_index"]
            if not state["enabled"]:
                return None
            if state["unindexed"] == 0:
                return time.perf_counter() - started
            await asyncio.sleep(0.1)  # another process's progress: nothing to await but time
    return None


async def run_phase(name: str, workdir: Path, args: argparse.Namespace) -> Phase:
    phase = Phase(name)
    process, base = start_serve(workdir / f"{name}.sqlite3", index=name != "off",
                                named_threads=args.threads,
                                background="thread" if name == "thread" else "process")
    try:
        stop = asyncio.Event()
        cpu_start = tree_cpu_seconds(process.pid)
        threads_start = thread_cpu_seconds(process.pid) if args.threads else {}
        asker = asyncio.create_task(ask_throughout(base, phase, stop))
        await send_load(base, phase, args.rate, args.batch, args.duration, 0)
        stop.set()
        await asker
        cpu_loaded = tree_cpu_seconds(process.pid)
        phase.cpu_load = cpu_loaded - cpu_start
        if args.threads:
            phase.thread_cpu = {
                name: seconds - threads_start.get(name, 0.0)
                for name, seconds in thread_cpu_seconds(process.pid).items()}
        phase.load_average = os.getloadavg()[0]
        phase.catch_up = await catch_up_seconds(base, args.catch_up_timeout)
        phase.cpu_catch_up = tree_cpu_seconds(process.pid) - cpu_loaded
        import aiohttp

        async with aiohttp.ClientSession(base) as session, session.get(
                "/inspector/api/summary") as response:
            phase.events_at_end = int((await response.json())["total"])
    finally:
        process.terminate()
        process.wait(timeout=60)
    return phase


def report(phases: list[Phase], args: argparse.Namespace) -> None:
    print(f"\nsoak: {args.rate:,} events/s offered for {args.duration:g} s per phase, "
          f"{args.batch} events per request; cores: {os.cpu_count()}")
    for phase in phases:
        print(f"\n[{phase.name}] search indexer "
              f"{dict(on='on', thread='on, in the server process').get(phase.name, 'off')}")
        print(f"  ingest: {phase.rate:,.0f} events/s acknowledged ({phase.acked_events:,} of "
              f"{phase.sent_events:,} sent; {phase.errors} errors; {phase.late_sends} sends "
              f"late); stored {phase.events_at_end:,}")
        print(f"  request latency: {percentiles(phase.request_latency)}")
        print(f"  q:       {percentiles(phase.q_latency)}")
        print(f"  summary: {percentiles(phase.summary_latency)}")
        if phase.lag:
            print(f"  index lag: {percentiles(phase.lag)}")
        if phase.catch_up is not None:
            print(f"  index caught up {phase.catch_up:.1f} s after the load stopped")
        elif phase.name != "off":
            print(f"  index not caught up {args.catch_up_timeout:g} s after the load stopped")
        events = max(1, phase.acked_events)
        print(f"  server CPU: {phase.cpu_load / phase.seconds:.2f} cores during the load, "
              f"{phase.cpu_load / events * 1e6:.0f} us per event; "
              f"{(phase.cpu_load + phase.cpu_catch_up) / events * 1e6:.0f} us per event with "
              f"the catch-up after it; machine load average {phase.load_average:.1f}")
        for name, seconds in sorted(phase.thread_cpu.items(), key=lambda item: -item[1]):
            if seconds >= 0.05:
                print(f"    {name:<34} {seconds / phase.seconds:.2f} cores "
                      f"({seconds / events * 1e6:.0f} us per event)")
    by_name = {phase.name: phase for phase in phases}
    on = by_name.get("on")
    if on is None:
        return
    worst_q = max(on.q_latency, default=0.0)
    worst_summary = max(on.summary_latency, default=0.0)
    worst_lag = max(on.lag, default=0.0)
    print("\ntargets (indexer on):")
    print(f"  index lag max {worst_lag:.2f} s (target <= 5 s): "
          f"{'met' if worst_lag <= 5 else 'MISSED'}")
    print(f"  q max {worst_q:.3f} s, summary max {worst_summary:.3f} s (target < 0.5 s): "
          f"{'met' if max(worst_q, worst_summary) < 0.5 else 'MISSED'}")
    off = by_name.get("off")
    if off is not None and off.rate:
        ratio = on.rate / off.rate
        print(f"  ingest on/off {ratio:.3f} (target >= 0.85): "
              f"{'met' if ratio >= 0.85 else 'MISSED'}")


async def main_async(args: argparse.Namespace) -> int:
    phases: list[Phase] = []
    with tempfile.TemporaryDirectory(prefix="inspector-soak-") as workdir:
        for name in args.phases.split(","):
            print(f"phase {name}: {args.duration:g} s at {args.rate:,} events/s ...", flush=True)
            phases.append(await run_phase(name, Path(workdir), args))
    report(phases, args)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=300.0, help="seconds per phase")
    parser.add_argument("--rate", type=int, default=2000, help="events per second offered")
    parser.add_argument("--batch", type=int, default=20, help="events per request")
    parser.add_argument("--catch-up-timeout", type=float, default=600.0,
                        help="seconds to wait for the index after the load (default 600)")
    parser.add_argument("--phases", default="off,on",
                        help="comma-separated: off (indexer off), on (indexer on, in its own "
                             "process), thread (on, on threads of the server's process)")
    parser.add_argument("--threads", action="store_true",
                        help="split the server's CPU by thread (Linux)")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
