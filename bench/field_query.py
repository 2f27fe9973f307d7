"""Field filters (``field.<path>=<JSON>``, ``field_type.``) on a 1,000,000-event session.

    python bench/field_query.py [--events 1000000] [--out bench/out] [--runs 3] [--rounds 2]
                                [--baseline DIR]

Uses the session bench/search.py builds (~1 KB track calls, eight event names; cached as
``search-<n>.sqlite3`` under ``--out``). Each query is what the REST API runs for
``/inspector/api/events`` (the total, then the first 100 events with their payloads),
parsed from the same query string by :func:`inspector.core.query_params.event_query`; median of
``--runs`` in one process (one reader connection, as the API's), wall and CPU seconds of that
process. Every field query is timed beside the same query without its field filters. Then
``inspector assert --db ... --where`` as a CI script runs it (a fresh process: wall and CPU).

With ``--baseline DIR`` (another checkout of inspector, e.g. the main branch), the same
queries are timed with that tree's code too, in the same run: each round runs one process per
tree, alternating which goes first, so both see the same load; the load average is printed
per round (the machine is shared). Target: under 0.5 s where another filter narrows the set.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.search import build  # noqa: E402
from inspector.core.store import EventStore  # noqa: E402

Pairs = list[tuple[str, str]]

#: (label, the narrowing filters, the field filters added to them).
CASES: list[tuple[str, Pairs, Pairs]] = [
    ("string, alone (every event matches)", [], [("field.properties.currency", '"EUR"')]),
    ("string, alone (one event matches)", [], [("field.properties.order_id", '"ord_500000"')]),
    ("number, alone (no event matches)", [], [("field.properties.total", "1234.5")]),
    ("string, event= (1 in 8)", [("event", "Order Completed")],
     [("field.properties.currency", '"EUR"')]),
    ("type, event= (1 in 8)", [("event", "Order Completed")],
     [("field_type.properties.total", "number")]),
    ("array index, event= (1 in 8)", [("event", "Order Completed")],
     [("field.properties.items.0.quantity", "1")]),
    ("number, event= (none match)", [("event", "Order Completed")],
     [("field.properties.total", "1234.5")]),
    ("two fields, event= (1 in 8)", [("event", "Order Completed")],
     [("field.properties.currency", '"EUR"'), ("field_type.properties.total", "number")]),
    ("present, user_id= (~20)", [("user_id", "user_4711")], [("field.properties.email", "*")]),
    # A CI check reads the events of its own run: the newest ones (since_id is the id range).
    ("string, since_id= (last 100,000)", [("since_id", "{last_100k}")],
     [("field.properties.currency", '"EUR"')]),
    ("string, event= since_id= (12,500)", [("event", "Order Completed"),
                                            ("since_id", "{last_100k}")],
     [("field.properties.currency", '"EUR"')]),
    ("type, event= since_id= (1,250)", [("event", "Order Completed"),
                                         ("since_id", "{last_10k}")],
     [("field_type.properties.total", "number")]),
]


#: Run in a child process whose working directory is the tree being timed, so that its
#: ``inspector`` is imported: (wall, cpu, total) per query, ``runs`` times each.
CHILD = """
import json, sys, time
from inspector.core.query_params import event_query
from inspector.core.store import EventStore
spec = json.loads(sys.argv[1])
store = EventStore(spec["db"])
session = store.session_by_name("big")
answers = []
for pairs in spec["queries"]:
    query = event_query([tuple(pair) for pair in pairs], session.id, limit=100)
    timings = []
    for _ in range(spec["runs"]):
        wall, cpu = time.perf_counter(), time.process_time()
        total = store.query_events(query).total
        timings.append((time.perf_counter() - wall, time.process_time() - cpu, total))
    answers.append(timings)
summary = event_query([tuple(pair) for pair in spec["summary"]], session.id)
timings = []
for _ in range(spec["runs"]):
    wall, cpu = time.perf_counter(), time.process_time()
    total = store.summary(query=summary)["total"]
    timings.append((time.perf_counter() - wall, time.process_time() - cpu, total))
