"""The Flows panel while the window's capture child runs: the child evaluates the run (the
window holds none of its calls), which passes and fails live as real HTTP calls arrive, stops
and is re-evaluated over REST; the child's errors show in the panel; a run is followed across
the window re-showing its session and the capture stopping or starting. Over a real child."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import httpx

from inspector.core.demo import DEMO_CALLS, send_demo_traffic
from inspector.core.flows import StepStatus, parse_flow
from inspector.core.flows.runs import LiveRun
from inspector.gui.main_window import MainWindow
from tests.gui.conftest import flow_step, make_capture_window

#: A flow of one step the demo's checkout passes (its Order Completed).
ORDER = "name: mine\nsteps:\n  - name: Order\n    match: {type: track, event: Order Completed}\n"


def child(window: MainWindow, method: str, path: str) -> dict[str, Any]:
    """Ask the window's capture child's flow API directly (as a CI script would)."""
    assert window.capture is not None
    endpoint = window.capture.api_endpoint()
    assert endpoint is not None
    base, headers = endpoint
    answer = httpx.request(method, base + path, headers=headers, timeout=10)
    data: dict[str, Any] = answer.json()
    return data


def live_runs_here(window: MainWindow) -> list[LiveRun]:
    """Every run this (the window's) process follows over the window's database."""
    gc.collect()
    return [item for item in gc.get_objects()
            if isinstance(item, LiveRun) and item.store.path == window.store.path]


def step_status(window: MainWindow, flow: str, name: str) -> StepStatus | None:
    model = window.flows_view.panel.model
    try:
        step = model.step(flow_step(model, flow, name))
    except AssertionError:
        return None
    return step.status if step is not None else None


def start(window: MainWindow, qtbot: Any, *specs: str) -> None:
    window.show()
    qtbot.waitExposed(window)
    window.flows_dock.raise_()
    panel = window.flows_view.panel
    for spec in specs:
        if "/" in spec:
            panel.add_flow_file(spec)
    panel.set_chosen(list(specs))
    with qtbot.waitSignal(window.flows_view.sig_updated, timeout=10000):
        panel.start.click()


def send_demo(window: MainWindow, qtbot: Any) -> None:
    assert window.capture is not None
    assert window.capture.base_url
    assert send_demo_traffic(window.capture.base_url) == DEMO_CALLS
    qtbot.waitUntil(lambda: window.model.rowCount() == DEMO_CALLS, timeout=10000)


def test_the_child_evaluates_the_run_stops_and_reevaluates_it(
        capture_window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    window, view = capture_window, capture_window.flows_view
    mine = tmp_path / "mine.yaml"
    mine.write_text(ORDER)
    start(window, qtbot, str(mine), "guest-checkout")
    assert view.remote
    shown = view.shown
    assert shown is not None
    assert shown.running
    assert [loaded.origin for loaded in shown.flows] == ["bundled:guest-checkout", str(mine)]
    # The child follows it; this process holds no run's evaluator.
    [listed] = child(window, "GET", f"/flows/runs?session={shown.session_id}")["runs"]
    assert (listed["id"], listed["running"]) == (shown.id, True)
    assert live_runs_here(window) == []
    assert step_status(window, "mine", "Order") is StepStatus.PENDING

    send_demo(window, qtbot)
    qtbot.waitUntil(lambda: step_status(window, "guest-checkout", "Order Completed")
                    is StepStatus.FAILED, timeout=10000)
    assert step_status(window, "mine", "Order") is StepStatus.PASSED
    assert "from a server library" in (view.shown.results[0].steps[-1].reason or "")
    assert child(window, "GET", f"/flows/runs/{shown.id}")["run"]["status"] == "failed"
    assert live_runs_here(window) == []

    with qtbot.waitSignal(view.sig_updated, timeout=10000):
        view.panel.stop.click()
    assert not view.shown.running
    assert not view.panel.stop.isEnabled()
    assert child(window, "GET", f"/flows/runs/{shown.id}")["run"]["running"] is False

    # The file edited: re-evaluated by the child with its new text (sent, not its path).
    mine.write_text(ORDER.replace("Order Completed", "Order Refunded"))
    with qtbot.waitSignal(view.sig_updated, timeout=10000):
        view.panel.reevaluate.click()
    assert step_status(window, "mine", "Order") is StepStatus.PENDING
    remote = child(window, "GET", f"/flows/runs/{shown.id}")["run"]
    assert remote["flows"][1]["sha256"] == parse_flow(mine.read_text()).sha256
    assert view.shown.to_dict() == remote
    assert live_runs_here(window) == []


def test_the_childs_refusals_show_in_the_panel(
        capture_window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    window, view = capture_window, capture_window.flows_view
    summary = view.panel.summary
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nstep: []\n")
    window.show()
    window.flows_dock.raise_()
    assert view.session_id is not None
    session = view.session_id

    view.start([str(broken)])  # the child parses it: a 400 naming line and column
    qtbot.waitUntil(lambda: "broken.yaml:2:1: step: Extra inputs are not permitted"
                    in summary.text(), timeout=10000)
    assert summary.text().startswith("The flow cannot be used: ")
    view.start([str(tmp_path)])  # a directory: read here, nothing sent
    qtbot.waitUntil(lambda: "not a regular file" in summary.text(), timeout=10000)
    assert child(window, "GET", f"/flows/runs?session={session}")["runs"] == []

    start(window, qtbot, "refund")
    assert view.shown is not None
    run_id = view.shown.id
    child(window, "POST", f"/flows/runs/{run_id}/stop")  # a CI script ended it meanwhile
    view.panel.stop.click()
    qtbot.waitUntil(lambda: summary.text() == "Stopping the flow run failed: "
                    f"Flow run {run_id} has already ended", timeout=10000)


def test_a_run_is_followed_across_sessions_and_the_capture_stopping(
        capture_window: MainWindow, qtbot: Any) -> None:
    window, view = capture_window, capture_window.flows_view
    start(window, qtbot, "guest-checkout")
    assert view.shown is not None
    run_id, session = view.shown.id, view.shown.session_id
    empty = window.store.create_session("empty")
    window.open_session(empty.id)
    qtbot.waitUntil(lambda: view.session_id == empty.id and view.shown is None, timeout=5000)
    window.open_session(session)  # back: the child's run, followed again
    qtbot.waitUntil(lambda: view.shown is not None and view.shown.id == run_id, timeout=10000)
    send_demo(window, qtbot)
    qtbot.waitUntil(lambda: step_status(window, "guest-checkout", "Order Completed")
                    is StepStatus.FAILED, timeout=10000)
    assert view.remote
    assert live_runs_here(window) == []

    window.stop_capture()  # the same stored run, followed in this process from now on
    assert not view.remote
    window.open_session(empty.id)
    window.open_session(session)
    qtbot.waitUntil(lambda: view.shown is not None and view.shown.id == run_id, timeout=10000)
    qtbot.waitUntil(lambda: [live.id for live in live_runs_here(window)] == [run_id], timeout=10000)
    assert view.shown.running
    assert step_status(window, "guest-checkout", "Order Completed") is StepStatus.FAILED


def test_a_run_started_before_the_capture_is_followed_by_the_child(
        qtbot: Any, tmp_path: Path) -> None:
    window = make_capture_window(qtbot, tmp_path)
    view = window.flows_view
    session = window.store.create_session("QA")
    window.open_session(session.id)
    start(window, qtbot, "guest-checkout")
    assert not view.remote
    assert view.shown is not None
    run_id = view.shown.id
    assert [live.id for live in live_runs_here(window)] == [run_id]
    try:
        assert window.start_capture(), window.banner.text()
        assert window.session_id == session.id
        send_demo(window, qtbot)
        view.refresh_now()
        qtbot.waitUntil(lambda: step_status(window, "guest-checkout", "Order Completed")
                        is StepStatus.FAILED, timeout=10000)
        assert view.remote
        assert live_runs_here(window) == []  # the child follows it now
        assert child(window, "GET", f"/flows/runs/{run_id}")["run"]["status"] == "failed"
    finally:
        window.close()
