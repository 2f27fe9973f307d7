"""Notes on a flow step or a flow run, written in the Flows panel (its notes block and the steps
tree's context menu), stored with the session and carried into the QA report."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QModelIndex

from inspector.core.flows import load_flow
from inspector.core.flows.runs import FlowRun, flow_run_reports, load_runs, start_run
from inspector.core.notes import NoteMark, NoteStore, NoteTarget
from inspector.core.report import build_report
from inspector.core.report.render import render_markdown
from inspector.core.store import EventStore
from inspector.gui.main_window import MainWindow
from inspector.gui.state import UiState
from inspector.gui.widgets.flows_panel import FlowsPanel
from tests.gui.conftest import flow_step
from tests.gui.conftest import write_note as _write


def _step(panel: FlowsPanel, flow: str, name: str) -> QModelIndex:
    index: QModelIndex = flow_step(panel.model, flow, name)
    return index


def _window(qtbot: Any, store: EventStore, flows: list[str]) -> tuple[MainWindow, FlowRun]:
    session = store.create_session("flow notes")
    live = start_run(store, session.id, [load_flow(name) for name in flows])
    run = live.stop()
    window = MainWindow(store, state=UiState())
    qtbot.addWidget(window)
    window.open_session(session.id)
    panel = window.flows_view.panel
    qtbot.waitUntil(lambda: panel.runs.count() == 1 and panel.model.rowCount() == len(flows),
                    timeout=5000)
    return window, run


def _report_markdown(store: EventStore, run: FlowRun) -> tuple[Any, str]:
    session = next(item for item in store.list_sessions() if item.id == run.session_id)
    data = build_report(store, session, flow_runs=flow_run_reports(
        load_runs(store, run.session_id)))
    return data, render_markdown(data)


def test_a_note_on_a_step_shows_is_stored_and_reaches_the_report(
    qtbot: Any, qtmodeltester: Any, store: EventStore,
) -> None:
    window, run = _window(qtbot, store, ["guest-checkout"])
    panel = window.flows_view.panel
    panel.view.setCurrentIndex(_step(panel, "guest-checkout", "Checkout Started"))
    assert panel.notes.add_button.isEnabled()
    assert panel.notes.title.text() == "Step notes"

    panel.notes.add_button.click()
    _write(panel.notes.dialog, "cart_id was missing on <b>mobile</b>", "fail")

    # Shown under the step's reason, as plain text, with its mark.
    assert panel.notes.model.rowCount() == 1
    assert panel.notes.list.isVisible() or not panel.isVisible()
    assert panel.notes.title.text() == "Step notes (1)"
    assert panel.notes.model.index(0, 0).data() == "✕ FAIL  cart_id was missing on <b>mobile</b>"
    qtmodeltester.check(panel.notes.model, force_py=True)
    # Stored through the note store, under the id reports use for a step.
    target = f"{run.id}:Checkout Started"
    [note] = NoteStore(store).for_session(run.session_id, NoteTarget.STEP, target)
    assert note.mark is NoteMark.FAIL
    # Another step shows its own (no) notes; coming back shows the note again.
    panel.view.setCurrentIndex(_step(panel, "guest-checkout", "Product Viewed"))
    assert panel.notes.model.rowCount() == 0
    panel.view.setCurrentIndex(_step(panel, "guest-checkout", "Checkout Started"))
    assert panel.notes.model.rowCount() == 1

    # Edit… from the steps tree's context menu opens the same dialog on that note.
    menu = panel.context_menu(_step(panel, "guest-checkout", "Checkout Started"))
    assert menu is not None
    [add, edit] = menu.actions()
    assert add.text() == "Add note on this step…"
    assert edit.isEnabled()
    edit.trigger()
    assert panel.notes.dialog is not None
    assert panel.notes.dialog.text.toPlainText() == "cart_id was missing on <b>mobile</b>"
    _write(panel.notes.dialog, "cart_id missing on mobile Safari", "fail")

    data, markdown = _report_markdown(store, run)
    [reported] = data.notes_for("step", target)
    assert reported.text == "cart_id missing on mobile Safari"
    assert "missing on mobile Safari" in markdown  # (Markdown escapes the underscore)


def test_a_note_on_the_run_from_the_context_menu_reaches_the_report(
    qtbot: Any, store: EventStore,
) -> None:
    window, run = _window(qtbot, store, ["guest-checkout"])
    panel = window.flows_view.panel
    menu = panel.context_menu(QModelIndex())  # on no step: the run
    assert menu is not None
    add = menu.actions()[0]
    assert add.text() == "Add note on this run…"
    assert not menu.actions()[1].isEnabled()  # no note yet to edit
    add.trigger()
    _write(panel.notes.dialog, "whole checkout passed on staging", "pass")
    assert panel.notes.title.text() == "Run notes (1)"

    data, markdown = _report_markdown(store, run)
    [reported] = data.notes_for("run", str(run.id))
    assert reported.mark is NoteMark.PASS
    assert "whole checkout passed on staging" in markdown


@pytest.mark.parametrize("flow", ["guest-checkout", "refund"])
def test_in_a_run_of_two_flows_a_steps_note_names_its_flow(
    qtbot: Any, store: EventStore, flow: str,
) -> None:
    # Both flows have an "Order Completed" step: the note must land on the one chosen.
    window, run = _window(qtbot, store, ["guest-checkout", "refund"])
    panel = window.flows_view.panel
    panel.view.setCurrentIndex(_step(panel, flow, "Order Completed"))
    panel.notes.add_button.click()
    _write(panel.notes.dialog, f"looked at {flow}", None)

    data, _ = _report_markdown(store, run)
    [reported] = data.notes_for("step", f"{run.id}-{flow}:Order Completed")
    assert reported.text == f"looked at {flow}"
    other = "refund" if flow == "guest-checkout" else "guest-checkout"
    assert data.notes_for("step", f"{run.id}-{other}:Order Completed") == []
