"""The Audit and People panels' models, under qtmodeltester."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from inspector.core.audit import Auditor, FindingSeverity
from inspector.core.observed import ObservedEvent
from inspector.gui.models.audit import FindingsModel, PeopleModel


def _audited() -> Auditor:
    calls = [
        ("identify", "jane@shop.test", "anon-1", {"traits": {"email": "jane@shop.test"}}),
        ("identify", "8412", None, {"traits": {"email": "jane@shop.test"}}),
        ("track", None, "ghost", {"event": "Added to Cart", "properties": {
            "cart_id": "c-1", "sku": "MUG-11", "name": "Mug", "variant": "black",
            "price": 12.5, "quantity": 1}}),
    ]
    auditor = Auditor()
    auditor.feed(
        ObservedEvent.build(
            id=number, received_at=1_800_000_000.0 + number, write_key="k", type=kind,
            name=payload.get("event"), user_id=user, anonymous_id=anonymous,
            message_id=f"m-{number}", payload=payload, write_key_names={"k": "web"},
        )
        for number, (kind, user, anonymous, payload) in enumerate(calls, start=1)
    )
    return auditor


def test_findings_model_groups_areas_checks_and_findings(qtmodeltester: Any) -> None:
    auditor = _audited()
    findings = auditor.findings()
    model = FindingsModel()
    model.set_findings(auditor.checks, findings)
    qtmodeltester.check(model, force_py=True)
    areas = [model.index(row, 0).data() for row in range(model.rowCount())]
    assert areas[:4] == ["People and identity", "Email capture", "Trait write rules", "Consent"]
    assert {"Sources", "Timing"} <= set(areas)
    assert {"Drift across events of one name", "Item payloads"} <= set(areas)
    identity = model.index(0, 0)
    checks = {model.check_id(model.index(row, 0, identity)): model.index(row, 0, identity)
              for row in range(model.rowCount(identity))}
    assert checks["identity.multiple_user_ids"].data() == "✕ 1 error  One shopper, several userIds"
    assert checks["identity.anonymous_id_churn"].data() == "✓  anonymousId churn"
    multiple = checks["identity.multiple_user_ids"]
    assert model.index(multiple.row(), 1, identity).data() == "✕ 1 error"
    finding_index = model.index(0, 0, multiple)
    finding = model.finding(finding_index)
    assert finding is not None
    assert finding.check == "identity.multiple_user_ids"
    assert finding_index.data() == f"✕ {finding.message}"
    # A check's events come from the audit (the panel holds only its first findings).
    assert model.chosen(multiple) == ([], ("identity.multiple_user_ids",), 0)
    assert model.chosen(finding_index) == ([1, 2], (), 0)
    assert model.chosen(identity)[1][0] == "identity.multiple_user_ids"
    assert model.check_id(multiple) == "identity.multiple_user_ids"
    model.set_findings(auditor.checks, [])  # a reset to nothing keeps the model sound
    qtmodeltester.check(model, force_py=True)


def test_people_model(qtmodeltester: Any) -> None:
    auditor = _audited()
    findings = auditor.findings()
    model = PeopleModel()
    model.set_people([person.to_dict() for person in auditor.people()], findings)
    qtmodeltester.check(model, force_py=True)
    assert [model.index(row, 0).data() for row in range(model.rowCount())] == [
        "jane@shop.test", "ghost"]
    assert model.index(0, 1).data() == "jane@shop.test (email), 8412 (numeric)"
    assert model.row_of("anon:ghost") == 1
    assert int(model.index(1, 6).data()) >= 1


def test_audit_panel_asks_for_a_findings_events(qtbot: Any) -> None:
    from inspector.gui.widgets.audit_panels import AuditPanel

    auditor = _audited()
    panel = AuditPanel()
    qtbot.addWidget(panel)
    panel.set_results(auditor.checks, auditor.findings(), people=2)
    assert panel.summary.text().startswith("3 errors")
    assert panel.summary.text().endswith("· 2 people")
    identity = panel.model.index(0, 0)
    check = next(panel.model.index(row, 0, identity) for row in
                 range(panel.model.rowCount(identity))
                 if panel.model.check_id(panel.model.index(row, 0, identity))
                 == "identity.anonymous_intent")
    finding = panel.model.index(0, 0, check)
    panel.view.expand(check)
    with qtbot.waitSignal(panel.sig_events_chosen) as blocker:
        panel.view.clicked.emit(finding)
    assert blocker.args == [[3]]


def test_people_panel_shows_a_person_and_escapes(qtbot: Any) -> None:
    from inspector.gui.widgets.audit_panels import PeoplePanel

    auditor = _audited()
    people = [person.to_dict() for person in auditor.people()]
    people[0]["traits"]["first_name"] = {"value": "<script>x</script>", "source": "web",
                                         "event_id": 1, "message_id": "m", "writes": 2}
    panel = PeoplePanel()
    qtbot.addWidget(panel)
    panel.set_people(people, auditor.findings())
    with qtbot.waitSignal(panel.sig_person_chosen) as blocker:
        panel.view.clicked.emit(panel.model.index(0, 0))
    assert blocker.args[0]["id"] == "user:jane@shop.test"
    text = panel.detail.toPlainText()
    assert "8412 (numeric) from web" in text
    assert "<script>x</script>" in text  # shown as text, not markup
    assert "One shopper (jane@shop.test) carries 2 userIds" in text
    panel.set_people(people[1:], [])  # the chosen person is gone
    assert panel.detail.toPlainText() == ""


def test_a_check_with_many_findings_shows_the_first_and_counts_the_rest(
    qtmodeltester: Any,
) -> None:
    from inspector.gui.models.audit import build_findings_tree

    auditor = Auditor()
    auditor.feed(
        ObservedEvent.build(
            id=number, received_at=1_800_000_000.0, write_key="k", type="track",
            name="Added to Cart", user_id=None, anonymous_id=f"ghost-{number}",
            message_id=f"m-{number}", payload={}, write_key_names={},
        )
        for number in range(1, 26)
    )
    model = FindingsModel()
    model.set_tree(build_findings_tree(auditor.checks, auditor.findings(), shown_per_check=10))
    qtmodeltester.check(model, force_py=True)
    identity = model.index(0, 0)
    ghost = next(model.index(row, 0, identity) for row in range(model.rowCount(identity))
                 if model.check_id(model.index(row, 0, identity)) == "identity.anonymous_intent")
    assert model.rowCount(ghost) == 11
    more = model.index(10, 0, ghost)
    assert more.data().startswith("… 15 more")
    assert model.chosen(more) == ([], ("identity.anonymous_intent",), 10)
    assert model.chosen(ghost) == ([], ("identity.anonymous_intent",), 0)
    from inspector.core.audit.overview import event_ids_of

    findings = auditor.findings()
    assert event_ids_of(findings, ["identity.anonymous_intent"], skip=10) == list(range(11, 26))
    assert event_ids_of(findings, ["identity.anonymous_intent"]) == list(range(1, 26))


def _drifting() -> Auditor:
    auditor = Auditor()
    auditor.feed(ObservedEvent.build(
        id=number, received_at=1_800_000_000.0 + number, write_key="k", type="track",
        name="Checkout Started", user_id="u-1", anonymous_id=None, message_id=f"m-{number}",
        payload={"properties": {"value": value}}, write_key_names={"k": "web"})
        for number, value in enumerate([49.9, "49.90", 50.0, 12.0], start=1))
    return auditor


def test_variants_model_puts_a_drift_findings_variants_side_by_side(
    qtmodeltester: Any,
) -> None:
    from inspector.core.audit.overview import variants_of
    from inspector.gui.models.audit import VariantsModel

    drift = next(f for f in _drifting().findings() if f.check == "drift.property_type")
    model = VariantsModel()
    qtmodeltester.check(model, force_py=True)  # empty
    model.set_variants(variants_of(drift))
    qtmodeltester.check(model, force_py=True)
    assert (model.rowCount(), model.columnCount()) == (4, 2)
    assert [model.index(0, column).data() for column in range(2)] == ["a number", "a string"]
    assert [model.index(1, column).data() for column in range(2)] == ["49.9", '"49.90"']
    assert model.index(2, 0).data() == "75% · 3 calls"
    assert model.index(2, 1).data() == "25% · 1 call"
    assert model.index(3, 1).data() == "#2"
    assert model.index(3, 1).data(Qt.ItemDataRole.ToolTipRole) == "Click to show event #2"
    assert model.event_id(1) == 2
    assert model.event_id(5) is None
    assert model.headerData(3, Qt.Orientation.Vertical) == "Event"


def test_a_drift_finding_shows_its_variants_and_a_click_selects_one(qtbot: Any) -> None:
    from inspector.gui.widgets.audit_panels import AuditPanel

    auditor = _drifting()
    panel = AuditPanel()
    qtbot.addWidget(panel)
    panel.resize(640, 720)
    panel.show()
    panel.set_results(auditor.checks, auditor.findings())
    drift_area = next(panel.model.index(row, 0) for row in range(panel.model.rowCount())
                      if panel.model.index(row, 0).data().startswith("Drift"))
    check = next(panel.model.index(row, 0, drift_area)
                 for row in range(panel.model.rowCount(drift_area))
                 if panel.model.check_id(panel.model.index(row, 0, drift_area))
                 == "drift.property_type")
    assert panel.variants.isHidden()
    panel.view.setCurrentIndex(panel.model.index(0, 0, check))
    assert panel.variants.isVisible()
    assert panel.variants.variants.columnCount() == 2
    with qtbot.waitSignal(panel.sig_events_chosen) as blocker:
        panel.variants.clicked.emit(panel.variants.variants.index(3, 1))
    assert blocker.args == [[2]]
    panel.view.setCurrentIndex(check)  # a check row: no variants
    assert panel.variants.isHidden()
    # A check row asks for its events by check (the audit holds them, not the panel).
    with qtbot.waitSignal(panel.sig_checks_chosen) as chosen:
        panel.view.clicked.emit(check)
    assert chosen.args == [["drift.property_type"], 0]


def test_checks_and_areas_draw_their_sparkline(qtbot: Any) -> None:
    from PySide6.QtGui import QColor

    from inspector.core.audit.overview import Arrivals, audit_overview
    from inspector.gui.models.audit import FINDING_COLORS, SPARKLINE_ROLE, build_overview_tree
    from inspector.gui.widgets.audit_panels import AuditPanel, SparklineDelegate

    auditor = _audited()
    arrivals = Arrivals()
    arrivals.add([1, 2, 3], [0.0, 50.0, 100.0])
    findings = auditor.findings()
    overview = audit_overview(auditor.checks, findings, arrivals=arrivals, buckets=4)
    panel = AuditPanel()
    qtbot.addWidget(panel)
    panel.resize(600, 700)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_tree(build_overview_tree(overview), overview["counts"], 2)
    identity = panel.model.index(0, 0)
    assert sum(identity.data(SPARKLINE_ROLE)) >= 3
    ghost = next(panel.model.index(row, 0, identity)
                 for row in range(panel.model.rowCount(identity))
                 if panel.model.check_id(panel.model.index(row, 0, identity))
                 == "identity.anonymous_intent")
    assert ghost.data(SPARKLINE_ROLE) == [0, 0, 0, 1]  # its ghost cart came last
    assert panel.model.index(0, 0, ghost).data(SPARKLINE_ROLE) is None  # a finding row
    rect = panel.view.visualRect(ghost)
    image = panel.view.viewport().grab().toImage()
    # The last bar, at the row's right end, in the check's colour; the first span empty.
    error = QColor(FINDING_COLORS[FindingSeverity.ERROR])
    right = panel.view.viewport().width() - 1  # the row's end (visualRect overshoots it)
    column = [image.pixelColor(right - 6, y) for y in range(rect.top(), rect.bottom())]
    assert error in column
    first_x = right - SparklineDelegate.WIDTH + 4
    top = [image.pixelColor(first_x, y) for y in range(rect.top(), rect.bottom() - 4)]
    assert error not in top
