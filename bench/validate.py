"""Benchmark: tracking-plan validation throughput, and loading a big plan.

    python bench/validate.py [--events N]

1. Events per second through ``PlanValidator.validate`` for a realistic mix (70% valid, 30% with
   one to three violations, ~1 KB events, a 50-rule plan), against python-jsonschema's
   ``Draft7Validator`` collecting every error (``iter_errors``) on the same events in the same
   run, with the same rule lookup. Prints both rates and the ratio (target: >= 30x).
2. Loading a generated 500-rule, ~1.2 MB Public API plan (target: under a second).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jsonschema
import orjson

from inspector.core.model import Status
from inspector.core.plan import PlanValidator, TrackingPlan

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


def bench_validation(count: int) -> None:
    rules = make_rules(50)
    plan = TrackingPlan.from_data({"rules": rules})
    validator = PlanValidator(plan)
    rng = random.Random(7)
    events = [make_event(rng, 50, broken=0 if rng.random() < 0.7 else rng.randint(1, 3))
              for _ in range(count)]
    size = sum(len(orjson.dumps(e)) for e in events) / len(events)
    reference = {
        rule["key"]: jsonschema.Draft7Validator(
            rule["jsonSchema"], format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
        for rule in rules
    }

    start = time.perf_counter()
    ours = [validator.validate(event) for event in events]
    ours_rate = count / (time.perf_counter() - start)

    start = time.perf_counter()
    theirs = [list(reference[event["event"]].iter_errors(event)) for event in events]
    theirs_rate = count / (time.perf_counter() - start)

    invalid = sum(status is Status.INVALID for status, _ in ours)
    assert invalid == sum(bool(errors) for errors in theirs), "the two validators disagree"
    print(f"events: {count}, mean size {size:.0f} bytes, {invalid / count:.0%} invalid, "
          "50-rule plan")
    print(f"inspector PlanValidator:          {ours_rate:>10,.0f} events/s "
          f"({1e6 / ours_rate:.1f} µs/event)")
    print(f"jsonschema Draft7Validator (all): {theirs_rate:>10,.0f} events/s "
          f"({1e6 / theirs_rate:.1f} µs/event)")
    print(f"ratio: {ours_rate / theirs_rate:.1f}x")


def bench_load() -> None:
    rules = make_rules(500, padding=60, seed=3)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plan.json"
        path.write_text(json.dumps({"rules": rules}, indent=2))
        size = path.stat().st_size
        start = time.perf_counter()
        plan = TrackingPlan.load(path)
        elapsed = time.perf_counter() - start
    print(f"load: {len(plan)} rules, {size / 1e6:.2f} MB in {elapsed * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    bench_validation(args.events)
    bench_load()


if __name__ == "__main__":
    main()
