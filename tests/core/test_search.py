"""Free-text search (``EventQuery.q``) from the background FTS5 index: same answers as a scan."""

from __future__ import annotations

import sqlite3
import threading
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
from inspector.core.store import query as query_module
from inspector.core.store import search as search_module
from inspector.core.store.indexing import build_index_batch
from inspector.core.store.paging import matches
from inspector.core.store.schema import MIGRATIONS, SCHEMA_VERSION
from inspector.core.store.search import (
    PAD,
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
    # Capitals beyond ASCII, which SQLite's lower() leaves alone.
    {"type": "track", "event": "CAFÉ CRÈME", "properties": {"note": "ÜBER alles", "city": "ΑΘΗΝΑ",
                                                           "street": "STRASSE 5", "road": "ΟΔΟΣ"}},
]

# Payload texts that are not JSON objects: short texts at the very end, non-ASCII characters
# right after a two-character text, the pad character, control characters.
RAW_PAYLOADS: list[str] = ["zq", "q", "xé", "ü", "éü!", "end with 1}", "pad\x01ded", "\x01",
                           "ctl\x02\x7f", "ab"]

QUERIES = [
    "a@example.com", "example.com", "@example", "user_8412", "user_84", "ser_841", "8412",
    "mug-11-blk", "MUG-11", "11-blk", "-11-", "12.5", "2.5", "112.55", "order completed",
    "ORDER", "Completed\"", '"event"', '"', '""', "'", "*", "OR", " OR ", "NEAR(", "NEAR(a b)",
    "^x", "col:val", "(", ")", "-", ":", "café", "CAFÉ", "crème", "zürich", "ZÜRICH", "straße",
    "\u212a", "k and", "\u0130stanbul", "i̇stanbul", "élodie", "ÉLODIE", "🛒", "🛒 cart",
    "\t", "tab\\there", "aaa", "aaaa", "aaaaa", "a", "ab", "", "no-such-text", "\x00", "x\x00y",
    "https://shop.example.com/p/123?x=1", '"type":"track"', "%", "_", "\\",
    # Two characters: answered from the index since schema 5, at the end of a text too.
    "zq", "Zq", "1}", "}", "xé", "Xé", "é", "éü", "ü!", "e ", " w", "\x01", "d\x01", "\x01d",
    "\x02", "l\x02", "\x7f", 'd"', '""', "\"}", "\t", "ab", "AB", "q", "💰", "🛒 ", "af", "cr",
    "CR", "xé",
    # Unicode case: found in any case, as in a plain case-insensitive (casefold) scan.
    "über", "Über", "ÜBER", "αθηνα", "Αθηνα", "ΑΘΗΝΑ", "café crème", "CAFÉ CRÈME", "Café Crème",
    "crÈme", "straße", "STRASSE", "οδος", "οδοσ", "ΟΔΟΣ", "ος", "ΣΑ", "ü", "Ü",
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
    ids = _write(store.path, first, [_json(p) for p in PAYLOADS] + [None, *RAW_PAYLOADS])
    _write(store.path, second, [_json(p) for p in PAYLOADS[::-1]] + RAW_PAYLOADS[::2])
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
    unicode = len(PAYLOADS) - 1
    for q in ["über", "ΑΘΗΝΑ", "αθηνα", "οδοσ", "ΟΔΟΣ"]:
        assert _scan(store, q, first) == [ids[unicode]], q
    assert _scan(store, "CAFÉ CRÈME", first) == [ids[4], ids[unicode]]  # and "Café Crème"


@pytest.mark.parametrize("indexed", [True, False])
def test_every_query_finds_what_a_python_case_insensitive_scan_finds(
    store: EventStore, corpus: tuple[int, int, list[int]], indexed: bool
) -> None:
    """The definition, outside SQL: ``q`` in the payload text, both Unicode-case-folded."""
    first, _, ids = corpus
    if indexed:
        _index_everything(store)
    texts = [_json(p) for p in PAYLOADS] + [None, *RAW_PAYLOADS]
    for q in QUERIES:
        if not q or "\x00" in q:
            continue  # no filter; SQLite's instr() stops at a NUL, Python's "in" does not
        expected = [event_id for event_id, text in zip(ids, texts, strict=True)
                    if text is not None and q.casefold() in text.casefold()]
        assert _search(store, q, first) == expected, q


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
    assert _uses_index(store, "ab", first)  # every trigram "ab" + c
    assert not _uses_index(store, "a", first)  # one character: the scan
    assert not _uses_index(store, "a\x00b", first)
    assert not _uses_index(store, "a\x01b", first)  # the pad character
    assert not _uses_index(store, "\x01", first)
    missing = store.create_session("nothing indexed yet").id
    assert not _uses_index(store, "abc", missing)
    assert _search(store, "example", missing) == []


def test_the_index_records_the_non_ascii_characters_it_meets(
    store: EventStore, corpus: tuple[int, int, list[int]]
) -> None:
    _index_everything(store)
    recorded = {chr(code) for (code,) in
                store._reader().execute("SELECT codepoint FROM search_alphabet")}
    assert {"é", "ü", "🛒", "α"} <= recorded
    assert not {"\u212a", "Ü", "Α"} & recorded  # folded: Kelvin sign to "k", capitals away
    assert all(not character.isascii() for character in recorded)


def test_a_nul_in_some_text_leaves_two_characters_to_the_scan(
    store: EventStore, corpus: tuple[int, int, list[int]]
) -> None:
    first, second, _ = corpus
    assert _uses_index(store, "zq", None) is False  # nothing indexed yet
    _index_everything(store)
    assert _uses_index(store, "zq", first)
    nul = _write(store.path, second, ["zq\x00q", "x\x00"])
    _index_everything(store)
    # "zq" then NUL cannot be asked of FTS5, so the index no longer answers two characters.
    assert not _uses_index(store, "zq", first)
    assert _uses_index(store, "zqx", first)
    for q in ["zq", "q\x00", "\x00", "x\x00", "zq\x00q", "q"]:
        for session_id in (first, second, None):
            assert _search(store, q, session_id) == _scan(store, q, session_id), q
    assert nul[0] in _search(store, "zq", second)


@pytest.mark.parametrize(("probe", "others"), [(None, None), (0, 0), (0, 10**6), (3, 4)])
def test_text_beside_other_filters_and_paging_give_the_scan_answer(
    store: EventStore, corpus: tuple[int, int, list[int]], monkeypatch: pytest.MonkeyPatch,
    probe: int | None, others: int | None,
) -> None:
    """Text alone goes straight to the index (ordered, limited reads per table and a count from
    the index); beside other filters, it is a list of ids or (when the probe finds more than
    ``probe``) a subquery that SQLite walks or checks ids against, depending on whether the other
    filters match more than ``others``. All of them must page like the scan does."""
    if probe is not None:
        monkeypatch.setattr(search_module, "PROBE_LIMIT", probe)
    if others is not None:
        monkeypatch.setattr(query_module, "OTHER_INDEX_LIMIT", others)
    first, second, _ = corpus
    connection = sqlite3.connect(store.path, isolation_level=None)
    index_batch(connection, len(PAYLOADS) + 4)  # part of the first session; the rest is tail
    connection.close()
    variants: list[dict[str, Any]] = [
        {}, {"order": "desc"}, {"limit": 2}, {"limit": 2, "offset": 3}, {"offset": 50},
        {"limit": 3, "order": "desc", "offset": 1}, {"since_id": 5}, {"since_id": 5, "limit": 1},
        {"limit": 0}, {"status": ["valid"]}, {"type": "track", "order": "desc", "limit": 3},
        {"write_key": "k", "offset": 2}, {"violation_kind": "x"}, {"since": 0.5, "since_id": 3},
        {"status": ["valid", "invalid"], "order": "desc", "offset": 1, "limit": 4},
    ]
    for q in ["example", "e", "ex", "mug", "zq", "Q", "é", "\x01", "track", "no-such-text"]:
        for session_id in (first, second, None):
            for variant in variants:
                query = EventQuery(session_id=session_id, q=q, **variant)
                expected = _scan_query(store, query)
                result = store.query_events(query, with_payload=False)
                assert [e.id for e in result.events] == expected[0], (q, session_id, variant)
                assert result.total == expected[1], (q, session_id, variant)
                assert [row.id for row in store.page_events(query)] == expected[0]
                assert store.count_events(query) == expected[1]
    assert {event.id for event in store.iter_events(EventQuery(q="ex"))} == set(
        _scan(store, "ex", None))


def _scan_query(store: EventStore, query: EventQuery) -> tuple[list[int], int]:
    """The page and total of ``query`` by the plain scan."""
    where, params = query.where_clause()
    direction = "DESC" if query.order == "desc" else "ASC"
    reader = store._reader()
    ids = [row[0] for row in reader.execute(
        f"SELECT e.id FROM events e WHERE {where} ORDER BY e.id {direction} LIMIT ? OFFSET ?",
        [*params, query.limit, query.offset])]
    total = reader.execute(f"SELECT count(*) FROM events e WHERE {where}", params).fetchone()[0]
    return ids, total


def test_live_events_join_a_text_filter_exactly_when_a_query_would_return_them(
    store: EventStore,
) -> None:
    session = store.create_session("live").id
    texts = [_json(p) for p in PAYLOADS] + RAW_PAYLOADS
    writer = GroupCommitWriter(store.path, search_index=False)
    writer.start()
    try:
        _, committed = writer.write(_request(session, [*texts, None]))
    finally:
        writer.stop()
    for q in QUERIES:
        if not q:
            continue
        query = EventQuery(session_id=session, q=q)
        live = [event.id for event in committed if matches(query, event)]
        assert live == _scan(store, q, session), q


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


@pytest.mark.parametrize("pair", ['""', '"a', 'a"', "*a", "a*", "(x", "x)", "^a", ":x", "\t ",
                                  "é\u212a", "\x02\x7f"])
def test_a_two_character_expression_finds_the_text_before_any_character(pair: str) -> None:
    alphabet = ["a", '"', "*", ")", "(", ":", "x", "\x02", "\x7f", "é", "\u212a", " ", PAD]
    expression = match_expression(pair, alphabet)
    assert expression is not None
    connection = sqlite3.connect(":memory:")
    connection.execute(
        "CREATE VIRTUAL TABLE t USING fts5(body, tokenize='trigram case_sensitive 1')")
    texts = [f"{pair}{c}" for c in alphabet] + [f"..{pair}{PAD}", f"{pair[0]}#{pair[1]}{PAD}"]
    connection.executemany("INSERT INTO t(body) VALUES (?)", [(text,) for text in texts])
    found = connection.execute("SELECT rowid FROM t WHERE t MATCH ? ORDER BY rowid",
                               (expression,)).fetchall()
    assert [row[0] for row in found] == list(range(1, len(texts)))


@given(st.text(alphabet="aAbB_-@.1\"* ()éÉ\u212a:\x01\x02\t}", min_size=0, max_size=8))
@settings(max_examples=400, deadline=None)
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
        texts = ["aAbB_-@.1", 'x"y*z (a)', "éÉ\u212ak", "a:b:c", "___---", "AbAbAb", "1.1.1",
                 "t\tb}", "x\x01\x02y"]
        raw = ["aé", "Éb", "b\u212a", "\u212a", "AB", "b", "1", "\x02}", '"*', "a:", "é"]
        _write(store.path, session, [_json({"t": t}) for t in texts] + [_json({"t": "ab"}), *raw])
        _index_everything(store)
        _SHARED["store"] = store
    return _SHARED["store"]


@pytest.mark.parametrize("background", ["thread", "process"])
def test_the_writer_indexes_in_the_background(store: EventStore, background: str) -> None:
    session = store.create_session("live").id
    writer = GroupCommitWriter(store.path, background=background)
    assert writer.background_mode == background
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


def _fill_old_index(connection: sqlite3.Connection, texts: list[str], *, pad: str) -> None:
    """Events of session 1 and the index an older inspector built: lower(payload) + ``pad``."""
    connection.execute("INSERT INTO sessions(id, name, created_at) VALUES (1, 'old', 0)")
    connection.executemany(
        "INSERT INTO events(session_id, received_at, status, payload) VALUES (1, 0, 'valid', ?)",
        [(text,) for text in texts],
    )
    connection.execute("CREATE VIRTUAL TABLE events_fts_1 USING fts5(body, content='', "
                       "columnsize=0, tokenize='trigram case_sensitive 1')")
    connection.execute("INSERT INTO events_fts_1(rowid, body) SELECT id, lower(payload) || ? "
                       "FROM events WHERE payload IS NOT NULL", (pad,))
    connection.execute("UPDATE search_index_state SET indexed_upto = (SELECT max(id) FROM events)")
    connection.close()


def _index_in_background(db_path: Path, count: int) -> None:
    indexer = SearchIndexer(db_path)
    indexer.start()
    try:
        assert indexer.wait_until_indexed(count, timeout=30)
    finally:
        indexer.stop()


def test_a_version_4_index_is_dropped_and_rebuilt_padded(db_path: Path) -> None:
    """Schema 5 pads every indexed text; the unpadded tables of schema 3-4 are rebuilt."""
    connection = sqlite3.connect(db_path, isolation_level=None)
    for version, script in enumerate(MIGRATIONS[:4], start=1):
        assert isinstance(script, str)
        connection.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;")
    texts = [_json(p) for p in PAYLOADS] + RAW_PAYLOADS
    # What the schema 4 indexer left: lower(payload), no pad, watermark at the end.
    _fill_old_index(connection, texts, pad="")

    store = EventStore(db_path)
    reader = store._reader()
    assert reader.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert indexed_upto(reader) == 0
    assert not reader.execute(
        "SELECT name FROM sqlite_master WHERE name LIKE 'events_fts_%'").fetchall()
    default = sqlite3.connect(":memory:").execute("PRAGMA secure_delete").fetchone()[0]
    assert reader.execute("PRAGMA secure_delete").fetchone()[0] == default  # left as it was
    expected = {q: _scan(store, q, 1) for q in QUERIES}
    assert {q: _search(store, q, 1) for q in QUERIES} == expected
    assert _search(store, "1}", 1) == [len(PAYLOADS) + RAW_PAYLOADS.index("end with 1}") + 1]
    _index_in_background(db_path, len(texts))
    assert _uses_index(store, "1}", 1)
    assert {q: _search(store, q, 1) for q in QUERIES} == expected


def test_two_characters_scan_when_the_alphabet_is_too_big_and_parse_up_to_it(
    store: EventStore, corpus: tuple[int, int, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _, _ = corpus
    _index_everything(store)
    assert _uses_index(store, "zq", first)
    monkeypatch.setattr(search_module, "MAX_ALPHABET", 2)  # the corpus holds more than two
    assert not _uses_index(store, "zq", first)
    for q in ["zq", "xé", "af"]:
        assert _search(store, q, first) == _scan(store, q, first), q
    # The largest OR the index is ever asked, for a text that is there.
    alphabet = [chr(0x4E00 + n) for n in range(search_module.MAX_ALPHABET)]
    expression = match_expression("xy", [*alphabet, PAD])
    connection = sqlite3.connect(":memory:")
    connection.execute(
        "CREATE VIRTUAL TABLE t USING fts5(body, tokenize='trigram case_sensitive 1')")
    connection.execute("INSERT INTO t(body) VALUES (?)", (f"..xy{alphabet[-1]}",))
    assert connection.execute("SELECT rowid FROM t WHERE t MATCH ?",
                              (expression,)).fetchall() == [(1,)]


def test_a_status_filter_every_event_passes_is_planned_away_and_others_kept(
    store: EventStore, corpus: tuple[int, int, list[int]], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from inspector.core.store.query import Plan

    monkeypatch.setattr(search_module, "PROBE_LIMIT", 0)  # a common text: walk or probe
    monkeypatch.setattr(query_module, "OTHER_INDEX_LIMIT", 0)
    first, second, ids = corpus
    connection = sqlite3.connect(store.path, isolation_level=None)
    index_batch(connection, len(PAYLOADS) // 2)  # some of the first session searchable
    build_index_batch(connection, len(ids) // 2)  # some in the secondary indexes
    # The second session stays all valid; the first gets problems in both halves.
    for event_id in (ids[1], ids[-2]):
        connection.execute("UPDATE events SET status = 'invalid' WHERE id = ?", (event_id,))
    reader = store._reader()
    for session_id, statuses, planned_away in [
        (second, ["valid"], True), (second, ["valid", "invalid"], True),
        (first, ["valid"], False), (first, ["invalid"], False),
        (first, ["valid", "invalid"], True),
    ]:
        for q in ["example", "ex", "mug"]:
            query = EventQuery(session_id=session_id, q=q, status=statuses, limit=1000)
            expected = _scan_query(store, query)
            assert [e.id for e in store.query_events(query).events] == expected[0]
            assert store.count_events(query) == expected[1]
            plan = Plan(reader, query)
            assert (plan.query.status is None) is planned_away, (session_id, statuses)


def test_a_search_over_every_session_works_with_hundreds_of_sessions(store: EventStore) -> None:
    """One index table per session: SQLite takes at most 500 terms in one compound SELECT (and
    expressions at most 1,000 deep), and every ``serve`` without ``--session`` adds a session."""
    sessions = [store.create_session(f"s{number}").id for number in range(520)]
    writer = GroupCommitWriter(store.path, search_index=False)
    writer.start()
    try:
        for number, session in enumerate(sessions):
            writer.write(_request(session, [_json({"type": "track", "n": f"item-{number}"})]))
    finally:
        writer.stop()
    _index_everything(store)
    _write(store.path, sessions[7], [_json({"type": "track", "n": "item-tail"})])  # the tail
    assert len(search_module.index_tables(store._reader())) > 500
    assert _uses_index(store, "item-", None)
    variants: list[dict[str, Any]] = [
        {}, {"order": "desc", "limit": 5}, {"status": ["valid"]}, {"type": "track", "limit": 3},
        {"since_id": 10, "offset": 2}, {"violation_kind": "x"},
    ]
    for q in ["item-", "item-51", "it", "no-such-text"]:
        for variant in variants:
            query = EventQuery(session_id=None, q=q, **variant)
            expected = _scan_query(store, query)
            result = store.query_events(query, with_payload=False)
            assert [e.id for e in result.events] == expected[0], (q, variant)
            assert result.total == expected[1], (q, variant)
            assert store.count_events(query) == expected[1]
    assert store.summary(None)["total"] == 521
    assert len(_search(store, "item-", None)) == 521


def test_a_version_7_index_folded_by_sqlite_lower_is_dropped_and_rebuilt(db_path: Path) -> None:
    """Schema 8 folds indexed text with str.casefold(); schema 5-7 tables held lower(payload),
    in which "CAFÉ" stayed "cafÉ"."""
    connection = sqlite3.connect(db_path, isolation_level=None)
    for version, step in enumerate(MIGRATIONS[:7], start=1):
        if isinstance(step, str):
            connection.executescript(f"BEGIN;\n{step}\nPRAGMA user_version = {version};\nCOMMIT;")
            continue
        connection.execute("BEGIN")
        step(connection)
        connection.execute(f"PRAGMA user_version = {version}")
        connection.execute("COMMIT")
    connection.execute("INSERT INTO search_alphabet(codepoint) VALUES (201)")  # "É"
    texts = [_json(p) for p in PAYLOADS]
    _fill_old_index(connection, texts, pad=PAD)

    store = EventStore(db_path)
    reader = store._reader()
    assert reader.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert indexed_upto(reader) == 0
    assert reader.execute("SELECT count(*) FROM search_alphabet").fetchone() == (0,)
    unicode = len(PAYLOADS)  # the last payload's id
    assert _search(store, "café crème", 1) == [5, unicode]
    _index_in_background(db_path, len(texts))
    assert _uses_index(store, "café crème", 1)
    assert _search(store, "café crème", 1) == [5, unicode]
    assert _search(store, "αθηνα", 1) == [unicode]
    store.close()


def test_the_indexer_makes_progress_while_capture_never_pauses(db_path: Path) -> None:
    """Sustained traffic (a commit every few milliseconds, never QUIET_SECONDS apart) used to
    keep the indexer from ever starting; now a lag (here: events received a minute ago) gives it
    its share of the time."""
    connection = sqlite3.connect(db_path, isolation_level=None)
    EventStore(db_path).close()  # migrated
    connection.execute("INSERT INTO sessions(id, name, created_at) VALUES (1, 'busy', 0)")
    connection.executemany(
        "INSERT INTO events(session_id, received_at, status, payload) VALUES (1, ?, 'valid', ?)",
        [(time.time() - 60, _json(p)) for p in PAYLOADS],
    )
    connection.close()
    indexer = SearchIndexer(db_path)
    # However long a pause it would wait for: progress must not depend on one ever coming.
    indexer.QUIET_SECONDS = 3600.0
    stop = threading.Event()

    def commits_keep_coming() -> None:
        while not stop.wait(0.005):  # a commit every 5 ms, as under sustained load
            indexer.nudge()

    nudger = threading.Thread(target=commits_keep_coming)
    indexer.nudge()  # capture is already busy when the indexer starts
    nudger.start()
    indexer.start()
    try:
        assert indexer.wait_until_indexed(len(PAYLOADS), timeout=20)
        assert nudger.is_alive()  # indexed while the commits never paused
    finally:
        stop.set()
        nudger.join()
        indexer.stop()
    # None of the time while caught up; the most once a lag target behind.
    assert indexer.busy_share(0.0) == 0.0
    assert indexer.busy_share(60.0) == indexer.MAX_BUSY_SHARE


def test_the_indexer_starts_while_capture_never_pauses_when_it_was_caught_up(
    db_path: Path,
) -> None:
    """Caught up when commits started coming (no work waiting, so no share of a busy capture's
    time), the indexer used to wait for a quiet moment that sustained traffic never gives, and
    never looked at its lag again: the events below arrive "fresh" (received half a second from
    now), so only asking again once they have aged lets it start."""
    connection = sqlite3.connect(db_path, isolation_level=None)
    EventStore(db_path).close()  # migrated
    connection.execute("INSERT INTO sessions(id, name, created_at) VALUES (1, 'busy', 0)")
    connection.executemany(
        "INSERT INTO events(session_id, received_at, status, payload) VALUES (1, ?, 'valid', ?)",
        [(time.time() + 0.5, _json(p)) for p in PAYLOADS],
    )
    connection.close()
    indexer = SearchIndexer(db_path)
    indexer.QUIET_SECONDS = 0.05  # commits come every 5 ms: never this quiet
    stop = threading.Event()

    def commits_keep_coming() -> None:
        while not stop.wait(0.005):  # a commit every 5 ms, as under sustained load
            indexer.nudge()

    nudger = threading.Thread(target=commits_keep_coming)
    indexer.nudge()
    nudger.start()
    indexer.start()
    try:
        assert indexer.wait_until_indexed(len(PAYLOADS), timeout=20)
        assert nudger.is_alive()
    finally:
        stop.set()
        nudger.join()
        indexer.stop()


def test_new_index_tables_merge_segments_eight_at_a_time(
    store: EventStore, corpus: tuple[int, int, list[int]]
) -> None:
    """A layout setting (bench: 20% less CPU to index); test_any_text_gives_the_scan_answer and
    the others above check that answers are unchanged with it."""
    _index_everything(store)
    for session in corpus[:2]:
        table = index_table(session)
        assert store._reader().execute(
            f"SELECT v FROM {table}_config WHERE k = 'automerge'").fetchone() == (8,)
