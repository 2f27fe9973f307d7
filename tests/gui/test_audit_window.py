"""The Audit and People panels in the window, live over real HTTP (the demo's planted faults)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from inspector.core.demo import DEMO_CALLS, send_demo_traffic
from inspector.gui.main_window import MainWindow
from inspector.gui.models.event_table import Column


def _audited(window: MainWindow, qtbot: Any, dock: str = "audit") -> None:
    """Send the demo, open the Audit (or People) tab as a user would, and wait for the audit
    of every event to be on screen."""
    window.show()
    qtbot.waitExposed(window)
    getattr(window, f"{dock}_dock").raise_()
    assert window.capture is not None
    assert window.capture.base_url
    assert send_demo_traffic(window.capture.base_url) == DEMO_CALLS
    qtbot.waitUntil(lambda: window.model.rowCount() == DEMO_CALLS, timeout=5000)

    assert window.session_id is not None
    last = window.store.session_last_event_id(window.session_id)

    def complete() -> bool:
        results = window.audit_view.results
        # The People list is fetched only while its panel is on screen.
        return results is not None and results.through_event_id == last and (
            dock != "people" or sum(p["event_count"] for p in results.people) == DEMO_CALLS)

    window.audit_view.refresh_now()
    qtbot.waitUntil(complete, timeout=10000)
    panel = window.audit_view.audit_panel if dock == "audit" else window.audit_view.people_panel
    qtbot.waitUntil(lambda: window.audit_view._shown_in[dock] is window.audit_view.results,
                    timeout=5000)
    assert not panel.visibleRegion().isEmpty()


def _check_row(window: MainWindow, check_id: str) -> Any:
    model = window.audit_view.audit_panel.model
    for area_row in range(model.rowCount()):
        area = model.index(area_row, 0)
        for row in range(model.rowCount(area)):
            index = model.index(row, 0, area)
            if model.check_id(index) == check_id:
                return index
    raise AssertionError(check_id)


def test_live_findings_reach_the_panels_and_the_detail_pane(
    capture_window: MainWindow, qtbot: Any,
) -> None:
    window = capture_window
    _audited(window, qtbot)
    panel = window.audit_view.audit_panel
    # 3 identity errors, the demo's Order Completed and Subscription Canceled from the
    # browser; name and type drift; an Order Completed with no order_id.
    assert panel.summary.text().startswith("9 errors")
    assert panel.summary.text().endswith("· 2 people")
    check = _check_row(window, "identity.multiple_user_ids")
    assert panel.model.index(check.row(), 1, check.parent()).data() == "✕ 1 error"
    # The finding's events, alone in the table, with a way back.
    finding = panel.model.index(0, 0, check)
    with qtbot.waitSignal(window.model.sig_query_applied, timeout=5000):
        panel.view.clicked.emit(finding)
    assert window.model.rowCount() == 2
    assert {window.model.index(r, Column.TYPE).data() for r in range(2)} == {"identify"}
    assert window.subset_banner.text().startswith("Showing the 2 events of an audit finding")
    # Selecting one shows the finding beside its violations.
    window.table.selectRow(1)
    entries = {entry.finding.check: entry for entry in window.detail.problems.finding_entries}
    # The demo's write keys have no names in this window: each one is also an unknown key.
    assert set(entries) == {"identity.multiple_user_ids", "identity.user_id_shape",
                            "source.unknown_write_key"}
    assert entries["identity.multiple_user_ids"].message.text().startswith(
        "One shopper (ada@shop.test) carries 2 userIds")
    with qtbot.waitSignal(window.model.sig_query_applied, timeout=5000):
        window.subset_banner.action_button.click()
    assert window.model.rowCount() == DEMO_CALLS
    assert window.subset_banner.isHidden()


def test_a_person_filters_the_table_to_their_events(
    capture_window: MainWindow, qtbot: Any,
) -> None:
    window = capture_window
    _audited(window, qtbot, dock="people")
    people = window.audit_view.people_panel
    assert people.model.rowCount() == 2
    row = people.model.row_of("user:user_8412")
    assert row is not None
    with qtbot.waitSignal(window.model.sig_query_applied, timeout=5000):
        people.view.clicked.emit(people.model.index(row, 0))
    # The web session (13 calls) and the backend's identify, linked by the email.
    assert window.model.rowCount() == 14
    detail = people.detail.toPlainText()
    assert "8412 (numeric) from analytics-python" in detail
    assert "user_8412 (other) from analytics.js" in detail


def test_opening_another_session_audits_it(capture_window: MainWindow, qtbot: Any) -> None:
    window = capture_window
    _audited(window, qtbot)
    first = window.session_id
    assert first is not None
    empty = window.store.create_session("empty")
    with qtbot.waitSignal(window.audit_view.sig_updated, timeout=10000):
        window.open_session(empty.id)
    assert window.audit_view.results is not None
    assert window.audit_view.results.findings == []
    qtbot.waitUntil(lambda: window.audit_view.audit_panel.summary.text()
                    == "No findings · 0 people", timeout=5000)


def test_a_hidden_panel_is_brought_up_to_date_when_shown(
    capture_window: MainWindow, qtbot: Any,
) -> None:
    window = capture_window
    _audited(window, qtbot, dock="audit")
    people = window.audit_view.people_panel
    assert people.visibleRegion().isEmpty()  # behind the Audit tab
    assert people.model.rowCount() == 0  # so no model resets for it
    window.people_dock.raise_()
    qtbot.waitUntil(lambda: people.model.rowCount() == 2, timeout=5000)


def test_a_reopened_session_shows_its_kept_audit_at_once(
    capture_window: MainWindow, qtbot: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from inspector.core.audit import Auditor
    from inspector.core.audit.storage import load_stored_audit
    from inspector.gui.audit_view import AuditView

    window = capture_window
    _audited(window, qtbot)
    first = window.session_id
    assert first is not None
    checks = [check.id for check in Auditor().checks]

    def kept_findings() -> int:
        kept = load_stored_audit(window.store, first, window.audit_view.config, checks)
        return len(kept.findings) if kept is not None else 0

    assert window.audit_view.remote  # the capture child keeps the live audit
    assert window.audit_view.results is not None
    found = sum(window.audit_view.results.counts.values())
    # Choosing another session keeps the latest findings with the one left.
    other = window.store.create_session("other")
    window.open_session(other.id)
    qtbot.waitUntil(lambda: kept_findings() == found, timeout=5000)
    # Going back is quick: the child kept that audit in memory.
    with qtbot.waitSignal(window.audit_view.sig_updated, timeout=5000):
        window.open_session(first)
    assert window.audit_view.audit_panel.summary.text().startswith("9 errors")
    # After a restart (a new view over the same file), what was kept shows at once, even
    # while the fresh audit is held back.
    view = AuditView(window.store, window.tasks)
    monkeypatch.setattr(view, "_refresh_if_stale", lambda: None)
    view.show_session(first)
    qtbot.waitUntil(lambda: "as audited" in view.audit_panel.summary.text(), timeout=5000)
    assert view.audit_panel.summary.text().startswith("9 errors, 5 warnings · 2 people (as ")
    assert view.results is not None
    assert view.results.stored_at is not None
    view.pause()


def test_a_loaded_plan_names_the_spelling_the_plan_expects(
    capture_window: MainWindow, qtbot: Any, tmp_path: Path,
) -> None:
    from tests.gui.fakes import write_plan

    window = capture_window
    with qtbot.waitSignal(window.sig_revalidated, timeout=10000):
        assert window.load_plan_file(write_plan(tmp_path / "plan.json")), window.banner.text()
    assert "Order Completed" in window.audit_view.config.planned_events
    _audited(window, qtbot)
    assert window.audit_view.results is not None
    drift = [f for f in window.audit_view.results.findings if f.check == "drift.event_name"]
    assert any('the tracking plan says "Order Completed"' in f.message for f in drift)


def test_what_the_panel_does_not_list_comes_from_the_capture_child(
    capture_window: MainWindow, qtbot: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The child keeps the audit: a check's events and the findings of an event the panel
    does not list (each check lists its first one here) are asked of it on demand."""
    import httpx

    from inspector.gui import audit_view

    monkeypatch.setattr(audit_view, "SHOWN_PER_CHECK", 1)
    window = capture_window
    window.show()
    qtbot.waitExposed(window)
    window.audit_dock.raise_()
    assert window.capture is not None
    assert window.capture.base_url
    for number in range(3):  # three ghost carts: three anonymous_intent findings
        httpx.post(window.capture.base_url + "/v1/track", json={
            "writeKey": "k", "anonymousId": f"ghost-{number}", "event": "Added to Cart",
            "messageId": f"ghost-{number}"}).raise_for_status()
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=5000)
    assert window.session_id is not None
    last = window.store.session_last_event_id(window.session_id)
    window.audit_view.refresh_now()
    qtbot.waitUntil(lambda: window.audit_view.results is not None
                    and window.audit_view.results.through_event_id == last, timeout=10000)
    assert window.audit_view.remote
    ghost = _check_row(window, "identity.anonymous_intent")
    panel = window.audit_view.audit_panel
    assert ghost.data().startswith("✕ 3 errors")
    assert panel.model.rowCount(ghost) == 2  # the first finding, then "… 2 more"
    more = panel.model.index(1, 0, ghost)
    assert more.data().startswith("… 2 more")
    with qtbot.waitSignal(window.model.sig_query_applied, timeout=5000):
        panel.view.clicked.emit(more)
    assert window.model.rowCount() == 2
    assert window.subset_banner.text().startswith("Showing the 2 events of an audit finding")
    # The last ghost's finding is not listed; selecting its event still shows it.
    third = max(window.model.event_id(row) for row in range(2))
    def ghosts_naming(findings: Any) -> list[Any]:
        return [f for f in findings
                if f.check == "identity.anonymous_intent" and third in f.event_ids]

    assert not ghosts_naming(window.audit_view.results.findings)
    with qtbot.waitSignal(window.audit_view.sig_event_findings, timeout=5000):
        window.show_event(third)
    assert ghosts_naming(entry.finding for entry in window.detail.problems.finding_entries)
