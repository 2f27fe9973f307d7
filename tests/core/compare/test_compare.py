"""Two sessions captured over real HTTP, compared: every planted regression is found with its
kind, severity, shares and examples; identical flows with other ids and clocks differ in
nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest

from inspector.core.compare import (
    CompareOptions,
    Comparison,
    Difference,
    Kind,
    Severity,
    compare,
    engine,
    open_side,
)
from inspector.core.store import EventStore, SessionInfo
from tests.support.compare_traffic import Scenario, baseline_flow

Capture = Callable[[str, Scenario], Awaitable[SessionInfo]]


def _compare(db_path: Path, baseline: str, candidate: str,
             options: CompareOptions | None = None) -> Comparison:
    store = EventStore(db_path)
    try:
        with open_side(baseline, store) as old, open_side(candidate, store) as new:
            return compare(old, new, options)
    finally:
        store.close()


def _one(comparison: Comparison, kind: Kind, event: str | None = None,
         path: str | None = None) -> Difference:
    found = [d for d in comparison.differences if d.kind is kind
             and (event is None or d.event == event) and (path is None or d.path == path)]
    assert len(found) == 1, (kind, event, path, [d.message for d in comparison.differences])
    return found[0]


async def test_identical_flows_with_other_ids_and_clocks_differ_in_nothing(
        capture_session: Capture, db_path: Path) -> None:
    await capture_session("release 1", lambda traffic: baseline_flow(traffic, seed=1))
    await capture_session("release 2", lambda traffic: baseline_flow(traffic, seed=2))

    comparison = _compare(db_path, "release 1", "release 2")

    assert [d.message for d in comparison.differences] == []
    assert not comparison.has_errors
    assert comparison.baseline.events == comparison.candidate.events == 24


@pytest.fixture
def regressed(regressed_db: Path) -> Comparison:
    return _compare(regressed_db, "production", "staging")


def test_missing_and_unexpected_events(regressed: Comparison) -> None:
    missing = _one(regressed, Kind.MISSING_EVENT)
    assert (missing.event, missing.type, missing.severity) == (
        "Newsletter Subscribed", "track", Severity.ERROR)
    assert missing.message == ("Newsletter Subscribed was sent 4 times in the baseline and "
                               "never in the candidate.")
    assert missing.baseline_examples
    assert not missing.candidate_examples
    unexpected = _one(regressed, Kind.UNEXPECTED_EVENT)
    assert (unexpected.event, unexpected.severity) == ("Promo Shown", Severity.WARNING)
    assert unexpected.candidate_examples


def test_missing_property_with_shares_on_both_sides(regressed: Comparison) -> None:
    coupon = _one(regressed, Kind.MISSING_PROPERTY, "Order Completed", "properties.coupon")
    assert coupon.severity is Severity.ERROR
    assert (coupon.baseline, coupon.candidate) == ({"share": 1.0, "count": 4},
                                                   {"share": 0.0, "count": 0})
    price = _one(regressed, Kind.MISSING_PROPERTY, "Product Viewed", "properties.price")
    assert price.severity is Severity.ERROR
    assert price.message == ("Product Viewed sends properties.price less often: on 100% of "
                             "baseline calls, 50% of candidate calls (2 of 4).")
    # One example on each side: a call with the price, and one without it.
    assert price.baseline_examples
    assert price.candidate_examples


def test_unexpected_property_and_type_change(regressed: Comparison) -> None:
    step = _one(regressed, Kind.UNEXPECTED_PROPERTY, "Checkout Started", "properties.step")
    assert step.severity is Severity.INFO
    total = _one(regressed, Kind.TYPE_CHANGED, "Checkout Started", "properties.total")
    assert total.severity is Severity.ERROR
    assert (total.baseline, total.candidate) == ({"number": 1.0}, {"string": 1.0})
    assert "string 100%" in total.message
    assert "number 100%" in total.message


def test_values_of_an_enum_like_property(regressed: Comparison) -> None:
    currency = _one(regressed, Kind.VALUES_CHANGED, "Product Viewed", "properties.currency")
    assert currency.severity is Severity.WARNING
    assert (currency.baseline, currency.candidate) == (["USD"], ["USD", "usd"])
    assert "usd" in currency.message
    # Ids are never compared by value, though few: four carts, four values.
    assert not [d for d in regressed.differences if d.path == "properties.cart_id"]


def test_source_changed_from_backend_to_browser(regressed: Comparison) -> None:
    source = _one(regressed, Kind.SOURCE_CHANGED, "Order Completed")
    assert source.severity is Severity.ERROR
    assert (source.baseline, source.candidate) == ({"server": 1.0}, {"browser": 1.0})
    assert source.baseline_examples
    assert source.candidate_examples


def test_identity_changes(regressed: Comparison) -> None:
    shape = _one(regressed, Kind.IDENTITY_CHANGED, path="userId")
    assert shape.severity is Severity.ERROR
    assert shape.baseline == {"numeric": 1.0}
    assert shape.candidate == {"email": 1.0}
    trait = _one(regressed, Kind.IDENTITY_CHANGED, path="traits.first_name")
    assert (trait.type, trait.severity) == ("identify", Severity.ERROR)
    email = _one(regressed, Kind.IDENTITY_CHANGED, path="email")
    assert email.severity is Severity.WARNING
    assert email.baseline["first_on"] == email.candidate["first_on"] == "identify"
    assert email.baseline["median_call"] < email.candidate["median_call"]


def test_sequence_changed(regressed: Comparison) -> None:
    flips = [d for d in regressed.differences if d.kind is Kind.SEQUENCE_CHANGED]
    checkout = [d for d in flips if d.event == "Checkout Started"
                and d.candidate["order"] == ["Checkout Started", "identify"]]
    assert len(checkout) == 1, [d.message for d in flips]
    assert checkout[0].baseline["order"] == ["identify", "Checkout Started"]
    assert checkout[0].severity is Severity.WARNING
    assert checkout[0].message == (
        "Checkout Started now comes before identify: for 100% of 4 candidate people, while "
        "identify came first for 100% of 4 baseline people.")
    # Both sides' examples: the two calls of one person, in that side's order.
    assert len(checkout[0].baseline_examples) == len(checkout[0].candidate_examples) == 2


def test_every_kind_is_found_and_errors_come_first(regressed: Comparison) -> None:
    assert {d.kind for d in regressed.differences} == set(Kind)
    severities = [d.severity for d in regressed.differences]
    assert severities == sorted(severities, key=[Severity.ERROR, Severity.WARNING,
                                                 Severity.INFO].index)
    assert regressed.has_errors


def test_ignore_globs(regressed_db: Path) -> None:
    comparison = _compare(regressed_db, "production", "staging",
                          CompareOptions(ignore=("properties.coupon", "properties.st*")))

    paths = {d.path for d in comparison.differences}
    assert "properties.coupon" not in paths
    assert "properties.step" not in paths
    assert "properties.price" in paths


def test_a_second_process_profiles_the_baseline_of_big_sessions(
        regressed_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alone = _compare(regressed_db, "production", "staging")
    monkeypatch.setattr(engine, "PARALLEL_MIN_EVENTS", 0)  # however much is stored
    spawned: list[object] = []
    real_pool = engine.ProcessPoolExecutor

    def pool(*args: object, **kwargs: object) -> object:
        spawned.append(args)
        return real_pool(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "ProcessPoolExecutor", pool)

    together = _compare(regressed_db, "production", "staging")

    assert spawned
    assert together.differences == alone.differences


def test_each_side_narrowed_to_some_events(regressed_db: Path) -> None:
    # What a flow run will pass: the calls of one run (here, the first shopper's).
    store = EventStore(regressed_db)
    try:
        with open_side("production", store) as old, open_side("staging", store) as new:
            first = {side: [row.id for row in store.iter_call_rows(side.info.session_id)][:6]
                     for side in (old, new)}
            comparison = compare(replace(old, event_ids=first[old]),
                                 replace(new, event_ids=first[new]))
    finally:
        store.close()

    coupon = _one(comparison, Kind.MISSING_PROPERTY, "Order Completed", "properties.coupon")
    assert coupon.baseline == {"share": 1.0, "count": 1}
    flip = _one(comparison, Kind.SEQUENCE_CHANGED, "Checkout Started")
    assert flip.baseline["people"] == flip.candidate["people"] == 1
    # Every example comes from the events given, none from the rest of the session.
    assert all(example.event_id in first[old] for d in comparison.differences
               for example in d.baseline_examples)
