"""Deferred secondary indexing: answers never depend on the index builder, speed does."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from inspector.core.model import Status
from inspector.core.store import EventQuery, EventStore, GroupCommitWriter
from inspector.core.store.indexing import IndexBuilder, build_index_batch
from inspector.core.store.schema import MIGRATIONS, SCHEMA_VERSION
from tests.core.test_store import request

QUERIES = [
    EventQuery(),
    EventQuery(type="track"),
    EventQuery(event="E3"),
    EventQuery(user_id="u"),
    EventQuery(status=["not_validated"]),
    EventQuery(write_key="k", order="desc", limit=7),
    EventQuery(any_id="u", offset=5, limit=10),
    EventQuery(any_id="nobody"),
    EventQuery(since_id=20, limit=5),
]


def answers(store: EventStore, session_id: int) -> list[object]:
    found: list[object] = []
    for query in QUERIES:
        scoped = query.model_copy(update={"session_id": session_id})
        result = store.query_events(scoped)
        found.append((result.total, [e.id for e in result.events]))
        found.append([row.id for row in store.page_events(scoped)])
        found.append(store.count_events(scoped))
    found.append(store.summary(session_id))
    found.append(store.event_stats(session_id))
    found.append(store.distinct_values("name", session_id))
    return found


def unindexed(db_path: Path) -> int:
    return int(sqlite3.connect(db_path).execute(
        "SELECT count(*) FROM events WHERE indexed = 0").fetchone()[0])


@pytest.fixture
def filled(db_path: Path) -> tuple[EventStore, int]:
    store = EventStore(db_path)
    session = store.create_session("s")
    # On a thread, so that the builder can be stopped before it starts: everything stays in
    # the tail until the test says otherwise.
    writer = GroupCommitWriter(db_path, background="thread")
    assert isinstance(writer.index_builder, IndexBuilder)
    writer.index_builder.stop()
    writer.start()
    try:
        for n in range(10):
            writer.write(request(session.id, *(f"E{n}-{m}" if m else f"E{n}" for m in range(6))))
    finally:
        writer.stop()
    return store, session.id


def test_answers_are_the_same_unindexed_half_indexed_and_indexed(
    filled: tuple[EventStore, int], db_path: Path
) -> None:
    store, session_id = filled
    assert unindexed(db_path) == 60
    before = answers(store, session_id)
    connection = sqlite3.connect(db_path, isolation_level=None)
    assert build_index_batch(connection, 25) == (25, 25)
    assert answers(store, session_id) == before
    assert build_index_batch(connection, 1000) == (35, 60)
    assert build_index_batch(connection, 1000) == (0, 60)
    assert unindexed(db_path) == 0
    assert answers(store, session_id) == before


def test_indexed_rows_are_found_through_the_partial_indexes(
    filled: tuple[EventStore, int], db_path: Path
) -> None:
    _store, session_id = filled
    connection = sqlite3.connect(db_path, isolation_level=None)
    build_index_batch(connection, 1000)
    where, params = EventQuery(session_id=session_id, status=["valid"]).where_clause()
    from inspector.core.store.query import union_select

    sql, sql_params = union_select("SELECT e.id FROM events e", where, params)
    plan = " ".join(row[-1] for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}",
                                                         sql_params))
    assert "events_status" in plan
    assert "events_tail" in plan


def test_user_or_anonymous_id_finds_both_in_both_halves(
    filled: tuple[EventStore, int], db_path: Path
) -> None:
    # The any-id filter is spelled out per half so each side of its OR has an index (see
    # EventQuery.where_clause; bench/gui_big_session.py measures it): same answers.
    store, session_id = filled
    connection = sqlite3.connect(db_path, isolation_level=None)
    build_index_batch(connection, 30)  # ids 1-30 indexed, 31-60 in the tail
    connection.execute("UPDATE events SET user_id = NULL, anonymous_id = 'id-7' "
                       "WHERE id IN (3, 40)")
    connection.execute("UPDATE events SET user_id = 'id-7' WHERE id IN (5, 50)")
    query = EventQuery(session_id=session_id, any_id="id-7", limit=100)
    assert [e.id for e in store.query_events(query).events] == [3, 5, 40, 50]
    assert store.count_events(query) == 4
    everywhere = query.model_copy(update={"session_id": None})
    assert [e.id for e in store.query_events(everywhere).events] == [3, 5, 40, 50]


def test_the_builder_runs_beside_the_writer(db_path: Path) -> None:
    store = EventStore(db_path)
    session = store.create_session("s")
    writer = GroupCommitWriter(db_path)
    writer.start()
    try:
        _, events = writer.write(request(session.id, "A", "B", "C"))
        assert writer.index_builder.wait_until_indexed(events[-1].id, timeout=30)
    finally:
        writer.stop()
    assert unindexed(db_path) == 0
    assert [e.name for e in store.query_events(EventQuery(event="B")).events] == ["B"]


def test_revalidation_updates_reach_both_halves(filled: tuple[EventStore, int],
                                                db_path: Path) -> None:
    store, session_id = filled
    build_index_batch(sqlite3.connect(db_path, isolation_level=None), 30)
    ids = [e.id for e in store.query_events(EventQuery(session_id=session_id, limit=100)).events]
    store.update_validation([(event_id, Status.VALID, []) for event_id in ids[::2]])
    assert store.summary(session_id)["by_status"] == {"valid": 30, "not_validated": 30}
    valid = store.query_events(EventQuery(session_id=session_id, status=["valid"], limit=100))
    assert [e.id for e in valid.events] == ids[::2]


def test_a_version_3_database_keeps_its_rows_indexed(db_path: Path) -> None:
    connection = sqlite3.connect(db_path, isolation_level=None)
    for version, script in enumerate(MIGRATIONS[:3], start=1):
        connection.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;")
    connection.execute("INSERT INTO sessions(id, name, created_at) VALUES (1, 'old', 0)")
    connection.execute("INSERT INTO events(session_id, received_at, status, type) "
                       "VALUES (1, 0, 'valid', 'track')")
    connection.close()
    store = EventStore(db_path)
    assert store._reader().execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert unindexed(db_path) == 0
    assert store.query_events(EventQuery(type="track")).total == 1



def test_event_stats_count_track_names_and_problems_in_both_halves(
    filled: tuple[EventStore, int], db_path: Path
) -> None:
    store, session_id = filled
    connection = sqlite3.connect(db_path, isolation_level=None)
    build_index_batch(connection, 30)  # ids 1-30 indexed (and in events_track_name), 31-60 not
    statuses = {3: "invalid", 7: "malformed", 12: "valid", 33: "invalid", 59: "malformed"}
    for event_id, status in statuses.items():
        connection.execute("UPDATE events SET status = ? WHERE id = ?", (status, event_id))
    connection.execute("UPDATE events SET type = 'page' WHERE id IN (1, 31)")
    rows = connection.execute("SELECT id, type, name, status FROM events").fetchall()
    for through in (None, 40):
        expected: dict[str, tuple[int, int]] = {}
        for event_id, call_type, name, status in rows:
            if call_type == "track" and (through is None or event_id <= through):
                seen, bad = expected.get(name, (0, 0))
                expected[name] = (seen + 1, bad + (status in ("invalid", "malformed")))
        assert store.event_stats(session_id, through) == expected
    # The covering index those counts are read from on big sessions (bench/gui_big_session.py).
    assert connection.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'events_track_name'").fetchone()[0].endswith(
        "WHERE indexed = 1 AND type = 'track'")


@pytest.mark.parametrize("column", ["status", "type", "name"])
def test_summary_counts_read_the_columns_own_index_not_the_rows(
    filled: tuple[EventStore, int], db_path: Path, column: str
) -> None:
    """Grouped over the union only, SQLite picked events_received and read every event row."""
    from inspector.core.store.query import union_group_count

    store, session_id = filled
    sqlite3.connect(db_path, isolation_level=None).execute("ANALYZE")  # any statistics
    sql, params = union_group_count(column, "e.session_id = ?", [session_id])
    plan = " ".join(str(row[3]) for row in store._reader().execute(
        f"EXPLAIN QUERY PLAN {sql}", params))
    index = {"status": "events_status", "type": "events_type", "name": "events_name"}[column]
    assert f"USING INDEX {index} (session_id=?)" in plan or f"COVERING INDEX {index}" in plan
    assert "events_received" not in plan
