"""Field filters, severity and problems: the SQL answer, the live views' test and the typing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from inspector.core.query_params import QueryParamError, event_query
from inspector.core.store import EventQuery, EventStore, GroupCommitWriter
from inspector.core.store.fields import FieldFilter, FieldFilterError
from inspector.core.store.paging import matches
from inspector.core.store.rows import PendingEvent
from inspector.core.store.writer import CommittedEvent, PendingRequest

_ABSENT = object()
TOTALS: list[Any] = [12.5, "12.5", None, _ABSENT, 12, 12.0, True, False, 1, 0, "[1]", [1],
                     {"a": 1}, "", 2**62]
#: (severity list, status) per event beside the totals: warnings, errors, both, none.
VIOLATIONS = [
    ("valid", []), ("valid", ["warning"]), ("invalid", ["error"]), ("malformed", ["error"]),
    ("unplanned", []), ("not_validated", ["warning", "error"]), ("not_validated", []),
]


def _event(index: int, total: Any) -> PendingEvent:
    properties: dict[str, Any] = {"items": [{"sku": f"S-{index}"}], "n": index}
    if total is not _ABSENT:
        properties["total"] = total
    status, severities = VIOLATIONS[index % len(VIOLATIONS)]
    violations = [{"kind": "Required" if s == "error" else "Unplanned Property", "field": "x",
                   "message": "m", "severity": s, "source": "plan"} for s in severities]
    return PendingEvent(
        received_at=1.0, write_key="k", type="track", name="E", user_id=None,
        anonymous_id=None, message_id=None, library=None, status=status,
        violation_count=len(violations), violations_json=orjson.dumps(violations).decode(),
        payload_json=orjson.dumps({"type": "track", "properties": properties}).decode())


@pytest.fixture
def committed(db_path: Path) -> Iterator[tuple[EventStore, int, list[CommittedEvent]]]:
    store = EventStore(db_path)
    session = store.create_session("fields").id
    writer = GroupCommitWriter(db_path, search_index=False)
    writer.start()
    try:
        _, events = writer.write(PendingRequest(
            session_id=session, received_at=1.0, method="POST", path="/v1/b", query=None,
            remote_addr=None, headers_json="{}", body=None, body_size=0, http_status=200,
            events=[_event(index, total) for index, total in enumerate(TOTALS)]))
    finally:
        writer.stop()
    yield store, session, events
    store.close()


def _sql_ids(store: EventStore, query: EventQuery) -> list[int]:
    return [e.id for e in store.query_events(query.model_copy(update={"limit": 1000})).events]


def _totals_of(store: EventStore, ids: list[int]) -> list[Any]:
    found = []
    for event_id in ids:
        record = store.get_event(event_id)
        assert record is not None
        assert record.payload is not None
        found.append(record.payload["properties"].get("total", "<absent>"))
    return found


FILTERS: list[tuple[str, str, list[Any]]] = [
    ("field", "12.5", [12.5]),
    ("field", '"12.5"', ["12.5"]),
    ("field", "null", [None]),
    ("field", "12", [12, 12.0]),
    ("field", "1", [1]),          # not true
    ("field", "0", [0]),          # not false
    ("field", "true", [True]),    # not 1
    ("field", "false", [False]),
    ("field", '"[1]"', ["[1]"]),  # the string, not the array
    ("field", '""', [""]),
    ("field", str(2**62), [2**62]),
    ("field", "*", [12.5, "12.5", 12, 12.0, True, False, 1, 0, "[1]", [1], {"a": 1}, "",
                    2**62]),
    ("field_type", "number", [12.5, 12, 12.0, 1, 0, 2**62]),
    ("field_type", "integer", [12, 1, 0, 2**62]),
    ("field_type", "string", ["12.5", "[1]", ""]),
    ("field_type", "boolean", [True, False]),
    ("field_type", "null", [None]),
    ("field_type", "array", [[1]]),
    ("field_type", "object", [{"a": 1}]),
]


@pytest.mark.parametrize(("prefix", "value", "expected"), FILTERS,
                         ids=[f"{p}={v}" for p, v, _ in FILTERS])
def test_field_filters_are_typed_in_sql_and_in_python(
        committed: tuple[EventStore, int, list[CommittedEvent]], prefix: str, value: str,
        expected: list[Any]) -> None:
    store, session, events = committed
    query = event_query([(f"{prefix}.properties.total", value)], session)
    ids = _sql_ids(store, query)
    assert _totals_of(store, ids) == expected
    # the live views' test (a just-committed event joining a filtered view) agrees
    assert [event.id for event in events if matches(query, event)] == ids


def test_array_indices_and_missing_paths(
        committed: tuple[EventStore, int, list[CommittedEvent]]) -> None:
    store, session, events = committed
    for pairs, count in (([("field.properties.items.0.sku", '"S-3"')], 1),
                         ([("field.properties.items.1.sku", "*")], 0),
                         ([("field.properties.items.sku", "*")], 0),
                         ([("field.properties.total.deeper", "*")], 0),
                         ([("field.properties.items.0.sku", "*"),
                           ("field_type.properties.n", "integer")], len(TOTALS))):
        query = event_query(pairs, session)
        ids = _sql_ids(store, query)
        assert len(ids) == count, pairs
        assert [event.id for event in events if matches(query, event)] == ids


@pytest.mark.parametrize("params", [
    {"severity": "warning"}, {"severity": "error"}, {"severity": "error,warning"},
    {"status": "problems"}, {"status": "problems,valid"}, {"status": "valid"},
    {"violation_kind": "REQUIRED"}, {"violation_kind": "unplanned property"},
])
def test_severity_problems_and_kinds_in_sql_and_in_python(
        committed: tuple[EventStore, int, list[CommittedEvent]],
        params: dict[str, str]) -> None:
    store, session, events = committed
    query = event_query(params, session)
    ids = _sql_ids(store, query)
    expected = []
    for event in events:
        status, severities = VIOLATIONS[(event.id - events[0].id) % len(VIOLATIONS)]
        wanted = params.get("severity", "").split(",")
        statuses = params.get("status", "")
        if "severity" in params:
            keep = bool(set(severities) & set(wanted))
        elif statuses.startswith("problems"):
            keep = status in ("invalid", "unplanned", "malformed") or bool(severities) or (
                status in statuses.split(","))
        elif "status" in params:
            keep = status == statuses
        else:
            kind = params["violation_kind"].lower()
            keep = ("error" if kind == "required" else "warning") in severities
        if keep:
            expected.append(event.id)
    assert ids == expected
    assert [event.id for event in events if matches(query, event)] == ids


@pytest.mark.parametrize(("path", "raw", "words"), [
    ("properties.currency", "USD", '"USD"'),
    ("properties.total", "12.5.1", "not a JSON value"),
    ("properties", "{}", "not an object or array"),
    ("properties.total", "NaN", "not a JSON value"),
    ("", "1", "path is empty"),
    ("a..b", "1", "is not a name"),
    ('a."b"', "1", "double quote"),
])
def test_values_that_are_not_json_are_refused_with_a_hint(path: str, raw: str,
                                                          words: str) -> None:
    with pytest.raises(FieldFilterError) as refused:
        FieldFilter.equals(path, raw)
    assert words in str(refused.value)
    with pytest.raises(QueryParamError):
        event_query([(f"field.{path}", raw)], None)


def test_strings_stay_typed_on_a_sqlite_without_the_arrow_operator(
        committed: tuple[EventStore, int, list[CommittedEvent]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Before SQLite 3.38 a string is compared through json_extract, guarded by json_type.
    store, session, _ = committed
    monkeypatch.setattr("inspector.core.store.fields.has_arrow_operator", lambda: False)
    for value, expected in (('"12.5"', ["12.5"]), ('"[1]"', ["[1]"]), ('""', [""]),
                            ('"S-3"', [])):
        query = event_query([("field.properties.total", value)], session)
        sql, _ = query.fields[0].sql()
        assert "->" not in sql
        assert _totals_of(store, _sql_ids(store, query)) == expected
