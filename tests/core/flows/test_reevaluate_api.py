"""The flow REST routes the window's Flows panel uses while its capture child runs: re-evaluate
a run (its own flows, or others replacing them), start from an event, follow a running run
that nobody followed, and rebuild a run from its JSON. Over real HTTP."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from inspector.core.capture import CaptureService
from inspector.core.flows import load_flow, parse_flow
from inspector.core.flows.runs import FlowRun, load_run, start_run
from tests.core.flows.test_bundled_flows import browse, checkout, guest_checkout, identify
from tests.core.flows.test_check_and_api import send

#: A flow of one step the guest checkout passes.
ORDER = "name: mine\nsteps:\n  - name: Order\n    match: {type: track, event: Order Completed}\n"
#: The same flow expecting a call the checkout never makes.
REFUND = ORDER.replace("Order Completed", "Order Refunded")


async def api(capture: CaptureService, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=capture.base_url + "/inspector/api") as client:
        return await client.request(method, path, **kwargs)


async def start(capture: CaptureService, *flows: dict[str, str], **more: Any) -> dict[str, Any]:
    answer = await api(capture, "POST", "/flows/runs", json={"flows": list(flows), **more})
    assert answer.status_code == 201, answer.text
    run: dict[str, Any] = answer.json()["run"]
    return run


def steps(run: dict[str, Any]) -> list[str]:
    return [step["status"] for result in run["results"] for step in result["steps"]]


async def test_reevaluate_replaces_the_flows_of_an_ended_run(capture: CaptureService) -> None:
    run = await start(capture, {"content": ORDER, "source": "mine.yaml"})
    await send(capture, guest_checkout)
    ended = (await api(capture, "POST", f"/flows/runs/{run['id']}/stop")).json()["run"]
    assert ended["status"] == "passed"

    again = await api(capture, "POST", f"/flows/runs/{run['id']}/reevaluate",
                      json={"flows": [{"content": REFUND, "source": "mine.yaml"}]})
    assert again.status_code == 200, again.text
    data = again.json()["run"]
    assert data["status"] == "incomplete"  # the refund never came
    assert data["flows"][0]["sha256"] == parse_flow(REFUND).sha256
    assert (data["running"], data["until_event_id"]) == (False, ended["until_event_id"])
    # Kept: read back alone, and from the store with the new text.
    assert (await api(capture, "GET", f"/flows/runs/{run['id']}")).json()["run"] == data
    kept = load_run(capture.store, run["id"])
    assert kept is not None
    assert kept.flows[0].text == REFUND

    # No body: the run's own flows again (a file's as the run kept it).
    same = (await api(capture, "POST", f"/flows/runs/{run['id']}/reevaluate")).json()["run"]
    assert same["status"] == "incomplete"
    assert same["flows"] == data["flows"]


async def test_reevaluate_reloads_bundled_flows_by_name(capture: CaptureService) -> None:
    run = await start(capture, {"name": "guest-checkout"})
    await send(capture, guest_checkout)
    # As if the run had been started with an older text of the bundled flow.
    capture.store.update_flow_run(
        run["id"], results_json="[]", evaluated_through=0,
        flows_json=json.dumps([{"origin": "bundled:guest-checkout", "text": ORDER}]))
    answer = await api(capture, "POST", f"/flows/runs/{run['id']}/reevaluate", json={})
    assert answer.status_code == 200, answer.text
    data = answer.json()["run"]
    assert data["flows"][0]["sha256"] == load_flow("guest-checkout").sha256
    assert steps(data) == ["passed"] * 5


async def test_a_running_run_reevaluated_is_followed_with_its_new_flows(
        capture: CaptureService) -> None:
    run = await start(capture, {"name": "guest-checkout"})
    await send(capture, lambda traffic: (browse(traffic), identify(traffic)))
    answer = await api(capture, "POST", f"/flows/runs/{run['id']}/reevaluate",
                       json={"flows": [{"content": ORDER.replace("Order Completed",
                                                                 "Checkout Started"),
                                        "source": "mine.yaml"}]})
    assert steps(answer.json()["run"]) == ["pending"]
    await send(capture, checkout)  # arrives after: the run follows it with the new flow
    state = (await api(capture, "GET", f"/flows/runs/{run['id']}")).json()["run"]
    assert state["running"] is True
    assert [result["flow"] for result in state["results"]] == ["mine"]
    assert steps(state) == ["passed"]


async def test_a_running_run_nobody_follows_is_followed_when_read(
        capture: CaptureService) -> None:
    # Started in the window before its capture child ran: kept, but this serve never saw it.
    window_run = start_run(capture.store, capture.session.id, [load_flow("guest-checkout")])
    await send(capture, guest_checkout)
    state = (await api(capture, "GET", f"/flows/runs/{window_run.id}")).json()["run"]
    assert state["status"] == "passed"
    assert state["running"] is True


async def test_a_run_can_start_from_an_earlier_event(capture: CaptureService) -> None:
    await send(capture, guest_checkout)
    run = await start(capture, {"name": "guest-checkout"}, after_event_id=0)
    assert (run["after_event_id"], run["status"]) == (0, "passed")
    answer = await api(capture, "POST", "/flows/runs",
                       json={"flows": [{"name": "refund"}], "after_event_id": "0"})
    assert answer.status_code == 400
    assert "after_event_id must be an event id" in answer.json()["message"]


@pytest.mark.parametrize(("body", "status", "code", "message"), [
    ({"flow": []}, 400, "invalid_request", "unknown key flow; valid: flows"),
    ({"flows": []}, 400, "invalid_request", '"flows" must be a non-empty list'),
    ({"flows": [{"content": "name: x\nstep: []\n", "source": "f.yaml"}]}, 400, "invalid_flow",
     "f.yaml:2:1: step: Extra inputs are not permitted"),
    ({"flows": [{"name": "nope"}]}, 400, "invalid_request", "no bundled flow 'nope'"),
])
async def test_reevaluate_refuses_mistakes_by_name(capture: CaptureService, body: Any,
                                                   status: int, code: str,
                                                   message: str) -> None:
    run = await start(capture, {"name": "refund"})
    answer = await api(capture, "POST", f"/flows/runs/{run['id']}/reevaluate", json=body)
    assert answer.status_code == status
    assert answer.json()["code"] == code
    assert message in answer.json()["message"]
    # The run is untouched and still followed.
    state = (await api(capture, "GET", f"/flows/runs/{run['id']}")).json()["run"]
    assert [flow["name"] for flow in state["flows"]] == ["refund"]


async def test_reevaluate_an_unknown_run_is_404(capture: CaptureService) -> None:
    answer = await api(capture, "POST", "/flows/runs/12345/reevaluate")
    assert answer.status_code == 404
    assert answer.json()["message"] == "No flow run 12345"
    answer = await api(capture, "POST", "/flows/runs/x1/reevaluate")
    assert answer.status_code == 400


async def test_from_dict_rebuilds_what_to_dict_gave(capture: CaptureService) -> None:
    run = await start(capture, {"name": "guest-checkout"})
    await send(capture, guest_checkout)
    data = (await api(capture, "GET", f"/flows/runs/{run['id']}")).json()["run"]
    kept = load_run(capture.store, run["id"])
    assert kept is not None
    rebuilt = FlowRun.from_dict(data, kept.flows, kept.audit_config)
    assert rebuilt.to_dict() == data
    assert rebuilt.results[0].steps[-1].events  # the call that satisfied it, to click
    with pytest.raises(ValueError, match="not the flows or audit configuration it ran"):
        FlowRun.from_dict(data, [load_flow("refund")], kept.audit_config)