answers.append(timings)
store.close()
print(json.dumps(answers))
"""

#: A filtered ``summary`` (timed after the queries, last in a child's answers).
SUMMARY: Pairs = [("event", "Order Completed"), ("field_type.properties.total", "number")]

#: ``inspector assert`` as a CI script calls it (its --where is the field filter).
ASSERT_ARGS = ["--session", "big", "--event", "Order Completed",
               "--where", 'properties.currency="EUR"', "--min", "1"]


def child_env(tree: Path) -> dict[str, str]:
    """The environment of a process that must import ``tree``'s inspector."""
    return {**os.environ, "PYTHONPATH": str(tree)}


def time_tree(tree: Path, db: Path, queries: list[Pairs], runs: int) -> list[list[Any]]:
    """Every query's timings with ``tree``'s code, in one fresh process."""
    spec = json.dumps({"db": str(db), "queries": queries, "runs": runs, "summary": SUMMARY})
    done = subprocess.run([sys.executable, "-c", CHILD, spec], cwd=tree, env=child_env(tree),
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"timing {tree} failed:\n{done.stderr}")
    answers: list[list[Any]] = json.loads(done.stdout)
    return answers


def time_assert(tree: Path, db: Path) -> tuple[float, float, int]:
    """``inspector assert --db`` with ``tree``'s code: wall, CPU of the process, exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "inspector", "assert", "--db", str(db),
                           *ASSERT_ARGS], cwd=tree, env=child_env(tree), capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--baseline", type=Path,
                        help="another inspector checkout to time in the same run")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    db = (args.out / f"search-{args.events}.sqlite3").resolve()
    if not db.exists():
        print(f"building {args.events:,} events in {db} (once)...", flush=True)
        build(db, args.events)
    store = EventStore(db)
    try:
        session = store.session_by_name("big")
        assert session is not None
        newest = store.session_last_event_id(session.id)
        count = session.event_count
    finally:
        store.close()
    bounds = {"last_100k": str(max(0, newest - 100_000)),
              "last_10k": str(max(0, newest - 10_000))}
    queries: list[Pairs] = []
    for _, narrowing, fields in CASES:
        narrowing = [(name, value.format(**bounds)) for name, value in narrowing]
        queries += [narrowing, narrowing + fields]
    trees = {"this": ROOT}
    if args.baseline is not None:
        trees = {"baseline": args.baseline.resolve(), **trees}
    timings: dict[str, list[list[Any]]] = {name: [[] for _ in range(len(queries) + 1)]
                                           for name in trees}
    asserts: dict[str, list[tuple[float, float, int]]] = {name: [] for name in trees}
    print(f"{count:,} events; {args.rounds} rounds x median of {args.runs}; total + first 100")
    for round_number in range(args.rounds):
        order = list(trees) if round_number % 2 == 0 else list(reversed(trees))
        load = os.getloadavg()[0]
        for name in order:
            for index, answer in enumerate(time_tree(trees[name], db, queries, args.runs)):
                timings[name][index] += answer
            asserts[name].append(time_assert(trees[name], db))
        print(f"round {round_number + 1}: load average {load:.1f} -> {os.getloadavg()[0]:.1f}",
              flush=True)

    def cell(name: str, index: int) -> str:
        found = timings[name][index]
        return (f"{median([t[0] for t in found]):.3f}s/"
                f"{median([t[1] for t in found]):.3f}s")

    columns = [f"{name} wall/cpu" for name in trees]
    print(f"\n{'case':<40}{'without':>17}" + "".join(f"{c:>19}" for c in columns)
          + f"{'total':>11}")
    for number, (label, _, _) in enumerate(CASES):
        plain, filtered = 2 * number, 2 * number + 1
        totals = {t[2] for name in trees for t in timings[name][filtered]}
        assert len(totals) == 1, f"{label}: the trees disagree on the total: {totals}"
        print(f"{label:<40}{cell('this', plain):>17}"
              + "".join(f"{cell(name, filtered):>19}" for name in trees)
              + f"{totals.pop():>11,}")
    print(f"{'summary, event= and a field_type filter':<57}"
          + "".join(f"{cell(name, len(queries)):>19}" for name in trees))
    print(f"\ninspector assert --db {' '.join(ASSERT_ARGS)} (a fresh process):")
    for name, found in asserts.items():
        codes = {code for _, _, code in found}
        print(f"  {name}: wall {median([t[0] for t in found]):.3f}s, "
              f"cpu {median([t[1] for t in found]):.3f}s, exit {codes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
