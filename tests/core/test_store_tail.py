"""Tailing the store from another connection, as the window follows its capture child."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from inspector.core.store import (
    CommittedEvent,
    EventStore,
    GroupCommitWriter,
    PendingEvent,
    PendingRequest,
)
from inspector.core.store.tail import StoreTail


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    db = EventStore(tmp_path / "tail.sqlite3")
    yield db
    db.close()


def _write(store: EventStore, session_id: int, names: list[str]) -> list[CommittedEvent]:
    writer = GroupCommitWriter(store.path)
    writer.start()
    try:
        events = [
            PendingEvent(
                received_at=time.time(), write_key="wk", type="track", name=name,
                user_id="u1", anonymous_id=None, message_id=None, library=None,
                status="valid", violation_count=0, violations_json="[]",
                payload_json=orjson.dumps({"type": "track", "event": name}).decode(),
            )
            for name in names
        ]
        request = PendingRequest(
            session_id=session_id, received_at=time.time(), method="POST", path="/v1/batch",
            query=None, remote_addr="127.0.0.1", headers_json="{}", body=None, body_size=0,
            http_status=200, events=events,
        )
        return writer.write(request)[1]
    finally:
        writer.stop()


def test_delivers_only_what_is_committed_after_opening_in_id_order(store: EventStore) -> None:
    session = store.open_session("s")
    _write(store, session.id, ["Before"])
    tail = StoreTail(store.path, limit=3)
    got: list[CommittedEvent] = []
    tail.add_listener(got.extend)
    tail.open()
    try:
        assert tail.poll() == 0
        written = _write(store, session.id, [f"E{i}" for i in range(7)])
        assert tail.poll() == 7  # three LIMIT-3 queries in one poll
        assert [e.id for e in got] == [e.id for e in written]
        assert got[0] == written[0]  # every field the live table and its filters need
        assert orjson.loads(got[0].event.payload_json or "")["event"] == "E0"
        assert tail.poll() == 0
        assert tail.delivered == 7
    finally:
        tail.close()


def test_worker_thread_follows_another_writer(store: EventStore) -> None:
    session = store.open_session("s")
    _write(store, session.id, ["Old"])
    tail = StoreTail(store.path, interval=0.01)
    arrived = threading.Event()
    got: list[str | None] = []

    def listener(events: list[CommittedEvent]) -> None:
        got.extend(e.event.name for e in events)
        if len(got) >= 2:
            arrived.set()

    tail.add_listener(listener)
    tail.start()
    try:
        _write(store, session.id, ["New 1", "New 2"])
        assert arrived.wait(5)
    finally:
        tail.stop()
    assert got == ["New 1", "New 2"]  # "Old" was there before start()
    assert not tail.running


def test_follows_reused_ids_after_the_newest_events_are_deleted(store: EventStore) -> None:
    old = store.open_session("old")
    newest = store.create_session("newest")
    _write(store, old.id, ["A"])
    _write(store, newest.id, ["B", "C"])
    tail = StoreTail(store.path)
    got: list[int] = []
    tail.add_listener(lambda events: got.extend(e.id for e in events))
    tail.open()
    store.delete_session(newest.id)
    assert tail.poll() == 0  # notices that the maximum went down
    reused = _write(store, old.id, ["D"])
    assert tail.poll() == 1
    assert got == [reused[0].id]
    tail.close()


def test_idle_poll_is_cheap(store: EventStore) -> None:
    session = store.open_session("s")
    _write(store, session.id, [f"E{i}" for i in range(2000)])
    tail = StoreTail(store.path)
    tail.open()
    started = time.perf_counter()
    for _ in range(200):
        tail.poll()
    per_poll = (time.perf_counter() - started) / 200
    tail.close()
    assert per_poll < 0.005  # 20 polls/s then cost < 10% of a core even on a slow CI box


def test_stop_delivers_everything_committed_before_it(store: EventStore) -> None:
    session = store.open_session("s")
    tail = StoreTail(store.path, interval=60)  # would never poll again on its own
    got: list[str | None] = []
    tail.add_listener(lambda events: got.extend(e.event.name for e in events))
    tail.start()
    _write(store, session.id, ["Last"])
    tail.stop()
    assert got == ["Last"]


def test_opens_a_database_that_does_not_exist_yet(tmp_path: Path) -> None:
    tail = StoreTail(tmp_path / "new" / "fresh.sqlite3")
    tail.open()
    try:
        assert tail.last_id == 0
        assert tail.poll() == 0
    finally:
        tail.close()


def test_a_failing_listener_is_reported_and_the_tail_keeps_delivering(store: EventStore) -> None:
    session = store.open_session("s")
    tail = StoreTail(store.path, interval=0.01)
    errors: list[BaseException] = []
    got: list[CommittedEvent] = []
    reported = threading.Event()
    delivered = threading.Condition()

    def broken(_events: list[CommittedEvent]) -> None:
        raise RuntimeError("listener bug")

    def keep(events: list[CommittedEvent]) -> None:
        with delivered:
            got.extend(events)
            delivered.notify_all()

    def on_error(error: BaseException) -> None:
        errors.append(error)
        reported.set()

    tail.add_listener(broken)
    tail.add_listener(keep)
    tail.add_error_listener(on_error)
    tail.start()
    try:
        _write(store, session.id, ["First"])
        assert reported.wait(10)
        _write(store, session.id, ["Second"])  # the thread survived the failure
        with delivered:
            assert delivered.wait_for(lambda: len(got) == 2, 10)
        assert tail.running
    finally:
        tail.stop()
    assert [event.event.name for event in got] == ["First", "Second"]
    assert isinstance(errors[0], RuntimeError)
    assert str(errors[0]) == "listener bug"
