"""Capture throughput: inspector's endpoint against a bare aiohttp handler, in the same run.

Usage:  python bench/ingest.py [--duration 10] [--connections 32] [--repeat N] [--stages]
                               [--workload batch|single|both] [--plan FILE] [--cpu] [--durable]

``--stages`` adds runs of inspector doing only part of its work (store the raw request; + parse
the JSON; + normalise and check the events without storing them), to show what each part costs.

``--durable`` adds inspector with ``--durable`` (``synchronous=FULL``: an fsync per commit), to
show what surviving a power cut costs over the default (safe against a process crash only).

``--cpu`` (Linux) adds what each server spent: CPU per event during the load and, for inspector,
including the background indexing that finishes after it (the run waits for the indexers to
catch up; a server's CPU includes the processes it started, i.e. the background indexing
child); the cores each used; and the ceiling that sets on the ratio: a server needing C µs
of CPU per event cannot beat ``cores * bare_cpu / C`` whatever runs in parallel.

Each server runs in its own process (one core); wrk (Debian package ``wrk``) drives the load
from another process, so the client is not the bottleneck. Two workloads, as real clients send:

* ``/v1/batch`` with 100 events of ~1 KB each (analytics-python, analytics-node, mobile);
* ``/v1/t`` with one ~1 KB event per request (analytics.js standard mode).

The baseline is an aiohttp handler that reads the body and answers ``{"success": true}``
without parsing or storing anything. inspector runs with parsing, normalisation, checks and
persistence on, and every event committed to SQLite before its 200. The ratio
inspector / bare is what to compare across machines; absolute numbers vary with the host.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def realistic_event(index: int) -> dict[str, object]:
    """An Order Completed call of about 1 KB, as analytics.js builds it."""
    return {
        "type": "track",
        "event": "Order Completed",
        "userId": f"user-{index % 500}",
        "anonymousId": str(uuid.UUID(int=index)),
        "messageId": f"ajs-next-1732870000000-{uuid.UUID(int=index)}-MSG",
        "timestamp": "2026-11-29T10:00:00.000Z",
        "properties": {
            "order_id": f"o-{index}", "total": 42.5, "currency": "USD", "cart_id": "c-77",
            "items": [
                {"sku": f"SKU-{n}", "name": "Everyday Tee", "variant": "M / Navy",
                 "price": 12.5, "quantity": 1 + n} for n in range(3)
            ],
        },
        "context": {
            "library": {"name": "analytics.js", "version": "npm:next-1.84.1"},
            "page": {"path": "/checkout/thanks", "url": "https://shop.test/checkout/thanks",
                     "referrer": "https://shop.test/checkout", "title": "Thank you"},
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
                         "Gecko) Chrome/131.0.0.0 Safari/537.36",
            "locale": "en-GB", "timezone": "Europe/London",
        },
        "integrations": {},
        "sentAt": "2026-11-29T10:00:00.050Z",
        "writeKey": "bench-web",
    }


# wrk script: POST a body in which every "MSG" is replaced by a per-request counter, so each
# request carries fresh messageIds (as real traffic does; duplicates would be flagged). The body
# is split at the markers once; each request only joins the pieces. (A gsub over a 100 KB body
# per request made wrk itself the bottleneck: the bare handler then idled at a quarter of a core.)
_LUA = """
local template = io.open("%(body)s"):read("*a")
local parts, start = {}, 1
while true do
  local at = template:find("MSG", start, true)
  if not at then break end
  parts[#parts + 1] = template:sub(start, at - 1)
  start = at + 3
end
parts[#parts + 1] = template:sub(start)
local headers = {["Content-Type"] = "%(ctype)s"}
local pieces, counter = {}, 0
request = function()
  counter = counter + 1
  local id = "%(tag)s" .. counter
  for i = 1, #parts - 1 do
    pieces[2 * i - 1] = parts[i]
    pieces[2 * i] = id
  end
  pieces[2 * #parts - 1] = parts[#parts]
  return wrk.format("POST", "%(path)s", headers, table.concat(pieces))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_bare(port: int) -> None:
    """The baseline: the same server library, accept and discard."""
    from aiohttp import web

    async def accept(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=b'{"success":true}', content_type="application/json")

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/v1/{kind}", accept)
        runner = web.AppRunner(app, access_log=None, auto_decompress=False)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
        print("ready", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


#: Ablations for ``--stages``: inspector's server with only part of the per-request work, to
#: see what each part costs. Each keeps the raw request durable before the 200.
STAGES = {
    "store-raw": "store the raw request only",
    "parse": "+ parse the JSON",
    "process": "+ normalise, check, serialise (events not stored)",
}


def _ablate(stage: str) -> None:
    """Replace Ingestor.process so that it stops after ``stage`` (see STAGES)."""
    import orjson

    from inspector.core.capture import ingest

    full = ingest.Ingestor.process
    empty_batch = b'{"batch":[]}'

    def process(self: ingest.Ingestor, incoming: ingest.IncomingRequest) -> object:
        if stage == "process":
            pending, error = full(self, incoming)
            pending.events = []
            return pending, error
        if stage == "parse":
            orjson.loads(incoming.body)
        # An empty batch: the request row (with the real body) and nothing else.
        stripped = ingest.IncomingRequest(
            incoming.method, incoming.path, incoming.query, incoming.headers, empty_batch,
            incoming.remote_addr, incoming.received, None, False,
        )
        pending, error = full(self, stripped)
        pending.body, pending.body_size = incoming.body, len(incoming.body)
        return pending, error

    ingest.Ingestor.process = process  # type: ignore[method-assign,assignment]


def serve_inspector(port: int, db: Path, plan: Path | None, stage: str | None = None,
                    durable: bool = False) -> None:
    """inspector's real capture service, persistence and all (or ablated to ``stage``)."""
    from inspector.core.capture import CaptureConfig, CaptureService
    from inspector.core.gc_tuning import CAPTURE_YOUNG_THRESHOLD, settle_garbage_collector

    if stage is not None:
        _ablate(stage)

    async def main() -> None:
        service = CaptureService(CaptureConfig(port=port, db_path=db, plan_path=plan,
                                               durable=durable))
        await service.start()
        settle_garbage_collector(young_threshold=CAPTURE_YOUNG_THRESHOLD)  # as `inspector serve`
        print("ready", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def start_server(kind: str, port: int, db: Path, plan: Path | None,
                 stage: str | None = None) -> subprocess.Popen[str]:
    args = [sys.executable, __file__, "--serve", kind, "--port", str(port), "--db", str(db)]
    if stage == "durable":
        args += ["--durable"]
        stage = None
    if plan is not None:
        args += ["--plan", str(plan)]
    if stage is not None:
        args += ["--stage", stage]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        raise SystemExit(f"{kind} server did not start")
    return process


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process and all its threads so far (Linux ``/proc``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # utime and stime are fields 14 and 15 of stat(5); index 0 here is field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process below it that is still running (Linux ``/proc``)."""
    found = [pid]
    for one in found:
        for task in Path(f"/proc/{one}/task").glob("*"):
            try:
                found.extend(int(child) for child in (task / "children").read_text().split())
            except OSError:
                continue
    return found


def tree_cpu_seconds(pid: int) -> float:
    """CPU so far of ``pid`` and the processes it started (the background indexing child)."""
    return sum(process_cpu_seconds(one) or 0.0 for one in process_tree(pid))


def wait_for_indexers(db: Path, timeout: float = 300.0) -> float:
    """Seconds until every stored event is in the secondary and search indexes."""
    import sqlite3

    started = time.monotonic()
    connection = sqlite3.connect(db, timeout=30)
    try:
        while time.monotonic() - started < timeout:
            behind = connection.execute(
                "SELECT (SELECT count(*) FROM events WHERE indexed = 0) + "
                "(SELECT count(*) FROM events WHERE id > "
                " (SELECT indexed_upto FROM search_index_state WHERE id = 1))"
            ).fetchone()[0]
            if behind == 0:
                break
            time.sleep(0.1)  # polling another process's database: there is no signal to await
    finally:
        connection.close()
    return time.monotonic() - started


def run_wrk(port: int, path: str, body: bytes, ctype: str, duration: int, connections: int,
            workdir: Path, tag: str) -> tuple[float, int, float]:
    """Requests per second and non-2xx count reported by wrk, and the CPU seconds wrk used."""
    body_file = workdir / f"body-{tag}.json"
    body_file.write_bytes(body)
    script = workdir / f"script-{tag}.lua"
    script.write_text(_LUA % {"body": body_file, "path": path, "ctype": ctype, "tag": tag})
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "-s", str(script),
         f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    client_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return rate, int(errors.group(1)) if errors else 0, client_cpu


def measure(kind: str, plan: Path | None, workload: str, duration: int, connections: int,
            workdir: Path, stage: str | None = None, cpu: bool = False) -> dict[str, float]:
    port = free_port()
    db = workdir / f"{kind}-{workload}-{time.monotonic_ns()}.sqlite3"
    server = start_server(kind, port, db, plan, stage)
    cpu_before = tree_cpu_seconds(server.pid) if cpu else None
    load_started = time.monotonic()
    usage: dict[str, float] = {}
    try:
        if workload == "batch":
            body = json.dumps({"batch": [realistic_event(n) for n in range(100)],
                               "writeKey": "bench-server"}).encode()
            rate, errors, client_cpu = run_wrk(port, "/v1/batch", body, "application/json",
                                               duration, connections, workdir, f"{kind}b")
            events = rate * 100
        else:
            body = json.dumps(realistic_event(1)).encode()
            rate, errors, client_cpu = run_wrk(port, "/v1/t", body, "text/plain", duration,
                                               connections, workdir, f"{kind}s")
            events = rate
        if cpu_before is not None:
            load_seconds = time.monotonic() - load_started
            cpu_load = tree_cpu_seconds(server.pid) - cpu_before
            usage = {"cpu_load": cpu_load, "cores": cpu_load / load_seconds,
                     "client_cores": client_cpu / load_seconds}
            if kind == "inspector":
                usage["catch_up_s"] = wait_for_indexers(db)
                usage["cpu_total"] = tree_cpu_seconds(server.pid) - cpu_before
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()
    stored = 0
    if kind == "inspector":
        import sqlite3

        stored = sqlite3.connect(db).execute("SELECT count(*) FROM events").fetchone()[0]
    if usage:
        # What was really written where rows are stored (not wrk's rate times the duration).
        usage["events"] = stored or events * duration
    return {"requests_per_s": rate, "events_per_s": events, "errors": errors, "stored": stored,
            **usage}


def report_cpu(runs: dict[str, list[dict[str, float]]]) -> None:
    """CPU per event of each server (medians) and the ratio ceiling that sets on this machine."""
    cores = os.cpu_count() or 1
    per_event: dict[str, float] = {}
    print(f"  CPU per event (µs, medians; the machine has {cores} cores):")
    for name, results in runs.items():
        if not all("cpu_load" in result and result.get("events") for result in results):
            continue
        load = statistics.median(r["cpu_load"] / r["events"] * 1e6 for r in results)
        used = statistics.median(r["cores"] for r in results)
        client = statistics.median(r["client_cores"] for r in results)
        line = (f"    {name.strip():<40} {load:6.1f} during the load ({used:.2f} cores busy, "
                f"wrk {client:.2f})")
        if all("cpu_total" in result for result in results):
            total = statistics.median(r["cpu_total"] / r["events"] * 1e6 for r in results)
            catch_up = statistics.median(r["catch_up_s"] for r in results)
            line += f", {total:6.1f} with the indexing after it ({catch_up:.1f} s to catch up)"
            per_event[name] = total
        else:
            per_event[name] = load
        print(line)
    bare = per_event.pop("bare aiohttp handler", None)
    if bare is None:
        return
    for name, cost in per_event.items():
        print(f"  ceiling for {name.strip()} on {cores} cores: {cores} x {bare:.1f} / {cost:.1f} "
              f"= {cores * bare / cost:.2f} of the bare rate, with perfect parallelism")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--plan", type=Path, help="also measure with validation against PLAN")
    parser.add_argument("--workload", choices=["batch", "single", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=1,
                        help="interleaved rounds of every server; medians are reported")
    parser.add_argument("--stages", action="store_true",
                        help="also measure inspector with only part of its work (what each costs)")
    parser.add_argument("--cpu", action="store_true",
                        help="also report CPU per event and the ceiling it sets (Linux)")
    parser.add_argument("--durable", action="store_true",
                        help="also measure inspector --durable (an fsync per commit)")
    parser.add_argument("--stage", choices=sorted(STAGES), help=argparse.SUPPRESS)
    parser.add_argument("--serve", choices=["bare", "inspector"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve == "bare":
        serve_bare(args.port)
        return 0
    if args.serve == "inspector":
        serve_inspector(args.port, args.db, args.plan, args.stage, durable=args.durable)
        return 0
    if shutil.which("wrk") is None:
        print("bench/ingest.py needs wrk (apt-get install wrk)", file=sys.stderr)
        return 2

    configs: list[tuple[str, str, Path | None, str | None]] = [
        ("bare", "bare aiohttp handler", None, None)]
    if args.stages:
        configs += [("inspector", f"  {label}", None, stage) for stage, label in STAGES.items()]
    configs.append(("inspector", "inspector (parse+store)", None, None))
    if args.durable:
        # "durable" rides in the stage slot: start_server turns it into --durable.
        configs.append(("inspector", "inspector --durable (fsync per commit)", None, "durable"))
    if args.plan:
        configs.append(("inspector", "inspector (+validation)", args.plan, None))
    print(f"cores: {os.cpu_count()}, {args.duration}s per run, {args.connections} connections, "
          f"{args.repeat} interleaved round(s), medians")
    with tempfile.TemporaryDirectory() as tmp:
        for workload, label in (("batch", "/v1/batch, 100 x 1 KB events"),
                                ("single", "/v1/t, one 1 KB event per request")):
            if args.workload not in (workload, "both"):
                continue
            print(f"\n{label}")
            # Rounds interleave the servers, so a burst of load from elsewhere on the machine
            # hits all of them rather than one; medians then drop the outliers.
            runs: dict[str, list[dict[str, float]]] = {name: [] for _, name, _, _ in configs}
            for _ in range(args.repeat):
                for kind, name, plan, stage in configs:
                    runs[name].append(measure(kind, plan, workload, args.duration,
                                              args.connections, Path(tmp), stage, args.cpu))
            medians: dict[str, float] = {}
            for name, results in runs.items():
                rates = [result["events_per_s"] for result in results]
                medians[name] = statistics.median(rates)
                errors = sum(int(result["errors"]) for result in results)
                stored = sum(int(result["stored"]) for result in results)
                on_disk = f", {stored:,} events on disk" if stored else ""
                each = " / ".join(f"{rate:,.0f}" for rate in rates) if len(rates) > 1 else ""
                print(f"  {name:<52} {medians[name]:>10,.0f} events/s ({errors} errors{on_disk})"
                      + (f"  [{each}]" if each else ""))
            bare = medians["bare aiohttp handler"]
            for name, median in medians.items():
                if name != "bare aiohttp handler":
                    print(f"  ratio {name.strip()} / bare: {median / bare:.2f}")
            if args.cpu:
                report_cpu(runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
