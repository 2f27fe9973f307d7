from __future__ import annotations

from typing import Any

from inspector.core.model import Severity, Source, Violation
from inspector.core.pretty import field_path, pretty_json
from inspector.core.store import EventStore
from inspector.gui.models.detail import PlanEventsModel, SessionsModel, ViolationsModel


def test_violations_model(qtmodeltester: Any) -> None:
    model = ViolationsModel()
    model.set_violations([Violation("Required", "properties.order_id", "missing",
                                    source=Source.PLAN),
                          Violation("Unplanned Property", "properties.x", "extra",
                                    Severity.WARNING, source=Source.PLAN)], "invalid")
    qtmodeltester.check(model, force_py=True)
    assert model.index(1, 1).data() == "properties.x"
    assert model.index(0, 3).data() == "add `order_id` to `properties`"  # the advice column


def test_plan_events_model(qtmodeltester: Any) -> None:
    model = PlanEventsModel()
    model.set_rows(["A", "B"], {"A": (3, 1), "C": (2, 0)})
    qtmodeltester.check(model, force_py=True)
    assert [model.index(r, 0).data() for r in range(3)] == [
        "A", "B  (never seen)", "C  (unplanned)"]


def test_sessions_model(qtmodeltester: Any, store: EventStore) -> None:
    store.create_session("one")
    store.create_session("two")
    model = SessionsModel()
    model.set_sessions(store.list_sessions(), None)
    qtmodeltester.check(model, force_py=True)
    assert model.index(0, 0).data() == "two"


def test_pretty_json_spans() -> None:
    pretty = pretty_json({"properties": {"items": [{"price": "1"}]}})
    lines = pretty.text.splitlines()
    first, _last = pretty.span_for("properties.items.0.price")  # type: ignore[misc]
    assert lines[first].strip() == '"price": "1"'
    assert pretty.span_for("properties.order_id") == pretty.span_for("properties")[:1] * 2  # type: ignore[index]
    assert field_path("items[1].price") == ("items", "1", "price")
    assert field_path("/a~1b/0") == ("a/b", "0")
