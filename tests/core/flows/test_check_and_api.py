"""``inspector check`` (--db, --url, --wait; text, JSON, JUnit; exit codes) and the flow REST
routes, over real HTTP."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from segment.analytics import Client

from inspector.cli import main
from inspector.core.capture import CaptureService, flows_api
from inspector.core.flows import load_flow
from inspector.core.flows.following import FollowedFlows
from inspector.core.flows.session import evaluate_session
from tests.core.audit.conftest import KEYS, Traffic
from tests.core.flows.test_bundled_flows import browse, checkout, guest_checkout, identify, order


async def send(capture: CaptureService, scenario: Callable[[Traffic], Any]) -> None:
    for key, name in KEYS.items():
        capture.store.name_write_key(key, name)
    backend = Client("backend-key", host=capture.base_url, sync_mode=True, max_retries=0)
    await asyncio.get_running_loop().run_in_executor(
        None, scenario, Traffic(capture, backend))


async def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``inspector check`` off the loop (the capture service answers on it)."""
    code = await asyncio.get_running_loop().run_in_executor(None, main, ["check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


async def test_check_passes_a_correct_checkout_with_the_issue_json_shape(
        capture: CaptureService, capsys: pytest.CaptureFixture[str]) -> None:
    await send(capture, guest_checkout)
    code, out, _ = await check(capsys, "--flow", "guest-checkout", "--db",
                               str(capture.store.path), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["flows"]
    [flow] = data["flows"]
    assert list(flow) == ["flow", "status", "steps"]
    assert flow["status"] == "passed"
    assert all(list(step) == ["name", "status", "message_ids", "reason"]
               for step in flow["steps"])
    assert [step["name"] for step in flow["steps"]] == [
        "Product Viewed", "Added to Cart", "Identified with an email", "Checkout Started",
        "Order Completed"]


async def test_check_fails_and_reports_in_text_and_junit(
        capture: CaptureService, capsys: pytest.CaptureFixture[str]) -> None:
    await send(capture, lambda traffic: (browse(traffic), identify(traffic), checkout(traffic),
                                         order(traffic, total="49.00")))
    db = str(capture.store.path)
    code, out, _ = await check(capsys, "--flow", "guest-checkout", "--flow", "refund",
                               "--db", db)
    assert code == 1
    assert "FAILED  guest-checkout" in out
    assert "✗ Order Completed (failed)" in out
    assert "properties.total: Invalid type. Expected: number, given: string" in out
    assert "FAILED  refund" in out
    assert "… Order Refunded (pending)" in out
    assert out.endswith("0 of 2 flows passed\n")

    code, out, _ = await check(capsys, "--flow", "guest-checkout", "--db", db,
                               "--format", "junit")
    assert code == 1
    suite = ElementTree.fromstring(out).find("testsuite")
    assert suite is not None
    assert (suite.get("name"), suite.get("tests"), suite.get("failures")) == (
        "guest-checkout", "5", "1")
    failure = suite.find("testcase[@name='Order Completed']/failure")
    assert failure is not None
    assert failure.get("message") == ("properties.total: Invalid type. Expected: number, "
                                      "given: string")
    # The QA report's flow suites, written by the same code: the step's calls as output.
    output = suite.find("testcase[@name='Order Completed']/system-out")
    assert output is not None
    assert output.text
    assert output.text == json.loads((await check(
        capsys, "--flow", "guest-checkout", "--db", db, "--format", "json"))[1])[
        "flows"][0]["steps"][4]["message_ids"][0]


async def test_check_usage_and_flow_file_errors_exit_2(
        capture: CaptureService, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = str(capture.store.path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsteps:\n  - name: a\n    mach: {type: track}\n")
    for argv, message in (
        (["--flow", "guest-chekout", "--db", db], "no bundled flow of that name"),
        (["--flow", str(bad), "--db", db], f"{bad}:4:5: steps.0.mach: Extra inputs"),
        (["--flow", "refund", "--db", db, "--since", "yesterday"], "--since 'yesterday'"),
        (["--flow", "refund", "--db", db, "--session", "nope"], "no session 'nope'"),
        (["--db", db], "give at least one --flow"),
    ):
        code, _, err = await check(capsys, *argv)
        assert code == 2, argv
        assert message in err


async def test_check_since_leaves_out_earlier_calls(
        capture: CaptureService, capsys: pytest.CaptureFixture[str]) -> None:
    await send(capture, guest_checkout)
    code, out, _ = await check(capsys, "--flow", "guest-checkout", "--db",
                               str(capture.store.path), "--since", "2999-01-01T00:00:00Z",
                               "--format", "json")
    assert code == 1
    assert json.loads(out)["flows"][0]["status"] == "incomplete"


async def test_check_over_url_waits_for_the_journey_to_finish(
        capture: CaptureService, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    await send(capture, lambda traffic: (browse(traffic), identify(traffic)))
    # The rest of the journey is sent only once the command has read the session and seen
    # it incomplete: without --wait it would stop there and fail.
    reads: list[str] = []
    first_read = threading.Event()
    real_post = httpx.post

    def counting_post(url: str, **kwargs: Any) -> httpx.Response:
        response = real_post(url, **kwargs)
        if url.endswith("/inspector/api/flows/check"):  # the command's reads, not the sends
            reads.append(response.json()["flows"][0]["status"])
            first_read.set()
        return response

    monkeypatch.setattr(httpx, "post", counting_post)
    loop = asyncio.get_running_loop()
    waiting = loop.run_in_executor(None, main, [
        "check", "--flow", "guest-checkout", "--url", capture.base_url, "--wait", "60",
        "--format", "json"])
    assert await loop.run_in_executor(None, first_read.wait, 30)
    await send(capture, lambda traffic: (checkout(traffic), order(traffic)))
    code = await asyncio.wait_for(waiting, 60)
    out, _ = capsys.readouterr()
    assert code == 0
    assert json.loads(out)["flows"][0]["status"] == "passed"
    assert reads[0] == "incomplete"
    assert reads[-1] == "passed"


async def api(capture: CaptureService, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=capture.base_url + "/inspector/api") as client:
        return await client.request(method, path, **kwargs)


async def test_rest_lists_flows_and_runs_one_live(capture: CaptureService) -> None:
    listed = (await api(capture, "GET", "/flows")).json()["flows"]
    assert [flow["name"] for flow in listed] == ["guest-checkout", "multi-device", "refund",
                                                "returning-customer", "subscription-cancel"]
    assert listed[0]["steps"][0] == "Product Viewed"

    started = await api(capture, "POST", "/flows/runs",
                        json={"flows": [{"name": "guest-checkout"}]})
    assert started.status_code == 201
    run = started.json()["run"]
    assert run["running"] is True
    assert run["status"] == "incomplete"

    await send(capture, guest_checkout)
    state = (await api(capture, "GET", f"/flows/runs/{run['id']}")).json()["run"]
    assert state["status"] == "passed"
    assert [step["status"] for step in state["results"][0]["steps"]] == ["passed"] * 5

    stopped = (await api(capture, "POST", f"/flows/runs/{run['id']}/stop")).json()["run"]
    assert stopped["running"] is False
    again = await api(capture, "POST", f"/flows/runs/{run['id']}/stop")
    assert again.status_code == 409
    runs = (await api(capture, "GET", "/flows/runs")).json()["runs"]
    assert [item["id"] for item in runs] == [run["id"]]


async def test_rest_checks_a_flow_file_content(capture: CaptureService) -> None:
    await send(capture, guest_checkout)
    text = "name: mine\nsteps:\n  - name: Order\n    match: {type: track, event: Order Completed}\n"
    answer = await api(capture, "POST", "/flows/check",
                       json={"flows": [{"content": text, "source": "mine.yaml"}]})
    assert answer.status_code == 200
    assert answer.json()["status"] == "passed"


@pytest.mark.parametrize(("method", "path", "body", "status", "message"), [
    ("POST", "/flows/check", {"flow": []}, 400, "unknown key flow; valid: flows, session"),
    ("POST", "/flows/check", {"flows": [{"name": "nope"}]}, 400, "no bundled flow 'nope'"),
    ("POST", "/flows/check", {"flows": [{"content": "name: x\nstep: []\n", "source": "f.yaml"}]},
     400, "f.yaml:2:1: step: Extra inputs are not permitted"),
    ("POST", "/flows/check", {"flows": [{"name": "refund"}], "since": "today"}, 400,
     "since must be a number"),
    ("POST", "/flows/runs", {"flows": [{"name": "refund"}], "session": "nope"}, 404,
     "No session 'nope'"),
    ("GET", "/flows/runs/12345", None, 404, "No flow run 12345"),
    ("POST", "/flows/runs/x1/stop", None, 400, "run id 'x1' is not a number"),
])
async def test_rest_refuses_mistakes_by_name(capture: CaptureService, method: str, path: str,
                                             body: Any, status: int, message: str) -> None:
    answer = await api(capture, method, path, json=body) if body is not None else \
        await api(capture, method, path)
    assert answer.status_code == status
    assert message in answer.json()["message"]


async def test_rest_takes_json_bodies_only(capture: CaptureService) -> None:
    answer = await api(capture, "POST", "/flows/runs",
                       content=b'{"flows": [{"name": "refund"}]}',
                       headers={"Content-Type": "text/plain"})
    assert answer.status_code == 415


async def test_rest_flows_read_people_from_the_audit_serve_keeps(
        capture: CaptureService) -> None:
    """Once serve keeps the session's audit (the window polls it), checks and runs read people
    from its graph: the same answers as before it was kept."""
    await send(capture, guest_checkout)
    body = {"flows": [{"name": "guest-checkout"}, {"name": "multi-device"}]}
    session = capture.session.id
    assert capture.kept_audit(session) is None
    before = (await api(capture, "POST", "/flows/check", json=body)).json()
    assert capture.kept_audit(session) is None  # a check does not start an audit
    assert (await api(capture, "GET", "/audit/overview")).status_code == 200
    audit = capture.kept_audit(session)
    assert audit is not None
    after = (await api(capture, "POST", "/flows/check", json=body)).json()
    assert after == before
    assert after["flows"][0]["status"] == "passed"

    started = (await api(capture, "POST", "/flows/runs", json=body)).json()["run"]
    await send(capture, guest_checkout)
    state = (await api(capture, "GET", f"/flows/runs/{started['id']}")).json()["run"]
    assert state["results"][0]["status"] == "passed"
    assert state["evaluated_through"] == audit.last_id == \
        capture.store.session_last_event_id(session)


async def test_rest_checks_leave_an_audit_far_behind_alone(
        capture: CaptureService, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bringing an audit asked for long ago up to date costs more than linking the people
    once: a check then links them itself, and the audit stays where it was."""
    assert (await api(capture, "GET", "/audit/overview")).status_code == 200
    audit = capture.kept_audit(capture.session.id)
    assert audit is not None
    await send(capture, guest_checkout)
    monkeypatch.setattr(flows_api, "SHARE_BEHIND", 3)
    body = {"flows": [{"name": "guest-checkout"}]}
    answer = (await api(capture, "POST", "/flows/check", json=body)).json()
    assert answer["flows"][0]["status"] == "passed"
    assert audit.last_id == 0  # not fed by the check
    monkeypatch.setattr(flows_api, "SHARE_BEHIND", 10_000)
    assert (await api(capture, "POST", "/flows/check", json=body)).json() == answer
    assert audit.last_id == capture.store.session_last_event_id(capture.session.id)


async def test_rest_a_repeated_check_reads_only_what_arrived_since(
        capture: CaptureService, monkeypatch: pytest.MonkeyPatch) -> None:
    """``inspector check --url --wait`` asks four times a second: the same check is followed,
    not evaluated over the whole session each time, and answers as a fresh one would."""
    built: list[FollowedFlows] = []

    class Counted(FollowedFlows):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            built.append(self)

    monkeypatch.setattr(flows_api, "FollowedFlows", Counted)
    body = {"flows": [{"name": "guest-checkout"}]}
    await send(capture, lambda traffic: (browse(traffic), identify(traffic)))
    first = (await api(capture, "POST", "/flows/check", json=body)).json()
    assert first["status"] == "incomplete"
    await send(capture, lambda traffic: (checkout(traffic), order(traffic)))
    again = (await api(capture, "POST", "/flows/check", json=body)).json()
    assert again["status"] == "passed"
    assert len(built) == 1  # followed, not built again
    assert built[0].last_id == capture.store.session_last_event_id(capture.session.id)
    fresh = evaluate_session(capture.store, capture.session.id,
                             [load_flow("guest-checkout").flow])
    assert again["flows"] == [result.to_dict() for result in fresh]

    other = (await api(capture, "POST", "/flows/check",
                       json={"flows": [{"name": "refund"}]})).json()
    assert other["flows"][0]["flow"] == "refund"
    assert len(built) == 2  # other flows: another check
    monkeypatch.setattr(flows_api, "CHECK_IDLE", -1.0)  # every kept check idle too long
    assert (await api(capture, "POST", "/flows/check", json=body)).json() == again
    assert len(built) == 3
