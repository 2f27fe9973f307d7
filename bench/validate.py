"""Benchmark: tracking-plan validation throughput, and loading a big plan.

    python bench/validate.py [--events N] [--rounds R]

1. Events per second through ``PlanValidator.validate`` for a realistic mix (70% valid, 30% with
   one to three violations, ~1 KB events, a 50-rule plan), against python-jsonschema's
   ``Draft7Validator`` collecting every error (``iter_errors``) on the same events in the same
   run, with the same rule lookup. Prints both rates and the ratio (target: >= 30x).

   The two run in alternating rounds over the same events and the medians are compared, timed
   by this thread's CPU clock (``time.thread_time``: both are single-threaded and CPU-bound):
   on a busy machine, wall-clock passes of each differed by 2x from one second to the next.
   An untimed first pass checks that both agree on which events are invalid;
   ``PlanValidator``'s time for it is printed as "first pass", as it includes the one-off work
   done on a rule's first failing event (see inspector.core.plan.explain).
2. Loading a generated 500-rule, ~1.2 MB Public API plan, written compactly as the API sends it
   (target: under a second). The median of three loads is printed.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jsonschema
import orjson

from inspector.core.model import Status
from inspector.core.plan import PlanValidator, compile_plan, load_data, load_plan_file

D7 = "http://json-schema.org/draft-07/schema#"
CURRENCIES = ["USD", "EUR", "GBP", "JPY"]


def property_schemas(rng: random.Random, index: int, padding: int) -> dict[str, Any]:
    """10-ish properties of every kind a real plan uses."""
    doc = "x" * padding  # descriptions make real plans big; they cost nothing at validation
    props: dict[str, Any] = {
        "id": {"type": "string", "description": f"Identifier {doc}"},
        "total": {"type": "number", "minimum": 0, "description": doc},
        "quantity": {"type": "integer", "minimum": 1, "description": doc},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$", "description": doc},
        "status": {"type": "string", "enum": ["new", "paid", "shipped", "returned"]},
        "at": {"type": "string", "format": "date-time"},
        "coupon": {"type": ["string", "null"]},
        "gift": {"type": "boolean"},
        "items": {"type": "array", "items": {"type": "object", "properties": {
            "sku": {"type": "string"}, "price": {"type": "number"},
            "name": {"type": "string"}}, "required": ["sku"]}},
    }
    for extra in range(rng.randint(0, 3)):
        props[f"field_{index}_{extra}"] = {"type": "string", "description": doc}
    return props


def make_rules(count: int, *, padding: int = 0, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rules = []
    for index in range(count):
        rules.append({
            "type": "TRACK", "key": f"Event {index:03d}", "version": 1,
            "createdAt": "2024-01-01T00:00:00.000Z", "updatedAt": "2024-01-01T00:00:00.000Z",
            "deprecatedAt": "0001-01-01T00:00:00.000Z",
            "jsonSchema": {
                "$schema": D7, "type": "object", "labels": {"area": "bench"},
                "description": f"Bench event {index}",
                "properties": {"context": {}, "traits": {}, "properties": {
                    "type": "object",
                    "properties": property_schemas(rng, index, padding),
                    "required": ["id", "total", "currency"]}},
                "required": ["properties"]}})
    return rules


def make_event(rng: random.Random, rules: int, *, broken: int) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "id": f"ord_{rng.randrange(10**9)}", "total": round(rng.uniform(1, 500), 2),
        "quantity": rng.randint(1, 5), "currency": rng.choice(CURRENCIES),
        "status": "paid", "at": "2024-05-01T10:11:12.345Z", "coupon": None, "gift": False,
        "items": [{"sku": f"SKU-{i}", "price": 9.99, "name": "Blue mug"} for i in range(3)],
    }
    faults = [
        lambda: properties.__setitem__("total", "12.50"),
        lambda: properties.__setitem__("currency", "usd"),
        lambda: properties.pop("id"),
        lambda: properties.__setitem__("status", "lost"),
        lambda: properties.__setitem__("at", "yesterday"),
        lambda: properties["items"][1].__setitem__("price", "free"),
    ]
    for fault in rng.sample(faults, broken):
        fault()
    return {
        "type": "track", "event": f"Event {rng.randrange(rules):03d}",
        "userId": f"user_{rng.randrange(10**6)}", "anonymousId": "9b2f6c1e-8a0e-4d4b-a1f4-0c2d",
        "messageId": f"ajs-next-{rng.randrange(10**12):012d}-7a1b2c3d-4e5f",
        "timestamp": "2024-05-01T10:11:12.345Z", "sentAt": "2024-05-01T10:11:12.400Z",
        "properties": properties,
        "context": {
            "library": {"name": "analytics.js", "version": "next-1.70.0"},
            "page": {"path": "/checkout/complete", "title": "Thank you",
                     "url": "https://shop.example.com/checkout/complete?ref=mail",
                     "referrer": "https://shop.example.com/checkout"},
            "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
                         "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
            "locale": "en-US", "ip": "203.0.113.7", "timezone": "Europe/Paris",
        },
        "integrations": {"All": True},
    }


#: CPU time of the calling thread: time spent preempted by other processes is not counted.
clock = time.thread_time


def bench_validation(count: int, rounds: int) -> None:
    rules = make_rules(50)
    plan = load_data({"rules": rules})
    validator = PlanValidator(compile_plan(plan))
    rng = random.Random(7)
    events = [make_event(rng, 50, broken=0 if rng.random() < 0.7 else rng.randint(1, 3))
              for _ in range(count)]
    size = sum(len(orjson.dumps(e)) for e in events) / len(events)
    reference = {
        rule["key"]: jsonschema.Draft7Validator(
            rule["jsonSchema"], format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
        for rule in rules
    }

    def ours() -> list[tuple[Status, Any]]:
        return [validator.validate(event) for event in events]

    def theirs() -> list[list[Any]]:
        return [list(reference[event["event"]].iter_errors(event)) for event in events]

    # One untimed pass each: the agreement check, and warm-up (ours is timed to show the cost of
    # the one-off work on each rule's first event).
    start = clock()
    results = ours()
    cold = (clock() - start) / count
    errors = theirs()
    invalid = sum(status is Status.INVALID for status, _ in results)
    assert invalid == sum(bool(found) for found in errors), "the two validators disagree"
    del errors

    ours_times: list[float] = []
    theirs_times: list[float] = []
    for _ in range(rounds):
        for run, times in ((ours, ours_times), (theirs, theirs_times)):
            # Collect first, so that neither side's timed pass includes a full collection
            # triggered by the other's garbage (it doubled PlanValidator's ~30 ms pass).
            gc.collect()
            start = clock()
            run()  # results dropped at once: no round keeps the other's garbage alive
            times.append((clock() - start) / count)

    valid_events = [e for e, (status, _) in zip(events, results, strict=True)
                    if status is Status.VALID]
    invalid_events = [e for e, (status, _) in zip(events, results, strict=True)
                      if status is not Status.VALID]
    split = {}
    for label, subset in (("valid", valid_events), ("invalid", invalid_events)):
        times = []
        for _ in range(rounds):
            gc.collect()
            start = clock()
            for event in subset:
                validator.validate(event)
            times.append((clock() - start) / max(1, len(subset)))
        split[label] = statistics.median(times) * 1e6

    ours_s = statistics.median(ours_times)
    theirs_s = statistics.median(theirs_times)
    print(f"events: {count}, mean size {size:.0f} bytes, {invalid / count:.0%} invalid, "
          f"50-rule plan, median of {rounds} alternating rounds")
    print(f"inspector PlanValidator:          {1 / ours_s:>10,.0f} events/s "
          f"({ours_s * 1e6:.1f} µs/event; valid {split['valid']:.1f} µs, "
          f"invalid {split['invalid']:.1f} µs; first pass {cold * 1e6:.1f} µs)")
    print(f"jsonschema Draft7Validator (all): {1 / theirs_s:>10,.0f} events/s "
          f"({theirs_s * 1e6:.1f} µs/event)")
    print(f"ratio: {theirs_s / ours_s:.1f}x")


def bench_load() -> None:
    # Compact JSON, as the Public API returns it; the padding (documentation in descriptions,
    # as real plans carry) brings the file to ~1.2 MB. Printed below, so the size is checked.
    rules = make_rules(500, padding=218, seed=3)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plan.json"
        path.write_text(json.dumps({"rules": rules}))
        size = path.stat().st_size
        times = []
        for _ in range(3):
            start = time.perf_counter()
            plan = load_plan_file(path)  # read and compiled, ready to validate
            times.append(time.perf_counter() - start)
    elapsed = statistics.median(times)
    print(f"load: {len(plan)} rules, {size / 1e6:.2f} MB in {elapsed * 1000:.0f} ms (median of 3)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=4_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    bench_validation(args.events, args.rounds)
    bench_load()


if __name__ == "__main__":
    main()
