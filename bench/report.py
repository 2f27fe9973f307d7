"""QA report speed over a stored session: gathering it, and rendering each format.

    python bench/report.py [--events 100000] [--people 5000] [--invalid 0.1]

The session is the audit benchmark's synthetic retail traffic (bench/audit.py), with a share
of its calls marked invalid (a violation each), in SQLite. Figures are CPU seconds of this
process (``time.process_time``), against a baseline measured in the same run: reading every
row of the session with ``iter_events``. ``build_report`` includes the retention audit from
scratch (the first report of a session; later ones reuse the findings kept with it).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.audit import stored_session, synthetic_calls
from inspector.core.model import Source, Status, Violation
from inspector.core.report import build_report, render_report
from inspector.core.store import EventQuery


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--invalid", type=float, default=0.1,
                        help="share of the calls marked invalid")
    args = parser.parse_args()
    calls = synthetic_calls(args.events, args.people)
    with tempfile.TemporaryDirectory() as folder:
        store, session = stored_session(Path(folder), calls)
        every = max(1, round(1 / args.invalid)) if args.invalid > 0 else 0
        violation = Violation("Invalid Type", "properties.total",
                              "Invalid type. Expected: number, given: string",
                              source=Source.PLAN)
        ids = [event.id for event in store.iter_events(EventQuery(session_id=session.id))]
        store.update_validation(
            (event_id, Status.INVALID, [violation]) for event_id in ids[::every] if every)

        started = time.process_time()
        count = sum(1 for _ in store.iter_events(EventQuery(session_id=session.id)))
        read = time.process_time() - started
        print(f"{count:,} calls, {len(ids[::every]) if every else 0:,} invalid: reading rows "
              f"{read:.2f} s (baseline)")
        started = time.process_time()
        data = build_report(store, session)
        built = time.process_time() - started
        print(f"build_report (audit from scratch, {len(data.audit.findings):,} findings): "
              f"{built:.2f} s ({built / read:.2f}x)")
        started = time.process_time()
        build_report(store, session)
        again = time.process_time() - started
        print(f"build_report again (findings kept with the session): {again:.2f} s "
              f"({again / read:.2f}x)")
        for fmt in ("html", "md", "junit"):
            started = time.process_time()
            text = render_report(data, fmt)
            took = time.process_time() - started
            print(f"render {fmt}: {took:.3f} s ({took / read:.2f}x), {len(text) / 1e6:.2f} MB")
        store.close()


if __name__ == "__main__":
    main()
