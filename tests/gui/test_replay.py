"""Replay from the window: destinations (keyring), preview, production lock, run, resume."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLineEdit

from inspector.core.fixes import CorrectionStore
from inspector.core.replay import (
    Credentials,
    Destination,
    DestinationStore,
    ItemResult,
    ItemStatus,
    Marking,
    Mode,
    ReplayRunStore,
    ResultRow,
    RunState,
)
from inspector.core.store import EventQuery, EventStore, GroupCommitWriter
from inspector.core.store.connection import Database
from inspector.gui.models.replay import NotSentModel, RequestPreviewModel, ResultsModel
from inspector.gui.widgets.destinations_dialog import DestinationsDialog
from inspector.gui.widgets.replay_dialog import ReplayDialog
from tests.gui.conftest import make_event, make_request
from tests.support.customerio_standin import CustomerIOStandIn
from tests.support.keyring import MemoryKeyring


@pytest.fixture
def standin() -> Iterator[CustomerIOStandIn]:
    """The Customer.io stand-in on a free port, served from its own thread and loop."""
    server = CustomerIOStandIn()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="standin", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
    yield server
    asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@pytest.fixture
def db(store: EventStore) -> Database:
    return Database(store.path)


def _session(store: EventStore, writer: GroupCommitWriter, count: int = 6) -> tuple[int, list[int]]:
    session = store.create_session("replay")
    events = [make_event("Product Viewed", user_id=f"u{n % 3}", properties={"price": str(n)})
              for n in range(count)]
    events.append(make_event("Anonymous View", user_id=None))  # Classic drops it
    _, committed = writer.write(make_request(session.id, events))
    return session.id, [event.id for event in committed]


def _destination(db: Database, standin: CustomerIOStandIn, *,
                 marking: Marking = Marking.STAGING) -> Destination:
    from pydantic import SecretStr

    destination = Destination(name="stand-in", mode=Mode.CLASSIC, marking=marking,
                              track_host=standin.base_url)
    DestinationStore(db).save(destination, Credentials(site_id=standin.site_id,
                                                       api_key=SecretStr(standin.api_key)))
    return destination


def _dialog(qtbot: Any, store: EventStore, db: Database, session_id: int,
            **kwargs: Any) -> ReplayDialog:
    dialog = ReplayDialog(CorrectionStore(store), db, query=EventQuery(session_id=session_id),
                          session_id=session_id, **kwargs)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_destination_dialog_stores_the_key_in_the_keyring_and_never_shows_it(
    qtbot: Any, db: Database, memory_keyring: MemoryKeyring, standin: CustomerIOStandIn
) -> None:
    dialog = DestinationsDialog(db)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.api_key.echoMode() is QLineEdit.EchoMode.Password
    dialog.name.setText("staging")
    dialog.site_id.setText(standin.site_id)
    assert not dialog.save()  # no key yet
    assert "API key" in dialog.message.text()
    dialog.api_key.setText(standin.api_key)
    dialog.host.setText(standin.base_url)
    assert dialog.save(), dialog.message.text()
    assert dialog.names() == ["staging"]

    secret = memory_keyring.store[("inspector.replay", "staging")]
    assert standin.api_key in secret
    raw = Path(db.path).read_bytes()
    assert standin.api_key.encode() not in raw  # never in the database
    # Never shown back: every text field and label of the dialog, after editing it again.
    dialog.new_destination()
    dialog.edit("staging")
    shown = [w.text() for w in dialog.findChildren(QLineEdit)]
    shown += [w.placeholderText() for w in dialog.findChildren(QLineEdit)]
    shown += [dialog.message.text(), dialog.key_state.text()]
    assert not any(standin.api_key in text or standin.site_id in text for text in shown)
    assert "keyring" in dialog.key_state.text()

    # Editing without retyping keeps the stored credentials; test connection uses them.
    dialog.marking.setCurrentText("production")
    assert dialog.save()
    assert DestinationStore(db).get("staging").marking is Marking.PRODUCTION  # type: ignore[union-attr]
    assert memory_keyring.store[("inspector.replay", "staging")] == secret
    with qtbot.waitSignal(dialog.sig_check_finished, timeout=10_000) as blocker:
        assert dialog.test_connection()
    assert blocker.args[0].ok
    assert dialog.message.text().startswith("✓ connected")
    assert standin.api_key not in dialog.message.text()

    dialog.region.setCurrentText("EU")  # the stand-in answers "us": a region warning
    with qtbot.waitSignal(dialog.sig_check_finished, timeout=10_000) as blocker:
        dialog.test_connection()
    assert blocker.args[0].region_mismatch
    assert "⚠" in dialog.message.text()
    assert "region" in dialog.message.text()

    dialog.delete_destination(confirm=False)
    assert dialog.names() == []
    assert ("inspector.replay", "staging") not in memory_keyring.store


def test_replay_through_the_dialog_sends_corrected_payloads_with_progress_and_summary(
    qtbot: Any, store: EventStore, writer: GroupCommitWriter, db: Database,
    standin: CustomerIOStandIn,
) -> None:
    session_id, ids = _session(store, writer)
    _destination(db, standin)
    corrections = CorrectionStore(store)
    first = store.get_event(ids[0])
    assert first is not None
    assert first.payload is not None
    corrections.save(ids[0], {**first.payload, "properties": {"price": 99.5}})

    dialog = _dialog(qtbot, store, db, session_id)
    assert dialog.unlock_row.isHidden()  # staging: nothing to unlock
    assert dialog.run_preview() == 6
    assert dialog.not_sent_model.rowCount() == 1
    assert dialog.not_sent_model.cells(0)[0] == str(ids[-1])
    assert "dropped" in dialog.preview_summary.text()
    text = dialog.request_text.toPlainText()
    assert text.startswith(f"POST {standin.base_url}/api/v1/customers/u0/events")
    assert "Authorization: Basic <redacted>" in text
    assert standin.api_key not in text
    assert '"price": 99.5' in text  # the correction, not the original "0"

    with qtbot.waitSignal(dialog.sig_run_finished, timeout=20_000) as blocker:
        assert dialog.start_run()
    summary = blocker.args[0]
    assert summary.state is RunState.COMPLETED
    assert summary.counts[ItemStatus.SENT] == 6
    assert summary.counts[ItemStatus.DROPPED] == 1
    assert dialog.progress_bar.value() == dialog.progress_bar.maximum() == 7
    assert dialog.summary_label.text().startswith(f"Run {summary.run_id} completed: 6 sent")
    assert [dialog.results_model.status(row) for row in range(7)].count(ItemStatus.SENT) == 6
    assert len(standin.events) == 6
    prices = sorted(str(event.get("data", {}).get("price")) for event in standin.events.values())
    assert prices == ["1", "2", "3", "4", "5", "99.5"]
    assert not dialog.running


def test_cancel_then_resume_sends_every_event_once(
    qtbot: Any, store: EventStore, writer: GroupCommitWriter, db: Database,
    standin: CustomerIOStandIn,
) -> None:
    session_id, _ = _session(store, writer, count=30)
    _destination(db, standin)
    dialog = _dialog(qtbot, store, db, session_id)
    dialog.rate.setValue(15)
    assert dialog.start_run()
    assert dialog.cancel_button.isEnabled()
    assert not dialog.run_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.progress is not None and dialog.progress.sent >= 3,
                    timeout=10_000)
    with qtbot.waitSignal(dialog.sig_run_finished, timeout=10_000) as blocker:
        dialog.cancel_button.click()
    cancelled = blocker.args[0]
    assert cancelled.state is RunState.CANCELLED
    assert 0 < cancelled.counts[ItemStatus.PENDING] < 30
    assert "Resume run" in dialog.summary_label.text()
    assert dialog.runs_combo.currentData() == cancelled.run_id
    assert dialog.resume_button.isEnabled()

    dialog.rate.setValue(1000)
    with qtbot.waitSignal(dialog.sig_run_finished, timeout=20_000) as blocker:
        dialog.resume_button.click()
    resumed = blocker.args[0]
    assert resumed.run_id == cancelled.run_id
    assert resumed.state is RunState.COMPLETED
    assert resumed.counts[ItemStatus.SENT] == 30
    assert resumed.counts[ItemStatus.PENDING] == 0
    assert len(standin.events) == 30
    assert standin.duplicates == 0
    assert dialog.progress_bar.value() == 31


def test_production_lock_refuses_without_the_typed_name(
    qtbot: Any, store: EventStore, writer: GroupCommitWriter, db: Database,
    standin: CustomerIOStandIn,
) -> None:
    session_id, _ = _session(store, writer)
    _destination(db, standin, marking=Marking.PRODUCTION)
    dialog = _dialog(qtbot, store, db, session_id)
    assert dialog.unlock_row.isVisible()
    assert not dialog.run_button.isEnabled()
    assert not dialog.start_run()
    assert "Refused" in dialog.summary_label.text()
    dialog.unlock.setText("stand-i")
    assert not dialog.run_button.isEnabled()
    assert not dialog.start_run()
    assert ReplayRunStore(dialog.db).list_runs() == []
    assert standin.requests == []

    dialog.unlock.setText("stand-in")
    assert dialog.run_button.isEnabled()
    with qtbot.waitSignal(dialog.sig_run_finished, timeout=20_000) as blocker:
        assert dialog.start_run()
    assert blocker.args[0].counts[ItemStatus.SENT] == 6


def test_retry_failed_only_sends_the_failures_again(
    qtbot: Any, store: EventStore, writer: GroupCommitWriter, db: Database,
    standin: CustomerIOStandIn,
) -> None:
    session_id, _ = _session(store, writer, count=3)
    _destination(db, standin)
    dialog = _dialog(qtbot, store, db, session_id)
    standin.inject(400)  # the first request is refused for good
    with qtbot.waitSignal(dialog.sig_run_finished, timeout=20_000) as blocker:
        dialog.start_run()
    first = blocker.args[0]
    assert first.counts[ItemStatus.FAILED] == 1
    assert dialog.retry_button.isEnabled()
    failed_rows = [row for row in range(dialog.results_model.rowCount())
                   if dialog.results_model.status(row) is ItemStatus.FAILED]
    assert dialog.results_model.cells(failed_rows[0])[3] == "400"
    with qtbot.waitSignal(dialog.sig_run_finished, timeout=20_000) as blocker:
        dialog.retry_button.click()
    again = blocker.args[0]
    assert again.counts[ItemStatus.FAILED] == 0
    assert again.counts[ItemStatus.SENT] == 3
    assert len(standin.events) == 3


def test_replay_models_pass_the_model_tester(qtmodeltester: Any) -> None:
    from inspector.core.replay import Dropped, HttpRequest, PlannedRequest

    requests = RequestPreviewModel()
    requests.set_requests([PlannedRequest(HttpRequest("POST", "http://x/a", {}), (0, 1),
                                          frozenset({"u"}))])
    qtmodeltester.check(requests)
    not_sent = NotSentModel()
    not_sent.set_entries([Dropped(1, "no userId")], [10, 11])
    qtmodeltester.check(not_sent)
    assert not_sent.cells(0) == ("11", "would be dropped", "no userId")
    results = ResultsModel()
    results.set_rows([ResultRow(0, 10, ItemStatus.PENDING, None, None, None, 0),
                      ResultRow(1, 11, ItemStatus.PENDING, None, None, None, 0)])
    qtmodeltester.check(results)
    assert results.apply_results([ItemResult(1, ItemStatus.SENT, 200, "{}", None, 1)]) == 1
    assert results.cells(1)[2:5] == ("✓ sent", "200", "1")
    qtmodeltester.check(results)


def test_production_events_to_a_staging_workspace_need_a_confirmation(
    qtbot: Any, store: EventStore, writer: GroupCommitWriter, db: Database,
    standin: CustomerIOStandIn,
) -> None:
    from inspector.core.audit.config import EnvironmentConfig
    from inspector.core.environments import EnvironmentMap

    session = store.create_session("production capture")
    events = [make_event("Product Viewed", user_id=f"u{n}", write_key="prod-key")
              for n in range(3)]
    writer.write(make_request(session.id, events))
    _destination(db, standin)  # "stand-in", marked staging
    environments = EnvironmentMap([
        EnvironmentConfig(name="staging", write_keys=["stg-key"], destination="stand-in"),
        EnvironmentConfig(name="production", production=True, write_keys=["prod-key"]),
    ])
    dialog = _dialog(qtbot, store, db, session.id, environments=environments)
    assert dialog.cross_row.isHidden()
    assert dialog.run_preview() == 3
    assert dialog.cross_row.isVisible()
    assert dialog.cross_label.text() == (
        "⚠ 3 events to replay were captured with production write keys, and 'stand-in' is "
        "the staging workspace: real customers' personal data would land in a test "
        "workspace, where testers and test campaigns reach it.")
    assert not dialog.run_button.isEnabled()
    assert not dialog.start_run()
    assert "Refused" in dialog.summary_label.text()
    assert ReplayRunStore(dialog.db).list_runs() == []
    assert standin.requests == []

    # Another scope or destination asks again; ticking the box lets this one through.
    dialog.scope_session.setChecked(True)
    assert dialog.cross_row.isHidden()
    assert not dialog.start_run()  # collected at run time: the warning is back
    assert dialog.cross_row.isVisible()
    qtbot.mouseClick(dialog.cross_confirm, Qt.MouseButton.LeftButton,
                     pos=dialog.cross_confirm.rect().bottomLeft() + QPoint(4, -4))
    assert dialog.cross_confirm.isChecked()
    assert dialog.run_button.isEnabled()
    with qtbot.waitSignal(dialog.sig_run_finished, timeout=20_000) as blocker:
        dialog.run_button.click()
    assert blocker.args[0].counts[ItemStatus.SENT] == 3


def test_no_environments_no_cross_environment_warning(
    qtbot: Any, store: EventStore, writer: GroupCommitWriter, db: Database,
    standin: CustomerIOStandIn,
) -> None:
    session_id, _ = _session(store, writer)
    _destination(db, standin)
    dialog = _dialog(qtbot, store, db, session_id)
    dialog.run_preview()
    assert dialog.cross_row.isHidden()
    assert dialog.run_button.isEnabled()
