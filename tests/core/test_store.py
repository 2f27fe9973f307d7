"""The SQLite store: sessions, write-key names, group commit and WAL housekeeping."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from inspector.core.model import Source, Status, Violation
from inspector.core.store import (
    CommittedEvent,
    EventQuery,
    EventStore,
    GroupCommitWriter,
    PendingEvent,
    PendingRequest,
)
from inspector.core.store.connection import MMAP_BYTES


def request(session_id: int, *names: str) -> PendingRequest:
    events = [
        PendingEvent(received_at=1.0, write_key="k", type="track", name=name, user_id="u",
                     anonymous_id=None, message_id=f"m-{name}", library=None,
                     status="not_validated", violation_count=0, violations_json="[]",
                     payload_json=f'{{"event": "{name}"}}')
        for name in names
    ]
    return PendingRequest(session_id=session_id, received_at=1.0, method="POST", path="/v1/b",
                          query=None, remote_addr=None, headers_json="{}", body=b"{}",
                          body_size=2, http_status=200, events=events)


def test_sessions_are_named_uniquely_renamed_and_deleted(db_path: Path) -> None:
    store = EventStore(db_path)
    first = store.create_session("checkout")
    second = store.create_session("checkout")
    assert second.name == "checkout (2)"
    assert store.open_session("checkout").id == first.id
    with pytest.raises(ValueError, match="already exists"):
        store.rename_session(second.id, "checkout")
    store.rename_session(second.id, "checkout, mobile")
    assert [s.name for s in store.list_sessions()] == ["checkout, mobile", "checkout"]
    store.delete_session(first.id)
    assert [s.name for s in store.list_sessions()] == ["checkout, mobile"]


def test_group_commit_assigns_ids_and_tells_listeners_before_waking_writers(
    db_path: Path,
) -> None:
    store = EventStore(db_path)
    session = store.create_session("s")
    writer = GroupCommitWriter(db_path)
    heard: list[list[CommittedEvent]] = []
    writer.add_listener(heard.append)
    writer.start()
    try:
        futures = [writer.submit(request(session.id, f"E{n}", f"F{n}")) for n in range(50)]
        results = [future.result(timeout=30) for future in futures]
    finally:
        writer.stop()
    ids = [event.id for _, events in results for event in events]
    assert ids == list(range(1, 101))
    assert sum(len(group) for group in heard) == 100
    stored = store.query_events(EventQuery(session_id=session.id, limit=1000)).events
    assert [(e.id, e.name) for e in stored] == [
        (event.id, event.event.name) for _, events in results for event in events
    ]
    assert writer.commits <= 50  # requests that queued together shared a commit


def test_a_failed_commit_fails_every_request_in_it_and_writes_nothing(db_path: Path) -> None:
    store = EventStore(db_path)
    writer = GroupCommitWriter(db_path)
    writer.start()
    try:
        with pytest.raises(Exception, match="FOREIGN KEY"):
            writer.write(request(999, "orphan"))  # no such session
    finally:
        writer.stop()
    assert store.query_events(EventQuery()).total == 0


def test_clean_stop_folds_the_wal_into_the_database(db_path: Path) -> None:
    store = EventStore(db_path)
    session = store.create_session("s")
    writer = GroupCommitWriter(db_path)
    writer.start()
    for n in range(20):
        writer.write(request(session.id, *(f"E{n}-{m}" for m in range(50))))
    writer.stop()
    store.close()
    wal = db_path.with_name(db_path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_update_validation_and_summary(db_path: Path) -> None:
    store = EventStore(db_path)
    session = store.create_session("s")
    writer = GroupCommitWriter(db_path)
    writer.start()
    _, events = writer.write(request(session.id, "A", "B"))
    writer.stop()
    store.update_validation([
        (events[0].id, Status.INVALID,
         [Violation("Invalid Type", "properties.total", "m", source=Source.PLAN)]),
        (events[1].id, Status.VALID, []),
    ])
    summary = store.summary(session.id)
    assert summary["by_status"] == {"invalid": 1, "valid": 1}
    assert summary["by_violation_kind"] == {"Invalid Type": 1}
    invalid = store.query_events(EventQuery(violation_kind="Invalid Type")).events
    assert [e.name for e in invalid] == ["A"]


def test_readers_on_other_threads_see_commits(db_path: Path) -> None:
    store = EventStore(db_path)
    session = store.create_session("s")
    writer = GroupCommitWriter(db_path)
    writer.start()
    writer.write(request(session.id, "A"))
    writer.stop()
    totals: list[int] = []
    reader = threading.Thread(
        target=lambda: totals.append(store.query_events(EventQuery()).total))
    reader.start()
    reader.join()
    assert totals == [1]


def test_a_newer_schema_is_refused(db_path: Path) -> None:
    import sqlite3

    EventStore(db_path).close()
    connection = sqlite3.connect(db_path)
    connection.execute("PRAGMA user_version = 99")
    connection.close()
    with pytest.raises(RuntimeError, match="newer inspector"):
        EventStore(db_path)


def test_requests_submitted_in_one_loop_iteration_share_one_commit(db_path: Path) -> None:
    import asyncio

    store = EventStore(db_path)
    session = store.create_session("s")
    writer = GroupCommitWriter(db_path)
    writer.start()

    async def burst() -> list[tuple[int, list[CommittedEvent]]]:
        # One loop iteration handling 40 requests. Between them the loop releases the GIL (as
        # it does for socket reads and writes), here for a millisecond each: enough for a
        # writer woken by each submission to commit them one by one.
        futures = []
        for n in range(40):
            futures.append(writer.submit_async(request(session.id, f"E{n}")))
            threading.Event().wait(0.001)
        return list(await asyncio.gather(*futures))

    try:
        commits_before = writer.commits
        results = asyncio.run(burst())
    finally:
        writer.stop()
    assert [events[0].event.name for _, events in results] == [f"E{n}" for n in range(40)]
    assert writer.commits - commits_before == 1
    assert store.query_events(EventQuery(session_id=session.id)).total == 40


@pytest.mark.parametrize("sizes", [[85], [1] * 70, [3, 64, 0, 17, 2]])
def test_multi_row_inserts_keep_order_and_ids_for_any_group_shape(
    db_path: Path, sizes: list[int]
) -> None:
    # A group is written in chunks of 64, 16, 4 and 1 rows: every split must line up.
    import asyncio

    store = EventStore(db_path)
    session = store.create_session("s")
    writer = GroupCommitWriter(db_path)
    requests = [request(session.id, *(f"R{r}E{n}" for n in range(size)))
                for r, size in enumerate(sizes)]

    async def one_group() -> list[tuple[int, list[CommittedEvent]]]:
        return list(await asyncio.gather(*(writer.submit_async(each) for each in requests)))

    writer.start()
    try:
        results = asyncio.run(one_group())
    finally:
        writer.stop()
    assert writer.commits == 1
    request_ids = [request_id for request_id, _ in results]
    assert request_ids == list(range(request_ids[0], request_ids[0] + len(sizes)))
    committed = [(e.id, e.request_id, e.event.name) for _, events in results for e in events]
    assert [name for _, _, name in committed] == [
        f"R{r}E{n}" for r, size in enumerate(sizes) for n in range(size)
    ]
    assert all(e.request_id == request_ids[r]
               for r, (_, events) in enumerate(results) for e in events)
    stored = store.query_events(EventQuery(session_id=session.id, limit=10_000))
    assert [(e.id, e.name) for e in stored.events] == [(i, n) for i, _, n in committed]
    assert store.query_events(EventQuery(session_id=session.id)).total == sum(sizes)


def test_the_stores_reads_go_through_a_memory_map(db_path: Path) -> None:
    # bench/field_query.py: a filter reading every eighth row of a million took 0.35 s to
    # reach them through read() calls and 0.10 s through the map.
    store = EventStore(db_path)
    try:
        mapped = store._reader().execute("PRAGMA mmap_size").fetchone()[0]
        assert mapped >= min(MMAP_BYTES, 2**31 - 2**16)  # SQLite caps it at its build's max
    finally:
        store.close()
