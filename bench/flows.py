"""Flow evaluation speed: a flow over a stored 100,000-call session, and the live per-batch cost.

    python bench/flows.py [--events 100000] [--people 5000] [--flows guest-checkout ...]
        [--mix retail|browse]

Figures in CPU seconds of this process (``time.process_time``: steadier than wall time on a
shared two-core machine), each beside a baseline measured in the same run:

* stored: :func:`evaluate_session` over a session in SQLite (reading, building the calls,
  the identity graph and the flows), against reading the same rows into ObservedEvents alone;
  then the same on the session audit's identity graph, as ``serve`` and the window's capture
  child evaluate (they keep the audit current anyway, so only the candidates are read);
* in memory: feeding the calls and reading the results once, against building the calls;
* live: 1,000-call batches (one second at 1,000 events/s) fed and the results read after
  each, as the window and ``serve`` do: the median and longest batch.

The synthetic traffic (bench/audit.py's retail mix) breaks most steps of the bundled flows,
so every step's candidates are scanned and a closest candidate chosen: the expensive case.
In it 85% of the calls are some step's candidates. ``--mix browse`` renames four in five of
its track calls to events no bundled flow names (Product List Viewed, Products Searched...),
as a shop's traffic around a checkout looks: the store then parses only the candidates.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.audit import observe, stored_session, synthetic_calls
from inspector.core.audit import AuditConfig
from inspector.core.audit.live import SessionAudit, observe_rows
from inspector.core.flows import RunEvaluator, bundled_flow_names, load_flow
from inspector.core.flows.following import FollowedFlows
from inspector.core.flows.session import evaluate_session
from inspector.core.gc_tuning import collector_paused
from inspector.core.store import EventQuery


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--flows", nargs="*", default=["guest-checkout"],
                        help="bundled flows to evaluate (all: every bundled flow)")
    parser.add_argument("--mix", choices=("retail", "browse"), default="retail")
    args = parser.parse_args()
    names = bundled_flow_names() if args.flows == ["all"] else args.flows
    flows = [load_flow(name).flow for name in names]
    calls = synthetic_calls(args.events, args.people)
    if args.mix == "browse":
        browsing = ["Product List Viewed", "Products Searched", "Product Clicked",
                    "Promotion Viewed"]
        for number, call in enumerate(calls):
            if call["type"] == "track" and number % 5:
                call["event"] = browsing[number % 4]
    label = ", ".join(names)

    with tempfile.TemporaryDirectory() as folder:
        store, session = stored_session(Path(folder), calls)
        started = time.process_time()
        with collector_paused():
            count = sum(1 for _ in observe_rows(store.iter_call_rows(session.id),
                                                store.write_key_names()))
        read = time.process_time() - started
        started = time.process_time()
        with collector_paused():
            sum(1 for _ in store.iter_events(EventQuery(session_id=session.id)))
        records = time.process_time() - started
        started, wall = time.process_time(), time.perf_counter()
        results = evaluate_session(store, session.id, flows)
        took, wall = time.process_time() - started, time.perf_counter() - wall
        evaluator = RunEvaluator(flows)
        whole = sum(1 for row in store.iter_flow_rows(session.id,
                                                      filters=evaluator.call_filters())
                    if row.payload is not None)
        print(f"stored, {count:,} calls ({args.mix}), {label}: reading them into "
              f"ObservedEvents {read:.2f} s (baseline), with iter_events {records:.2f} s; "
              f"evaluate_session {took:.2f} s CPU ({wall:.2f} s wall, {took / read:.2f}x the "
              f"baseline); {whole:,} calls read whole; "
              + "; ".join(f"{result.flow} {result.status}" for result in results))
        # serve and the window's capture child keep the session's audit current as calls
        # arrive; a check or run there reads people from its graph (not timed: its cost is
        # the audit's, paid anyway).
        audit = SessionAudit(store, session.id)
        audit.refresh()
        # serve keeps a check it followed (for the next ask), so it is freed outside the
        # timing, as there.
        followed = FollowedFlows(store, session.id, flows, AuditConfig(),
                                 audits=lambda _: audit)
        started, wall = time.process_time(), time.perf_counter()
        shared = followed.read(ended=True)
        took, wall = time.process_time() - started, time.perf_counter() - wall
        with collector_paused():
            del followed
        same = [item.to_dict() for item in shared] == [item.to_dict() for item in results]
        print(f"  on the session audit's graph (serve, the capture child): {took:.2f} s CPU "
              f"({wall:.2f} s wall, {took / read:.2f}x the baseline); "
              f"{'the same results' if same else 'DIFFERENT RESULTS'}")
        store.close()

    started = time.process_time()
    events = [observe(call) for call in calls]
    build = time.process_time() - started
    started = time.process_time()
    evaluator = RunEvaluator(flows)
    with collector_paused():
        evaluator.feed(events)
        fed = time.process_time() - started
        started = time.process_time()
        evaluator.results()
        read_once = time.process_time() - started
    print(f"in memory: building the calls {build:.2f} s (baseline); feeding {fed:.2f} s "
          f"({fed / len(events) * 1e6:.1f} µs per call; {len(evaluator.graph):,} people); "
          f"reading the results {read_once * 1000:.0f} ms (collector paused)")

    # The calls built up front stand for what a live process reads from the store a batch at
    # a time: out of the collector's reach, a full pass does not walk all 100,000 of them in
    # the middle of a batch (that one batch took 0.6-0.7 s).
    gc.collect()
    gc.freeze()
    evaluator = RunEvaluator(flows)
    batches = []
    for start in range(0, len(events), 1000):
        started = time.process_time()
        with collector_paused():
            evaluator.feed(events[start:start + 1000])
            evaluator.results()
        batches.append(time.process_time() - started)
    print(f"live, 1,000-call batches then results() ({len(batches)} batches): median "
          f"{statistics.median(batches) * 1000:.1f} ms, longest {max(batches) * 1000:.1f} ms "
          f"(batch {batches.index(max(batches)) + 1}), last {batches[-1] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
