"""Free-text search (``EventQuery.q``) from the background FTS5 index: same answers as a scan."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.core.fixes import CorrectionStore
from inspector.core.model import Status
from inspector.core.store import (
    EventQuery,
    EventStore,
    GroupCommitWriter,
    PendingEvent,
    PendingRequest,
)
from inspector.core.store.schema import MIGRATIONS, SCHEMA_VERSION
from inspector.core.store.search import (
    SearchIndexer,
    index_batch,
    index_table,
    indexed_upto,
    match_expression,
)

# Texts that typical searches look for, and characters that mean something to FTS5 or SQL.
PAYLOADS: list[dict[str, Any]] = [
    {"type": "identify", "userId": "user_8412", "traits": {"email": "a@example.com"}},
    {"type": "identify", "userId": "user_84120", "traits": {"email": "Bob.Smith@Example.COM"}},
    {"type": "track", "event": "Order Completed", "properties": {"sku": "MUG-11-BLK",
                                                                 "price": 12.5}},
    {"type": "track", "event": "Product Viewed", "properties": {"sku": "MUG-11-WHT",
                                                                "price": 112.55}},
    {"type": "track", "event": "Café Crème ordered", "properties": {"city": "Zürich",
                                                                     "street": "Straße 5"}},
    {"type": "track", "event": "Kelvin \u212a and dotted \u0130stanbul", "userId": "ÉLODIE"},
    {"type": "track", "event": 'He said "NEAR(a b)" OR * then ^x: col:val', "tags": ["(", ")"]},
    {"type": "track", "event": "emoji 🛒 cart", "properties": {"note": "tab\there"}},
    {"type": "page", "name": "Home", "properties": {"url": "https://shop.example.com/p/123?x=1"}},
    {"type": "track", "event": "aaaa bbbb", "properties": {"empty": ""}},
]

QUERIES = [
    "a@example.com", "example.com", "@example", "user_8412", "user_84", "ser_841", "8412",
    "mug-11-blk", "MUG-11", "11-blk", "-11-", "12.5", "2.5", "112.55", "order completed",
    "ORDER", "Completed\"", '"event"', '"', '""', "'", "*", "OR", " OR ", "NEAR(", "NEAR(a b)",
    "^x", "col:val", "(", ")", "-", ":", "café", "CAFÉ", "crème", "zürich", "ZÜRICH", "straße",
    "\u212a", "k and", "\u0130stanbul", "i̇stanbul", "élodie", "ÉLODIE", "🛒", "🛒 cart",
    "\t", "tab\\there", "aaa", "aaaa", "aaaaa", "a", "ab", "", "no-such-text", "\x00", "x\x00y",
    "https://shop.example.com/p/123?x=1", '"type":"track"', "%", "_", "\\",
]


def _request(session_id: int, payloads: list[str | None]) -> PendingRequest:
    events = [
        PendingEvent(received_at=1.0, write_key="k", type="track", name="E", user_id=None,
                     anonymous_id=None, message_id=None, library=None, status="valid",
                     violation_count=0, violations_json="[]", payload_json=payload)
        for payload in payloads
    ]
    return PendingRequest(session_id=session_id, received_at=1.0, method="POST", path="/v1/b",
                          query=None, remote_addr=None, headers_json="{}", body=None,
                          body_size=0, http_status=200, events=events)


def _write(db: Path, session_id: int, payloads: list[str | None]) -> list[int]:
    """Commit ``payloads`` through the real writer, with no indexer beside it."""
    writer = GroupCommitWriter(db, search_index=False)
    writer.start()
    try:
        _, committed = writer.write(_request(session_id, payloads))
    finally:
        writer.stop()
    return [event.id for event in committed]


def _json(payload: dict[str, Any]) -> str:
    return orjson.dumps(payload).decode()


def _search(store: EventStore, q: str, session_id: int | None) -> list[int]:
    query = EventQuery(session_id=session_id, q=q, limit=100_000)
    return [event.id for event in store.query_events(query, with_payload=False).events]


def _scan(store: EventStore, q: str, session_id: int | None) -> list[int]:
    """The definition of ``q``, without the index: a plain scan of every payload."""
    where, params = EventQuery(session_id=session_id, q=q).where_clause()
    rows = store._reader().execute(f"SELECT e.id FROM events e WHERE {where} ORDER BY e.id",
                                   params)
    return [row[0] for row in rows]


def _uses_index(store: EventStore, q: str, session_id: int | None) -> bool:
    where, _ = EventQuery(session_id=session_id, q=q).where_clause(store._reader())
    return "MATCH" in where


@pytest.fixture
def store(db_path: Path) -> Iterator[EventStore]:
    db = EventStore(db_path)
    yield db
    db.close()


@pytest.fixture
def corpus(store: EventStore) -> tuple[int, int, list[int]]:
    """Two sessions holding the same payloads (plus a NULL one); returns their ids and ours."""
    first = store.create_session("first").id
    second = store.create_session("second").id
    ids = _write(store.path, first, [_json(p) for p in PAYLOADS] + [None])
    _write(store.path, second, [_json(p) for p in PAYLOADS[::-1]])
    return first, second, ids


def _index_everything(store: EventStore) -> None:
    connection = sqlite3.connect(store.path, isolation_level=None)
    try:
        while index_batch(connection, 7)[0]:
            pass
    finally:
        connection.close()


def test_the_scan_itself_means_case_insensitive_substring(
    store: EventStore, corpus: tuple[int, int, list[int]]
) -> None:
    first, _, ids = corpus
    assert _scan(store, "USER_84", first) == [ids[0], ids[1]]
    assert _scan(store, "mug-11-blk", first) == [ids[2]]
    assert _scan(store, "ser_841", first) == [ids[0], ids[1]]


@pytest.mark.parametrize("state", ["caught_up", "lagging", "never_indexed"])
def test_results_are_the_same_however_far_the_index_got(
    store: EventStore, corpus: tuple[int, int, list[int]], state: str
) -> None:
    first, second, _ = corpus
    if state == "caught_up":
        _index_everything(store)
    elif state == "lagging":
        connection = sqlite3.connect(store.path, isolation_level=None)
        # Half of the first session indexed, the rest and the second session in the tail.
        index_batch(connection, len(PAYLOADS) // 2)
        connection.close()
    for session_id in (first, second, None):
        for q in QUERIES:
            assert _search(store, q, session_id) == _scan(store, q, session_id), (q, session_id)
    if state == "never_indexed":
        assert not _uses_index(store, "example", first)
    else:
        assert _uses_index(store, "example", first)
        assert _uses_index(store, "example", None)


def test_the_index_is_used_only_where_it_can_answer(
    store: EventStore, corpus: tuple[int, int, list[int]]
) -> None:
    first, _, _ = corpus
    _index_everything(store)
    assert _uses_index(store, "abc", first)
    assert not _uses_index(store, "ab", first)  # no trigram in two characters
    assert not _uses_index(store, "a\x00b", first)
    missing = store.create_session("nothing indexed yet").id
    assert not _uses_index(store, "abc", missing)
    assert _search(store, "example", missing) == []


@pytest.mark.parametrize("syntax", ['"', '""', "*", "OR", "NEAR(", "a OR b", "x:y", "(a", "^",
                                    "-x", "AND NOT"])
def test_fts_syntax_in_the_text_is_plain_text(syntax: str) -> None:
    q = f"<{syntax}>"
    expression = match_expression(q.lower())
    assert expression is not None
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize='trigram')")
    connection.execute("INSERT INTO t(body) VALUES (?)", (f"before {q.lower()} after",))
    connection.execute("INSERT INTO t(body) VALUES ('unrelated text')")
    assert connection.execute("SELECT count(*) FROM t WHERE t MATCH ?",
                              (expression,)).fetchone() == (1,)


@given(st.text(alphabet="aAbB_-@.1\"* ()éÉ\u212a:", min_size=0, max_size=8))
@settings(max_examples=300, deadline=None)
def test_any_text_gives_the_scan_answer(tmp_path_factory: pytest.TempPathFactory,
                                        q: str) -> None:
    store = _shared_indexed_store(tmp_path_factory)
    assert _search(store, q, None) == _scan(store, q, None)


_SHARED: dict[str, EventStore] = {}


def _shared_indexed_store(factory: pytest.TempPathFactory) -> EventStore:
    # One database for all the examples above: building one per example would dominate.
    if "store" not in _SHARED:
        store = EventStore(factory.mktemp("search") / "shared.sqlite3")
        session = store.create_session("s").id
        texts = ["aAbB_-@.1", 'x"y*z (a)', "éÉ\u212ak", "a:b:c", "___---", "AbAbAb", "1.1.1"]
        _write(store.path, session, [_json({"t": t}) for t in texts] + [_json({"t": "ab"})])
        _index_everything(store)
        _SHARED["store"] = store
    return _SHARED["store"]


def test_the_writer_indexes_in_the_background(store: EventStore) -> None:
    session = store.create_session("live").id
    writer = GroupCommitWriter(store.path)
    writer.start()
    try:
        assert writer.indexer is not None
        _, committed = writer.write(_request(session, [_json(p) for p in PAYLOADS]))
        last = committed[-1].id
        assert writer.indexer.wait_until_indexed(last, timeout=30)
        assert indexed_upto(store._reader()) >= last
        assert _uses_index(store, "user_84", session)
        assert _search(store, "user_84", session) == [committed[0].id, committed[1].id]
    finally:
        writer.stop()


def test_a_writer_without_the_index_leaves_everything_to_the_scan(store: EventStore) -> None:
    session = store.create_session("plain").id
    writer = GroupCommitWriter(store.path, search_index=False)
    writer.start()
    try:
        assert writer.indexer is None
        writer.write(_request(session, [_json(p) for p in PAYLOADS]))
    finally:
        writer.stop()
    assert indexed_upto(store._reader()) == 0
    assert _search(store, "mug-11", session) == _scan(store, "mug-11", session) != []


def test_wait_until_indexed_times_out_when_nothing_indexes(
    store: EventStore, corpus: tuple[int, int, list[int]]
) -> None:
    indexer = SearchIndexer(store.path)
    started = time.monotonic()
    assert not indexer.wait_until_indexed(corpus[2][-1], timeout=0.2)  # never started
    assert time.monotonic() - started < 5


def test_deleting_a_session_drops_its_index_and_ids_that_come_back_are_indexed_anew(
    store: EventStore,
) -> None:
    keep = store.create_session("keep").id
    gone = store.create_session("gone").id
    _write(store.path, keep, [_json({"n": "kept-one"})])
    gone_ids = _write(store.path, gone, [_json({"n": f"gone-{n}"}) for n in range(5)])
    _index_everything(store)
    tables = {row[0] for row in store._reader().execute("SELECT name FROM sqlite_master")}
    assert index_table(gone) in tables
    store.delete_session(gone)
    tables = {row[0] for row in store._reader().execute("SELECT name FROM sqlite_master")}
    assert not {name for name in tables if name.startswith(index_table(gone))}
    assert _search(store, "gone-", None) == []
    # SQLite gives the deleted ids out again: they must count as not indexed yet.
    later = store.create_session("later").id
    reused = _write(store.path, later, [_json({"n": f"later-{n}"}) for n in range(5)])
    assert reused == gone_ids
    assert indexed_upto(store._reader()) < reused[0]
    assert _search(store, "later-", later) == reused
    _index_everything(store)
    assert _uses_index(store, "later-", later)
    assert _search(store, "later-", later) == reused
    assert _search(store, "later-", None) == reused
    assert _search(store, "kept-one", None) == _scan(store, "kept-one", None) != []


def test_revalidation_and_corrections_leave_search_answers_alone(
    store: EventStore, corpus: tuple[int, int, list[int]]
) -> None:
    first, _, ids = corpus
    _index_everything(store)
    store.update_validation([(ids[2], Status.INVALID, [])])
    # q searches what was captured; a correction is a separate, edited copy.
    CorrectionStore(store).save(ids[2], {"type": "track", "event": "Renamed", "sku": "CUP-1"})
    assert _search(store, "mug-11-blk", first) == [ids[2]]
    assert _search(store, "cup-1", first) == _scan(store, "cup-1", first) == []
    for q in QUERIES:
        assert _search(store, q, first) == _scan(store, q, first), q


def test_a_version_2_database_is_upgraded_and_indexed_in_the_background(
    db_path: Path,
) -> None:
    connection = sqlite3.connect(db_path, isolation_level=None)
    for version, script in enumerate(MIGRATIONS[:2], start=1):
        connection.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;")
    connection.execute("INSERT INTO sessions(id, name, created_at) VALUES (1, 'old', 0)")
    connection.executemany(
        "INSERT INTO events(session_id, received_at, status, payload) VALUES (1, 0, 'valid', ?)",
        [(_json(p),) for p in PAYLOADS],
    )
    connection.close()

    store = EventStore(db_path)
    reader = store._reader()
    assert reader.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert indexed_upto(reader) == 0
    before = {q: _search(store, q, 1) for q in QUERIES}
    assert before["mug-11-blk"] == [3]
    indexer = SearchIndexer(db_path)
    indexer.start()
    try:
        assert indexer.wait_until_indexed(len(PAYLOADS), timeout=30)
    finally:
        indexer.stop()
    assert indexer.indexed == len(PAYLOADS)
    assert _uses_index(store, "mug-11-blk", 1)
    assert {q: _search(store, q, 1) for q in QUERIES} == before
