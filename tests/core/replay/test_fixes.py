"""Corrections, bulk fixes, previews and fix sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspector.core.fixes import (
    CoerceType,
    CorrectionStore,
    DeleteKey,
    DiffOp,
    FixSet,
    MapUserId,
    RenameEvent,
    RenameKey,
    SetValue,
    apply_fixes,
    check_edit,
    coerce_value,
    json_diff,
)
from inspector.core.store import EventQuery
from tests.support.events import add_events, make_event


def test_json_diff_reports_type_changes_additions_and_removals() -> None:
    old = {"a": "12", "b": {"c": 1}, "l": [1, 2], "gone": True}
    new = {"a": 12, "b": {"c": 1, "d": None}, "l": [1], "x": "new"}
    diff = {(entry.op, entry.path) for entry in json_diff(old, new)}
    assert diff == {
        (DiffOp.CHANGED, "a"),
        (DiffOp.ADDED, "b.d"),
        (DiffOp.REMOVED, "l.1"),
        (DiffOp.REMOVED, "gone"),
        (DiffOp.ADDED, "x"),
    }
    # True == 1 in Python but a JSON boolean is not a number.
    assert json_diff({"v": 1}, {"v": True})
    assert json_diff({"v": 1}, {"v": 1}) == []


@pytest.mark.parametrize(
    ("value", "to", "expected"),
    [
        ("42", "number", 42),
        ("4.5", "number", 4.5),
        ("1,234.5", "number", 1234.5),
        ("yes", "boolean", True),
        ("FALSE", "boolean", False),
        (0, "boolean", False),
        ("1700000000", "timestamp", "2023-11-14T22:13:20.000Z"),
        (1700000000123, "timestamp", "2023-11-14T22:13:20.123Z"),
        ("2024-01-02 03:04:05+02:00", "timestamp", "2024-01-02T01:04:05.000Z"),
        ("2024-01-02", "timestamp", "2024-01-02"),
        (None, "number", None),
    ],
)
def test_coerce_value(value: object, to: str, expected: object) -> None:
    result = coerce_value(value, to)  # type: ignore[arg-type]
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(("value", "to"), [("abc", "number"), ("1,5", "number"),
                                           ("maybe", "boolean"), ("soon", "timestamp"),
                                           ("nan", "number")])
def test_coerce_value_refuses_what_it_cannot_convert(value: object, to: str) -> None:
    with pytest.raises(ValueError, match="is not"):
        coerce_value(value, to)  # type: ignore[arg-type]


def test_each_fix_kind_rewrites_a_copy() -> None:
    original = make_event(
        "track", event="order completed", userId="u-old",
        properties={"Total": "12.5", "paid": "true", "when": "1700000000", "junk": 1},
        context={"traits": {"Email": "a@b.c"}},
    )
    fixes = [
        RenameEvent(from_name="order completed", to_name="Order Completed"),
        RenameKey(scope="properties", from_key="Total", to_key="total"),
        CoerceType(scope="properties", key="total", to="number"),
        CoerceType(scope="properties", key="paid", to="boolean"),
        CoerceType(scope="properties", key="when", to="timestamp"),
        DeleteKey(scope="properties", key="junk"),
        SetValue(scope="properties", key="currency", value="EUR"),
        RenameKey(scope="traits", from_key="Email", to_key="email"),
        MapUserId(from_id="u-old", to_id="u-new"),
    ]
    after, problems = apply_fixes(fixes, original)
    assert problems == []
    assert after["event"] == "Order Completed"
    assert after["userId"] == "u-new"
    assert after["properties"] == {
        "total": 12.5, "paid": True, "when": "2023-11-14T22:13:20.000Z", "currency": "EUR",
    }
    assert after["context"]["traits"] == {"email": "a@b.c"}
    assert original["properties"]["Total"] == "12.5"  # the input is never modified


def test_rename_key_never_overwrites_and_coerce_reports_bad_values() -> None:
    event = make_event("identify", traits={"Plan": "pro", "plan": "free", "age": "old"})
    after, problems = apply_fixes(
        [RenameKey(scope="traits", from_key="Plan", to_key="plan"),
         CoerceType(scope="traits", key="age", to="number")],
        event,
    )
    assert after["traits"] == event["traits"]
    assert len(problems) == 2


def test_only_event_limits_a_fix() -> None:
    fix = SetValue(scope="properties", key="x", value=1, only_event="A")
    a, _ = apply_fixes([fix], make_event(event="A"))
    b, _ = apply_fixes([fix], make_event(event="B"))
    assert a["properties"]["x"] == 1
    assert "x" not in b["properties"]


def test_corrections_store_keeps_the_original(tmp_path: Path) -> None:
    store, session_id, ids = add_events(tmp_path / "db.sqlite", [make_event(index=0)])
    corrections = CorrectionStore(store)
    original = store.get_event(ids[0])
    assert original is not None
    assert original.payload is not None
    edited = dict(original.payload, event="Renamed")
    corrections.save(ids[0], edited, source="edit")

    correction = corrections.get(ids[0])
    assert correction is not None
    assert correction.original == original.payload
    assert correction.corrected["event"] == "Renamed"
    assert [(d.op, d.path) for d in correction.diff] == [(DiffOp.CHANGED, "event")]
    assert corrections.corrected_ids(session_id) == {ids[0]}
    refetched = store.get_event(ids[0])
    assert refetched is not None
    assert refetched.payload == original.payload

    # Saving the original back removes the correction.
    corrections.save(ids[0], original.payload)
    assert corrections.get(ids[0]) is None


def test_bulk_fix_preview_then_apply_over_a_filter(tmp_path: Path) -> None:
    events = [make_event(index=i, event="signup" if i % 2 else "Order Completed")
              for i in range(6)]
    store, session_id, ids = add_events(tmp_path / "db.sqlite", events)
    corrections = CorrectionStore(store)
    fixes = [RenameEvent(from_name="signup", to_name="Signed Up")]
    query = EventQuery(session_id=session_id)

    previews = list(corrections.preview(fixes, query=query))
    assert [p.event_id for p in previews] == ids[1::2]
    assert corrections.corrected_ids(session_id) == set()  # preview writes nothing

    result = corrections.apply(fixes, query=query)
    assert result.changed == 3
    assert corrections.corrected_ids(session_id) == set(ids[1::2])
    # Fixes stack on the current correction.
    corrections.apply([SetValue(scope="properties", key="v", value=2)], event_ids=[ids[1]])
    stacked = corrections.get(ids[1])
    assert stacked is not None
    assert stacked.corrected["event"] == "Signed Up"
    assert stacked.corrected["properties"]["v"] == 2


def test_fix_sets_round_trip_and_apply_to_a_new_session(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    store, _, _ = add_events(db, [make_event(event="signup")], session="one")
    corrections = CorrectionStore(store)
    fix_set = FixSet(name="signup fixes", fixes=[
        RenameEvent(from_name="signup", to_name="Signed Up"),
        CoerceType(scope="properties", key="total", to="number"),
    ])
    corrections.save_fix_set(fix_set)
    assert corrections.list_fix_sets() == ["signup fixes"]
    loaded = corrections.load_fix_set("signup fixes")
    assert loaded == fix_set
    assert FixSet.from_json(fix_set.to_json()) == fix_set

    _, session_two, ids_two = add_events(db, [make_event(event="signup")], session="two")
    result = corrections.apply(loaded.fixes, query=EventQuery(session_id=session_two))
    assert result.changed == 1
    assert corrections.corrected_ids(session_two) == set(ids_two)
    assert corrections.delete_fix_set("signup fixes")


def test_check_edit_reports_position_or_diff() -> None:
    original = make_event(event="A")
    broken = check_edit(original, '{\n  "type": "track",\n  "event": }')
    assert not broken.ok
    assert (broken.line, broken.column) == (3, 12)
    edited = check_edit(original, json.dumps(dict(original, event="B")))
    assert edited.ok
    assert [(d.path, d.new) for d in edited.diff] == [("event", "B")]
    assert not check_edit(original, "[1]").ok
