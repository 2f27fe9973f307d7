"""The Audit and People panels' models, under qtmodeltester."""

from __future__ import annotations

from typing import Any

from inspector.core.audit import Auditor
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
