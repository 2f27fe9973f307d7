"""Runs: started and stopped over a live session, kept with it, reopened, re-evaluated."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from segment.analytics import Client

from inspector.core.audit import AuditConfig
from inspector.core.audit.live import SessionAudit
from inspector.core.capture import CaptureService
from inspector.core.flows import RunStatus, StepStatus, load_flow, parse_flow, runs
from inspector.core.flows.runs import (
    audit_config_hash,
    flow_run_summary,
    load_run,
    load_runs,
    plan_info,
    reevaluate,
    start_run,
)
from inspector.core.plan.reading import load_plan_file
from inspector.core.resources import example_plan_path
from inspector.core.store import EventStore
from tests.core.audit.conftest import KEYS, Traffic
from tests.core.flows.test_bundled_flows import browse, checkout, identify, order


async def send(capture: CaptureService, scenario: Callable[[Traffic], Any]) -> None:
    for key, name in KEYS.items():
        capture.store.name_write_key(key, name)
    backend = Client("backend-key", host=capture.base_url, sync_mode=True, max_retries=0)
    await asyncio.get_running_loop().run_in_executor(
        None, scenario, Traffic(capture, backend))


async def test_a_run_follows_the_session_live_and_reopens_with_it(
        capture: CaptureService) -> None:
    store, session = capture.store, capture.session.id
    # Before the run: a stranger's order, which the run must not count.
    await send(capture, lambda traffic: order(traffic, anon="someone-else"))
    plan = plan_info(load_plan_file(example_plan_path()))
    live = start_run(store, session, [load_flow("guest-checkout")], AuditConfig(), plan)
    assert live.run.after_event_id == store.session_last_event_id(session)
    assert live.run.status is RunStatus.INCOMPLETE
    assert {str(step.status) for step in live.run.results[0].steps} == {"pending"}

    await send(capture, lambda traffic: (browse(traffic), identify(traffic)))
    steps = [str(step.status) for step in live.refresh().results[0].steps]
    assert steps == ["passed", "passed", "passed", "pending", "pending"]

    await send(capture, lambda traffic: (checkout(traffic), order(traffic)))
    stopped = live.stop()
    assert stopped.status is RunStatus.PASSED
    assert stopped.until_event_id == store.session_last_event_id(session)

    # Reopened from the file: the same run, results and what it ran under.
    reopened = EventStore(store.path)
    try:
        [kept] = load_runs(reopened, session)
        assert kept.id == live.id
        assert kept.results == stopped.results
        assert kept.plan == plan
        assert plan is not None
        assert len(plan.sha256) == 64
        assert kept.to_dict()["audit_config_sha256"] == audit_config_hash(AuditConfig())
        assert not kept.running
        assert kept.flows[0].text == load_flow("guest-checkout").text
    finally:
        reopened.close()


async def test_runs_are_several_per_session_and_windowed(capture: CaptureService) -> None:
    store, session = capture.store, capture.session.id
    first = start_run(store, session, [load_flow("guest-checkout")])
    await send(capture, lambda traffic: (browse(traffic), identify(traffic), checkout(traffic),
                                         order(traffic)))
    first.stop()
    second = start_run(store, session, [load_flow("guest-checkout"), load_flow("refund")])
    second.stop()
    runs = load_runs(store, session)
    assert [run.id for run in runs] == [first.id, second.id]
    assert runs[0].status is RunStatus.PASSED
    # The second run saw none of the first one's calls.
    assert [str(result.status) for result in runs[1].results] == ["incomplete", "incomplete"]
    summary = flow_run_summary(runs[1])
    assert summary["step_counts"] == {"pending": 7}
    assert [flow["name"] for flow in summary["flows"]] == ["guest-checkout", "refund"]


async def test_a_kept_run_is_re_evaluated_after_its_flow_is_edited(
        capture: CaptureService) -> None:
    store, session = capture.store, capture.session.id
    live = start_run(store, session, [load_flow("guest-checkout")])
    await send(capture, lambda traffic: (browse(traffic), identify(traffic), checkout(traffic),
                                         order(traffic, total="49.00")))
    run = live.stop()
    assert run.status is RunStatus.FAILED
    edited = parse_flow(load_flow("guest-checkout").text.replace(
        "properties.total: {type: number, min: 0}", "properties.total: {exists: true}"),
        "mine.yaml")
    again = reevaluate(store, run, [edited])
    assert again.status is RunStatus.PASSED
    kept = load_run(store, run.id)
    assert kept is not None
    assert kept.status is RunStatus.PASSED
    assert kept.flows[0].origin == "mine.yaml"


async def test_deleting_the_session_deletes_its_runs(capture: CaptureService) -> None:
    store = capture.store
    other = store.create_session("other")
    run = start_run(store, other.id, [load_flow("refund")])
    store.delete_session(other.id)
    assert load_run(store, run.id) is None


async def test_a_live_run_reads_people_from_the_session_audit_when_one_is_kept(
        capture: CaptureService) -> None:
    """serve keeps a session's audit: a run on it is fed only its candidates and reads people
    from the audit's graph, with the same results as a run that links every call itself; an
    audit that links people another way (other placeholder emails) is not shared, and a run
    whose audit appears midway starts over on it."""
    store, session = capture.store, capture.session.id
    audits: dict[int, SessionAudit] = {}
    flows = [load_flow("guest-checkout"), load_flow("multi-device")]
    alone = start_run(store, session, flows)
    shared = start_run(store, session, flows, audits=audits.get)
    other = start_run(store, session, flows, audits=lambda _: SessionAudit(
        store, session, AuditConfig(placeholder_values=["ada@shop.test"])))
    assert not shared.shares_audit  # no audit kept yet: it links the calls itself
    assert not other.shares_audit

    await send(capture, lambda traffic: (browse(traffic), identify(traffic)))
    audits[session] = SessionAudit(store, session)
    assert shared.refresh().results == alone.refresh().results
    assert shared.shares_audit
    other.refresh()
    assert not other.shares_audit

    await send(capture, lambda traffic: (checkout(traffic), order(traffic)))
    assert shared.refresh().results == alone.refresh().results
    assert shared.run.evaluated_through == audits[session].last_id == \
        store.session_last_event_id(session)
    stopped, expected = shared.stop(), alone.stop()
    assert stopped.results[0].status is RunStatus.PASSED  # guest-checkout
    assert stopped.results == expected.results
    assert stopped.until_event_id == expected.until_event_id == \
        store.session_last_event_id(session)
    assert load_run(store, shared.id) == stopped


async def test_a_followed_run_is_kept_when_a_step_changes_or_every_few_seconds(
        capture: CaptureService, monkeypatch: pytest.MonkeyPatch) -> None:
    """The window asks for a live run every second: its results are written with the session
    when a step's status changed, else at most every KEEP_EVERY seconds."""
    store, session = capture.store, capture.session.id
    live = start_run(store, session, [load_flow("guest-checkout")])
    kept_at_start = load_run(store, live.id)
    assert kept_at_start is not None

    # Calls no step picks: evaluated, nothing changes, nothing written.
    await send(capture, lambda traffic: traffic.web("page", anonymousId="anon-9", name="Home"))
    assert live.refresh(save=True).evaluated_through > kept_at_start.evaluated_through
    kept = load_run(store, live.id)
    assert kept is not None
    assert kept.evaluated_through == kept_at_start.evaluated_through

    # A step passes: written at once.
    await send(capture, browse)
    assert live.refresh(save=True).results[0].steps[0].status is StepStatus.PASSED
    kept = load_run(store, live.id)
    assert kept is not None
    assert kept.results == live.run.results

    # Due by time: written though nothing changed.
    await send(capture, lambda traffic: traffic.web("page", anonymousId="anon-9", name="Home"))
    monkeypatch.setattr(runs, "KEEP_EVERY", 0.0)
    through = live.refresh(save=True).evaluated_through
    kept = load_run(store, live.id)
    assert kept is not None
    assert kept.evaluated_through == through
