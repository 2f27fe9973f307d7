"""The summary counts kept per session: the same summary whether the counter has not started,
is part way (several watermarks in several sessions) or has caught up; kept exact through
re-validation and a deleted session whose id is reused; started on a database from before
them; and kept up to date beside the writer, with the workers on threads or in their process."""

from __future__ import annotations

import random
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from inspector.core.model import Source, Status, Violation
from inspector.core.store import EventStore, GroupCommitWriter
from inspector.core.store.counts import SummaryCounter, count_batch, kept_counts
from inspector.core.store.indexing import build_index_batch
from inspector.core.store.schema import _SESSION_COUNTS, MIGRATIONS
from tests.core.test_store import request

KINDS = ("Invalid Type", "Required", "Unplanned Event", "Additional Property")


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _fill(connection: sqlite3.Connection, session_id: int, count: int, seed: int) -> None:
    """``count`` varied events: several statuses, NULL types and names, none to three
    violations of several kinds."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        kinds = rng.choices(KINDS, k=rng.choice((0, 0, 1, 3)))
        violations = [{"kind": kind, "field": "properties.x", "message": "m"} for kind in kinds]
        status = "invalid" if kinds else rng.choice(("valid", "not_validated", "malformed"))
        rows.append((session_id, rng.random(), rng.choice(("track", "page", None)),
                     rng.choice(("A", "B", "Order Completed", None)), status, len(violations),
                     orjson.dumps(violations).decode()))
    connection.executemany(
        "INSERT INTO events(session_id, received_at, type, name, status, violation_count, "
        "violations, indexed) VALUES (?, ?, ?, ?, ?, ?, ?, 0)", rows)


def _expected(connection: sqlite3.Connection, session_id: int | None) -> dict[str, Any]:
    """The summary counted here, from the rows."""
    rows = connection.execute(
        "SELECT status, type, name, violations FROM events WHERE ? IS NULL OR session_id = ?",
        (session_id, session_id)).fetchall()
    groups: dict[str, Counter[str]] = {
        "by_status": Counter(), "by_type": Counter(), "by_event": Counter(),
        "by_violation_kind": Counter()}
    for status, call_type, name, violations in rows:
        groups["by_status"][status] += 1
        groups["by_type"][call_type or ""] += 1
        groups["by_event"][name or ""] += 1
        for violation in orjson.loads(violations):
            groups["by_violation_kind"][violation["kind"]] += 1
    return {"total": len(rows),
            **{group: dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
               for group, counts in groups.items()}}


def _summaries(store: EventStore, sessions: list[int]) -> list[list[tuple[str, Any]]]:
    """Each session's summary and every session's (``None``), as ordered items."""
    return [list(store.summary(session_id).items()) for session_id in [*sessions, None]]


def _watermarks(path: Path) -> dict[int, int]:
    with _connect(path) as connection:
        return dict(connection.execute(
            "SELECT session_id, counted_upto FROM session_counted").fetchall())


@pytest.fixture
def filled(db_path: Path) -> tuple[EventStore, list[int]]:
    """Three sessions of varied events, interleaved, part of them in the secondary indexes."""
    store = EventStore(db_path)
    sessions = [store.create_session(name).id for name in ("one", "two", "three")]
    connection = _connect(db_path)
    for round_ in range(3):
        for index, session_id in enumerate(sessions):
            _fill(connection, session_id, 25 + 10 * index, seed=round_ * 10 + index)
    build_index_batch(connection, 120)
    connection.close()
    return store, sessions


def test_every_watermark_the_counter_passes_gives_the_same_summary(
        filled: tuple[EventStore, list[int]], db_path: Path) -> None:
    store, sessions = filled
    connection = _connect(db_path)
    expected = [list(_expected(connection, s).items()) for s in [*sessions, None]]
    first = dict(expected[0])
    assert first["by_violation_kind"].keys() == set(KINDS)
    assert "" in first["by_type"]
    assert "" in first["by_event"]
    assert _summaries(store, sessions) == expected  # nothing kept yet: counted whole
    states = []
    while True:
        count, _ = count_batch(connection, 7)
        states.append(_watermarks(db_path))
        assert _summaries(store, sessions) == expected, states[-1]
        if not count:
            break
    assert len({tuple(state.items()) for state in states}) > 20  # many watermarks, per session
    newest = connection.execute("SELECT session_id, max(id) FROM events GROUP BY 1").fetchall()
    assert states[-1] == dict(newest)
    # Caught up: answered from the counts kept.
    with connection:
        assert all(kept_counts(connection, s) is not None for s in [*sessions, None])
    # And new events above the watermarks are counted live.
    _fill(connection, sessions[1], 9, seed=99)
    expected = [list(_expected(connection, s).items()) for s in [*sessions, None]]
    assert _summaries(store, sessions) == expected
    connection.close()
    store.close()


def test_revalidation_keeps_the_counts_exact(
        filled: tuple[EventStore, list[int]], db_path: Path) -> None:
    store, sessions = filled
    connection = _connect(db_path)
    while count_batch(connection, 50)[0]:
        pass
    ids = [row[0] for row in connection.execute(
        "SELECT id FROM events WHERE session_id = ? ORDER BY id LIMIT 12", (sessions[0],))]
    store.update_validation([
        (event_id, Status.INVALID, [Violation("Required", "properties.y", "m",
                                              source=Source.PLAN)] * 2)
        for event_id in ids[:6]] + [(event_id, Status.VALID, []) for event_id in ids[6:]])
    expected = [list(_expected(connection, s).items()) for s in [*sessions, None]]
    assert _summaries(store, sessions) == expected
    assert sessions[0] not in _watermarks(db_path)  # counted again from its first event
    assert set(_watermarks(db_path)) == set(sessions[1:])
    while count_batch(connection, 13)[0]:
        assert _summaries(store, sessions) == expected
    assert _summaries(store, sessions) == expected
    assert set(_watermarks(db_path)) == set(sessions)
    connection.close()
    store.close()


def test_a_deleted_sessions_counts_go_with_it(
        filled: tuple[EventStore, list[int]], db_path: Path) -> None:
    store, sessions = filled
    connection = _connect(db_path)
    while count_batch(connection, 50)[0]:
        pass
    store.delete_session(sessions[-1])
    # The next session takes the deleted one's id, and its events the deleted events' ids.
    again = store.create_session("again")
    assert again.id == sessions[-1]
    _fill(connection, again.id, 20, seed=7)
    expected = [list(_expected(connection, s).items()) for s in [*sessions, None]]
    assert _summaries(store, sessions) == expected
    while count_batch(connection, 6)[0]:
        assert _summaries(store, sessions) == expected
    assert _summaries(store, sessions) == expected
    connection.close()
    store.close()


def test_a_session_far_behind_is_counted_whole(
        filled: tuple[EventStore, list[int]], db_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    store, sessions = filled
    connection = _connect(db_path)
    expected = [list(_expected(connection, s).items()) for s in [*sessions, None]]
    count_batch(connection, 5)
    monkeypatch.setattr("inspector.core.store.counts.LIVE_LIMIT", 10)
    with connection:
        assert kept_counts(connection, sessions[0]) is None
    assert _summaries(store, sessions) == expected
    connection.close()
    store.close()


def test_sessions_finished_long_ago_do_not_hold_up_the_counts_of_all(
        filled: tuple[EventStore, list[int]], db_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    store, sessions = filled
    connection = _connect(db_path)
    while count_batch(connection, 50)[0]:
        pass
    _fill(connection, sessions[-1], 8, seed=5)  # the first session's watermark: 88 ids below
    expected = [list(_expected(connection, s).items()) for s in [*sessions, None]]
    monkeypatch.setattr("inspector.core.store.counts.LIVE_LIMIT", 10)
    with connection:
        assert kept_counts(connection, None) is not None
    assert _summaries(store, sessions) == expected
    connection.close()
    store.close()


def test_a_database_from_before_kept_counts_is_counted_when_the_counter_starts(
        filled: tuple[EventStore, list[int]], db_path: Path) -> None:
    store, sessions = filled
    store.close()
    with _connect(db_path) as connection:  # as the previous version left it
        connection.execute("DROP TABLE session_counts")
        connection.execute("DROP TABLE session_counted")
        connection.execute(f"PRAGMA user_version = {MIGRATIONS.index(_SESSION_COUNTS)}")
        expected = [list(_expected(connection, s).items()) for s in [*sessions, None]]
    store = EventStore(db_path)  # migrates
    assert _watermarks(db_path) == {}
    assert _summaries(store, sessions) == expected
    counter = SummaryCounter(db_path)
    counter.start()
    try:
        assert counter.wait_until_indexed(store.max_event_id(), timeout=30)
    finally:
        counter.stop()
    assert set(_watermarks(db_path)) == set(sessions)
    assert _summaries(store, sessions) == expected
    store.close()


@pytest.mark.parametrize("background", ["thread", "process"])
def test_the_counter_keeps_up_beside_the_writer(db_path: Path, background: str) -> None:
    store = EventStore(db_path)
    session = store.create_session("s")
    writer = GroupCommitWriter(db_path, background=background)
    writer.start()
    try:
        _, events = writer.write(request(session.id, "A", "B", "A"))
        assert writer.summary_counter.wait_until_indexed(events[-1].id, timeout=30)
        assert _watermarks(db_path) == {session.id: events[-1].id}
        _, more = writer.write(request(session.id, "C"))
        assert writer.summary_counter.wait_until_indexed(more[-1].id, timeout=30)
    finally:
        writer.stop()
    assert _watermarks(db_path) == {session.id: more[-1].id}
    with _connect(db_path) as connection:
        assert list(store.summary(session.id).items()) == list(
            _expected(connection, session.id).items())
        kept = dict(connection.execute(
            "SELECT value, count FROM session_counts WHERE grp = 'by_event'").fetchall())
    assert kept == {"A": 2, "B": 1, "C": 1}
    store.close()
