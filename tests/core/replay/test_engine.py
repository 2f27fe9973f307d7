"""The replay engine against the stand-in: order, retries, faults, resume, dedupe, pause."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import Path

import pytest

from inspector.core.replay import (
    ItemResult,
    ItemStatus,
    Marking,
    Mode,
    ProductionLockedError,
    RateLimiter,
    ReplayControl,
    ReplayOptions,
    RunState,
    stable_event_id,
)
from tests.core.replay.helpers import plan
from tests.support.customerio_standin import CustomerIOStandIn
from tests.support.events import make_event


def _people_events(count: int, people: int = 4) -> list[dict[str, object]]:
    return [make_event("track", index=i, userId=f"user-{i % people}", event=f"Step {i}")
            for i in range(count)]


def _order_by_person(standin: CustomerIOStandIn) -> dict[str, list[str]]:
    order: dict[str, list[str]] = defaultdict(list)
    for person, event_id in standin.timeline:
        order[person].append(event_id)
    return order


def _expected_order(events: list[dict[str, object]]) -> dict[str, list[str]]:
    order: dict[str, list[str]] = defaultdict(list)
    for event in events:
        order[f"u:{event['userId']}"].append(stable_event_id(event))  # type: ignore[arg-type]
    return order


async def test_replay_sends_everything_in_capture_order_per_person(
    tmp_path: Path, standin: CustomerIOStandIn
) -> None:
    events = _people_events(40)
    setup = plan(tmp_path, standin, events)
    progress = []
    engine, client = setup.engine(on_progress=progress.append)
    async with client:
        summary = await engine.run(setup.run.id)
    assert summary.state is RunState.COMPLETED
    assert summary.counts[ItemStatus.SENT] == 40
    assert len(standin.events) == 40
    assert _order_by_person(standin) == _expected_order(events)
    assert progress[-1].done == progress[-1].total == 40
    results = setup.runs.results(setup.run.id)
    assert [r.event_id for r in results] == setup.event_ids
    assert all(r.http_status == 200 and r.response_body == "{}" and r.attempts == 1
               for r in results)


async def test_retry_after_is_honoured_and_other_4xx_never_retried(
    tmp_path: Path, standin: CustomerIOStandIn
) -> None:
    # One person, so the two events go strictly one after the other.
    events = [make_event("track", index=0, userId="a"), make_event("track", index=1, userId="a")]
    setup = plan(tmp_path, standin, events)
    # First event: 429 asking for 0.02 s, then 503 without a hint, then through.
    # Second event: a 400, which is final.
    standin.inject(429, retry_after="0.02")
    standin.inject(503, None, 400)
    engine, client = setup.engine(ReplayOptions(rate=10_000, backoff_base=0.001))
    async with client:
        summary = await engine.run(setup.run.id)
    assert summary.backoffs[0] == pytest.approx(0.02)
    first, second = setup.runs.results(setup.run.id)
    assert (first.status, first.attempts) == (ItemStatus.SENT, 3)
    assert (second.status, second.attempts, second.http_status) == (ItemStatus.FAILED, 1, 400)
    assert summary.requests == 4


async def test_a_person_whose_event_gives_up_is_held_and_retry_failed_keeps_order(
    tmp_path: Path, standin: CustomerIOStandIn
) -> None:
    events = [
        make_event("track", index=0, userId="a", event="First"),
        make_event("track", index=1, userId="b", event="Other person"),
        make_event("track", index=2, userId="a", event="Second"),
    ]
    setup = plan(tmp_path, standin, events)
    # a's first attempt, b's only attempt (while a backs off, b may go), a's second attempt.
    standin.inject(503, None, 503)
    options = ReplayOptions(rate=10_000, concurrency=1, max_attempts=2, backoff_base=0.001)
    engine, client = setup.engine(options)
    async with client:
        summary = await engine.run(setup.run.id)
    statuses = [r.status for r in setup.runs.results(setup.run.id)]
    assert statuses == [ItemStatus.FAILED, ItemStatus.SENT, ItemStatus.HELD]
    assert summary.state is RunState.COMPLETED

    engine, client = setup.engine()
    async with client:
        summary = await engine.run(setup.run.id, retry_failed=True)
    assert summary.counts[ItemStatus.SENT] == 3
    assert _order_by_person(standin)["u:a"] == [stable_event_id(events[0]),
                                                stable_event_id(events[2])]


async def test_cancel_then_resume_sends_each_event_once(
    tmp_path: Path, standin: CustomerIOStandIn
) -> None:
    events = _people_events(30)
    setup = plan(tmp_path, standin, events)
    control = ReplayControl()

    def cancel_after_ten(results: list[ItemResult]) -> None:
        if len(standin.events) >= 10:
            control.cancel()

    engine, client = setup.engine(ReplayOptions(rate=10_000, concurrency=2), control=control,
                                  on_results=cancel_after_ten)
    async with client:
        summary = await engine.run(setup.run.id)
    assert summary.state is RunState.CANCELLED
    sent_before = summary.counts[ItemStatus.SENT]
    assert 10 <= sent_before < 30
    assert summary.counts[ItemStatus.PENDING] == 30 - sent_before

    engine, client = setup.engine()
    async with client:
        summary = await engine.run(setup.run.id)
    assert summary.state is RunState.COMPLETED
    assert summary.counts[ItemStatus.SENT] == 30
    assert summary.requests == 30 - sent_before  # the resume sent only what was left
    assert len(standin.events) == 30
    assert standin.duplicates == 0
    assert _order_by_person(standin) == _expected_order(events)


async def test_quitting_mid_replay_loses_nothing(
    tmp_path: Path, standin: CustomerIOStandIn
) -> None:
    events = _people_events(30)
    setup = plan(tmp_path, standin, events)
    enough = asyncio.Event()

    def watch(results: list[ItemResult]) -> None:
        if len(standin.events) >= 12:
            enough.set()

    engine, client = setup.engine(ReplayOptions(rate=10_000, concurrency=4), on_results=watch)
    task = asyncio.create_task(engine.run(setup.run.id))
    await enough.wait()
    task.cancel()  # what closing the app does to the running coroutine
    with pytest.raises(asyncio.CancelledError):
        await task
    await client.aclose()
    run = setup.runs.get_run(setup.run.id)
    assert run is not None
    assert run.state is RunState.INTERRUPTED

    engine, client = setup.engine()
    async with client:
        summary = await engine.run(setup.run.id)
    assert summary.counts[ItemStatus.SENT] == 30
    # Requests in flight when the app quit may be sent again; their ids make them no-ops.
    assert len(standin.events) == 30
    assert _order_by_person(standin) == _expected_order(events)


@pytest.mark.parametrize("mode", [Mode.CLASSIC, Mode.ACTIONS, Mode.PIPELINES])
async def test_running_the_same_replay_twice_creates_no_duplicates(
    tmp_path: Path, standin: CustomerIOStandIn, mode: Mode
) -> None:
    events = _people_events(20)
    setup = plan(tmp_path, standin, events, mode=mode, batch_size=7)
    for _ in range(2):
        run = setup.runs.create_run(
            setup.destination,
            [(event_id, event) for event_id, event in zip(setup.event_ids, events, strict=True)],
        )
        engine, client = setup.engine()
        async with client:
            summary = await engine.run(run.id)
        assert summary.counts[ItemStatus.SENT] == 20
    assert len(standin.events) == 20
    assert standin.duplicates == 20


@pytest.mark.parametrize("mode", [Mode.CLASSIC, Mode.ACTIONS, Mode.PIPELINES])
async def test_nothing_is_lost_under_injected_faults(
    tmp_path: Path, standin: CustomerIOStandIn, mode: Mode
) -> None:
    standin.set_fault_rate(0.3, seed=7)
    events = _people_events(60, people=6)
    setup = plan(tmp_path, standin, events, mode=mode, batch_size=5)
    engine, client = setup.engine(ReplayOptions(rate=10_000, concurrency=4, max_attempts=50,
                                                backoff_base=0.001, backoff_max=0.002))
    async with client:
        summary = await engine.run(setup.run.id)
    assert standin.faults_sent > 0
    assert summary.retries == standin.faults_sent
    assert summary.counts[ItemStatus.SENT] == 60
    assert len(standin.events) == 60
    if mode is not Mode.PIPELINES:
        assert _order_by_person(standin) == _expected_order(events)


async def test_pause_stops_new_requests_until_resumed(
    tmp_path: Path, standin: CustomerIOStandIn
) -> None:
    setup = plan(tmp_path, standin, _people_events(10))
    control = ReplayControl()
    first = asyncio.Event()

    def pause_on_first(results: list[ItemResult]) -> None:
        if not first.is_set():
            control.pause()
            first.set()

    engine, client = setup.engine(ReplayOptions(rate=10_000, concurrency=1), control=control,
                                  on_results=pause_on_first)
    async with client:
        task = asyncio.create_task(engine.run(setup.run.id))
        await first.wait()
        for _ in range(50):  # give the loop every chance to (wrongly) send more
            await asyncio.sleep(0)
        assert len(standin.requests) == 1
        assert engine.progress().paused
        control.resume()
        summary = await task
    assert summary.counts[ItemStatus.SENT] == 10


async def test_partial_batch_failures_are_recorded_per_event(
    tmp_path: Path, standin: CustomerIOStandIn
) -> None:
    events = [
        make_event("identify", index=0, userId="a", traits={"bio": "x" * 2000}),
        make_event("track", index=1, userId="b"),
        make_event("track", index=2, userId="c"),
    ]
    setup = plan(tmp_path, standin, events, mode=Mode.ACTIONS)
    engine, client = setup.engine()
    async with client:
        summary = await engine.run(setup.run.id)
    assert summary.requests == 1  # a 207 is final: the good operations went through
    first, *rest = setup.runs.results(setup.run.id)
    assert first.status is ItemStatus.FAILED
    assert first.http_status == 207
    assert "1000 bytes" in (first.error or "")
    assert [r.status for r in rest] == [ItemStatus.SENT, ItemStatus.SENT]


async def test_classic_drops_are_recorded_not_sent(
    tmp_path: Path, standin: CustomerIOStandIn
) -> None:
    events = [make_event("track", index=0, anonymousId="anon"),
              make_event("group", index=1, userId="u", groupId="g")]
    setup = plan(tmp_path, standin, events)
    engine, client = setup.engine()
    async with client:
        summary = await engine.run(setup.run.id)
    assert summary.counts[ItemStatus.DROPPED] == 2
    assert standin.requests == []
    reasons = [r.error for r in setup.runs.results(setup.run.id)]
    assert reasons[0] == "Classic would drop this: no userId"


async def test_production_destination_needs_its_name_typed(
    tmp_path: Path, standin: CustomerIOStandIn
) -> None:
    setup = plan(tmp_path, standin, _people_events(2), marking=Marking.PRODUCTION)
    engine, client = setup.engine()
    async with client:
        with pytest.raises(ProductionLockedError):
            await engine.run(setup.run.id)
        with pytest.raises(ProductionLockedError):
            await engine.run(setup.run.id, unlock="Staging")
        assert standin.requests == []
        summary = await engine.run(setup.run.id, unlock="staging")
    assert summary.counts[ItemStatus.SENT] == 2


async def test_replay_sends_the_corrected_payload(
    tmp_path: Path, standin: CustomerIOStandIn
) -> None:
    from inspector.core.fixes import RenameEvent
    from inspector.core.replay import ReplayRunStore, collect_items
    from inspector.core.store import EventQuery

    setup = plan(tmp_path, standin, [make_event("track", index=0, userId="u", event="signup")])
    setup.corrections.apply([RenameEvent(from_name="signup", to_name="Signed Up")],
                            event_ids=setup.event_ids)
    runs: ReplayRunStore = setup.runs
    run = runs.create_run(setup.destination,
                          collect_items(setup.corrections, EventQuery()))
    engine, client = setup.engine()
    async with client:
        await engine.run(run.id)
    (event,) = standin.events.values()
    assert event["name"] == "Signed Up"


async def test_rate_limiter_spaces_requests_on_a_fake_clock() -> None:
    now = [0.0]
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(4, clock=lambda: now[0], sleep=fake_sleep)
    for _ in range(5):
        await limiter.acquire()
    assert now[0] == pytest.approx(1.0)  # slots at 0, .25, .5, .75, 1.0
    assert slept == pytest.approx([0.25] * 4)
    now[0] += 10  # idle time is not banked as a burst
    await limiter.acquire()
    await limiter.acquire()
    assert slept[-1] == pytest.approx(0.25)


