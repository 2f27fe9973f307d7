"""Field filters in SQL give the reference answer (:meth:`FieldFilter.matches`) on any payload.

Hypothesis builds payloads of awkward shapes (1 beside 1.0 and true, integers past 64 bits,
strings that look like numbers or JSON, keys in any script or with characters JSON escapes)
and filters aimed at the values they hold, and every filter is answered both ways: by the SQL
the REST API runs (on the indexed rows and on the tail the index builder has not reached) and
by the Python test the live views use.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector.core.store import EventQuery, EventStore
from inspector.core.store.fields import JSON_TYPES, FieldFilter, FieldFilterError

#: Keys as a path can name them (no '.', '[', ']' or '"'), with what JSON must escape.
KEYS = st.one_of(
    st.sampled_from(["total", "1", "0", "a\\b", "tab\there", "line\nbreak", "é", "ключ", "",
                     " ", "\x00", "\x7f", "\u2028", "emoji🙂", "$", "'", "*"]),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters='.[]"'),
            max_size=4),
)
SCALARS = st.one_of(
    st.sampled_from([0, 1, -1, 0.0, 1.0, -0.0, True, False, None, 12.5, "12.5", "1", "true",
                     "null", "[1]", "{}", " [1]", "", 2**53, 2**53 + 1, 2**63 - 1, -(2**63),
                     2**63, 2**63 + 1, 2**64 - 1, 1e300, 5e-324]),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),  # what orjson writes
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)), max_leaves=8)
PAYLOADS = st.dictionaries(KEYS, VALUES, max_size=4)


def _paths(value: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every path into ``value``, and one step past each leaf (a missing value)."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*prefix, index))
        found.append((*prefix, len(value)))
    elif prefix:
        found.append((*prefix, "deeper"))
    return found


def _raw_values(value: Any) -> list[str]:
    """Query values aimed at ``value``: itself and its look-alikes of other JSON types."""
    raws = ["*", "null", "true", "false", "0", "1", "1.0", '"1"', "12.5", '"12.5"']
    if isinstance(value, (str, int, float)) or value is None:
        raws.append(orjson.dumps(value).decode())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raws += [repr(float(value)), orjson.dumps(str(value)).decode()]
        if float(value).is_integer() and abs(value) < 2**63:
            raws.append(str(int(value)))
    if isinstance(value, str):
        raws.append(value)  # bare: refused unless it is JSON of its own
    return raws


def _filters(payloads: list[dict[str, Any]]) -> list[FieldFilter]:
    filters: list[FieldFilter] = []
    for payload in payloads:
        for path in _paths(payload):
            dotted = ".".join(str(segment) for segment in path)
            value: Any = payload
            for segment in path:
                value = value[segment] if isinstance(value, (dict, list)) and (
                    segment in value if isinstance(value, dict)
                    else isinstance(segment, int) and segment < len(value)) else None
            candidates = [(FieldFilter.equals, raw) for raw in _raw_values(value)]
            candidates += [(FieldFilter.of_type, name) for name in JSON_TYPES]
            for make, raw in candidates:
                try:
                    field = make(dotted, raw)
                except FieldFilterError:
                    continue  # a path or value the contract refuses (it says why)
                # A digits-only key is read as an index: the filter names another path.
                filters.append(field)
    return filters


_STORE: dict[str, EventStore] = {}


def _store(factory: pytest.TempPathFactory) -> EventStore:
    # One database for every example (a new one per example would dominate the run).
    if "store" not in _STORE:
        _STORE["store"] = EventStore(factory.mktemp("fields") / "properties.sqlite3")
    return _STORE["store"]


def _insert(path: Path, session: int, payloads: list[dict[str, Any]]) -> list[int]:
    """The payloads as the writer stores them (orjson's text), every other one still in the
    unindexed tail, so that both halves of each query meet them."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        ids = []
        for index, payload in enumerate(payloads):
            cursor = connection.execute(
                "INSERT INTO events(session_id, received_at, type, name, status, payload, "
                "indexed) VALUES (?, 1.0, 'track', 'E', 'valid', ?, ?)",
                (session, orjson.dumps(payload).decode(), index % 2))
            assert cursor.lastrowid is not None
            ids.append(cursor.lastrowid)
        return ids
    finally:
        connection.close()


@given(st.lists(PAYLOADS, min_size=1, max_size=5))
@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_sql_gives_the_reference_answer(tmp_path_factory: pytest.TempPathFactory,
                                        payloads: list[dict[str, Any]]) -> None:
    store = _store(tmp_path_factory)
    session = store.create_session(f"s{len(store.list_sessions())}").id
    ids = _insert(store.path, session, payloads)
    for field in _filters(payloads):
        expected = [event_id for event_id, payload in zip(ids, payloads, strict=True)
                    if field.matches(payload)]
        # limit 1 makes the count run too (a full page leaves more to count).
        for limit in (1, 100):
            result = store.query_events(EventQuery(session_id=session, fields=(field,),
                                                   limit=limit))
            assert result.total == len(expected), (field.describe(), payloads)
            assert [event.id for event in result.events] == expected[:limit], (
                field.describe(), payloads)
