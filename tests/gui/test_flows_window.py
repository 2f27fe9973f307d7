"""The Flows panel: a run started in the window, followed live over real HTTP (the demo's
checkout), a step's call selected in the table, runs kept and reopened; the model under
qtmodeltester."""

from __future__ import annotations

from typing import Any

from inspector.core.demo import DEMO_CALLS, send_demo_traffic
from inspector.core.flows import FlowResult, RunStatus, StepResult, StepStatus
from inspector.core.model import Severity, Source, Violation
from inspector.core.store import EventStore
from inspector.gui.flows_view import FlowsView
from inspector.gui.main_window import MainWindow
from inspector.gui.models.flows import FlowStepsModel
from inspector.gui.tasks import TaskRunner
from tests.gui.conftest import flow_step


def _results(order_status: StepStatus) -> list[FlowResult]:
    broken = Violation(kind="Not In Enum", field="context.library.name",
                       message='context.library.name is "analytics.js": this step must come '
                       "from a server library", severity=Severity.ERROR, source=Source.RULE)
    return [FlowResult("guest-checkout", RunStatus.FAILED, (
        StepResult("Product Viewed", StepStatus.PASSED, ((3, "m-3"),)),
        StepResult("Order Completed", order_status, ((9, "m-9"),), broken.message, (broken,)),
    ), "A guest checkout."), FlowResult("refund", RunStatus.INCOMPLETE, (
        StepResult("Order Completed", StepStatus.PENDING),
        StepResult("Order Refunded", StepStatus.SKIPPED, optional=True),
    ))]


def test_flow_steps_model_passes_the_model_tester(qtmodeltester: Any) -> None:
    model = FlowStepsModel()
    model.set_results(_results(StepStatus.FAILED))
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 2
    flow = model.index(0, 0)
    assert flow.data() == "✕ guest-checkout"
    step = model.index(1, 0, flow)
    assert step.data() == "✕ Order Completed"
    assert model.index(1, 2, flow).data().startswith("context.library.name is")
    assert model.event_ids(step) == [9]
    assert model.index(1, 0, model.index(1, 0)).data() == "– Order Refunded (optional)"
    # The same flows again: cells change in place (no reset), still consistent.
    model.set_results(_results(StepStatus.PASSED))
    qtmodeltester.check(model, force_py=True)
    assert model.index(1, 0, flow).data() == "✓ Order Completed"


def _step(window: MainWindow, flow: str, name: str) -> Any:
    return flow_step(window.flows_view.panel.model, flow, name)


def test_a_run_follows_the_demo_checkout_live_and_selects_a_steps_call(
    capture_window: MainWindow, qtbot: Any,
) -> None:
    window = capture_window
    window.show()
    qtbot.waitExposed(window)
    window.flows_dock.raise_()
    view, panel = window.flows_view, window.flows_view.panel
    assert not panel.visibleRegion().isEmpty()
    panel.set_chosen(["guest-checkout", "subscription-cancel"])
    with qtbot.waitSignal(view.sig_updated, timeout=5000):
        panel.start.click()
    assert view.shown is not None
    assert panel.stop.isEnabled()
    assert {str(step.status) for result in view.shown.results
            for step in result.steps} == {"pending"}

    assert window.capture is not None
    assert send_demo_traffic(window.capture.base_url) == DEMO_CALLS
    qtbot.waitUntil(lambda: window.model.rowCount() == DEMO_CALLS, timeout=5000)

    def order_failed() -> bool:
        model = panel.model
        step = model.step(_step(window, "guest-checkout", "Order Completed"))
        return step is not None and step.status is StepStatus.FAILED
    qtbot.waitUntil(order_failed, timeout=10000)
    statuses = [str(step.status) for step in panel.model.results[0].steps]
    assert statuses == ["passed", "passed", "passed", "passed", "failed"]
    # The failed step's reason, in the detail pane.
    order = _step(window, "guest-checkout", "Order Completed")
    panel.view.setCurrentIndex(order)
    assert "this step must come from a server library" in panel.detail.toPlainText()
    # Clicking a passed step selects its call in the events table.
    checkout = _step(window, "guest-checkout", "Checkout Started")
    step = panel.model.step(checkout)
    assert step is not None
    panel.view.clicked.emit(checkout)
    [selected] = window.selected_event_ids()
    assert selected == step.events[-1][0]
    assert window.model.rowCount() == DEMO_CALLS  # selected in place, nothing filtered

    with qtbot.waitSignal(view.sig_updated, timeout=5000):
        panel.stop.click()
    assert not panel.stop.isEnabled()
    assert view.shown.until_event_id is not None
    assert panel.runs.count() == 1
    assert "(failed)" in panel.runs.itemText(0)


def test_kept_runs_reopen_with_the_session(store: EventStore, qtbot: Any) -> None:
    from inspector.core.flows import load_flow
    from inspector.core.flows.runs import start_run

    session = store.create_session("QA")
    first = start_run(store, session.id, [load_flow("refund")])
    first.stop()
    start_run(store, session.id, [load_flow("guest-checkout")])
    tasks = TaskRunner()
    try:
        view = FlowsView(store, tasks)
        qtbot.addWidget(view.panel)
        view.show_session(session.id)
        qtbot.waitUntil(lambda: view.panel.runs.count() == 2, timeout=5000)
        assert view.shown is not None
        assert view.shown.running  # the latest, still running: followed again
        assert view.panel.stop.isEnabled()
        view.show_run(first.id)
        assert not view.panel.stop.isEnabled()
        assert view.panel.model.results[0].flow == "refund"
    finally:
        tasks.shutdown()


def test_a_refresh_answering_after_a_stop_and_a_re_evaluation_is_dropped(
        store: EventStore, qtbot: Any) -> None:
    """A refresh asked for before the tester stopped and re-evaluated the run can answer
    last (the capture child answered a follow-up GET with the stopped run's old results):
    it must not put back what the re-evaluation replaced."""
    import dataclasses
    import threading

    from inspector.core.flows.runs import FlowRun

    session = store.create_session("QA")
    tasks = TaskRunner()
    try:
        view = FlowsView(store, tasks)
        qtbot.addWidget(view.panel)
        view.show_session(session.id)
        with qtbot.waitSignal(view.sig_updated, timeout=5000):
            view.start(["guest-checkout"])
        release, answer = threading.Event(), {}

        def late(run: FlowRun) -> FlowRun:
            assert release.wait(10)
            return answer["stale"]

        view._local.refresh = late  # type: ignore[method-assign]
        view.refresh_now()  # on a worker, answering only when released
        with qtbot.waitSignal(view.sig_updated, timeout=5000):
            view.stop()
        stopped = view.shown
        assert stopped is not None
        assert not stopped.running
        # The late answer: the stopped run as it was before the re-evaluation.
        answer["stale"] = dataclasses.replace(stopped, results=[])
        with qtbot.waitSignal(view.sig_updated, timeout=5000):
            view.reevaluate(stopped.id)
        again = view.shown
        assert again is not None
        assert again.results
        release.set()
        qtbot.waitUntil(lambda: len(view.refresh_times) == 1, timeout=5000)
        assert view.shown is again
        assert view.panel.model.results == again.results
    finally:
        release.set()
        tasks.shutdown()
