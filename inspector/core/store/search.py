"""Free-text search over event payloads: an FTS5 trigram index kept up to date in the background.

``EventQuery.q`` means "this text appears in the payload JSON, ignoring case", i.e.
``instr(fold(payload), fold(q)) > 0``, where :func:`fold` is Unicode case folding
(``str.casefold``: "ÜBER", "Über" and "über" are one text; SQLite's own ``lower()`` folds A-Z
only). Case folding maps each character on its own, with no context (unlike ``lower()``, whose
Greek final sigma depends on the next letter), so ``fold(text)`` contains ``fold(q)`` wherever
``text`` contains ``q`` in any case. On a million-event session that scan reads every payload
(about a gigabyte). This module answers the same question from an index without changing a single
answer:

* **What is indexed.** Each session has a contentless FTS5 table ``events_fts_<session id>``
  holding ``fold(payload)`` followed by one :data:`PAD` character, under the ``trigram``
  tokenizer with ``case_sensitive 1`` (its own ``case_sensitive 0`` folding, unicode61's, is
  not what any function the scan can call does, e.g. for "ß"). Because the
  indexed text is already folded, a query for ``fold(q)`` that requires every trigram of it at
  consecutive positions (an FTS5 phrase) is exactly a substring test on ``fold(payload)``: the
  index is not a
  candidate generator, its matches are the answer, and a count comes straight from it.
  Token-based tokenizers (unicode61, even with ``tokenchars``) cannot find text inside a token
  (``ser_84`` in ``user_8412``), so they would change what ``q`` means.
* **Two characters.** A two-character text has no trigram of its own, but every place it occurs
  starts a trigram: it is followed by another character, at the very end by :data:`PAD`. So it
  occurs exactly where one of the trigrams "text + c" does, for c in the characters the indexed
  texts are made of: ASCII (less A-Z, which folding removed) plus the non-ASCII characters
  the indexer has met, which it records in ``search_alphabet``. One character, a NUL, or
  :data:`PAD` itself is left to the scan.
* **One table per session** because SQLite here is 3.40 (``contentless_delete`` needs 3.43): a
  row can only be removed from a contentless table by re-tokenizing its text, which for a
  million-event session would hold the write lock for minutes. Deleting a session drops its table.
* **Off the commit path.** The capture writer never touches the index. :class:`SearchIndexer`
  runs beside it on its own connection, in a background process of its own (or a thread of
  the writer's process: :mod:`inspector.core.store.derive`), is nudged after commits, and
  indexes new events in short transactions of its own, advancing a watermark
  (``search_index_state.indexed_upto``) in the same transaction as the rows it indexed.
* **Always exact and complete.** A search asks the index for ids up to the watermark and scans
  only the tail above it, so a lagging, stopped or disabled indexer makes searches slower, never
  different. Run the planning (:func:`plan_text`) and the statements built from it on one
  snapshot (:func:`~inspector.core.store.connection.read_snapshot`): the tables and alphabet it
  reads must describe the rows the statements see.

Detail level, measured on 1,000,000 events of ~0.9 KB (bench/search.py, docs/benchmarks.md): a
``detail=none`` index is 4x smaller and twice as fast to build, but keeps no positions, so every
candidate has to be re-read from ``events`` to confirm it; counting a term in 12.5% of the events
then takes 0.5-0.7 s instead of 0.15 s, above the 0.5 s a filter may take. So positions stay.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from inspector.core.store.background import CatchUpWorker
from inspector.core.store.connection import FOLD_FUNCTION, fold, immediate_transaction

__all__ = [
    "FOLD_FUNCTION",
    "INDEX_TABLE_PREFIX",
    "PAD",
    "SearchIndexer",
    "TextSearch",
    "checked_clause",
    "fold",
    "index_batch",
    "index_table",
    "indexed_upto",
    "listed_clause",
    "match_expression",
    "plan_text",
    "probe_matches",
    "sum_of",
    "text_clause",
    "text_count_sql",
    "text_ids_sql",
    "union_all",
    "walked_sql",
]

log = logging.getLogger(__name__)

INDEX_TABLE_PREFIX = "events_fts_"
_INDEX_TABLE = re.compile(rf"{INDEX_TABLE_PREFIX}\d+")

# Stated in SQL so that a query reads the watermark from the same snapshot as the index.
_WATERMARK_SQL = "(SELECT indexed_upto FROM search_index_state WHERE id = 1)"

#: Appended to every indexed text, so that a two-character text at the very end of a payload
#: still starts a trigram. A text containing it is left to the scan.
PAD = "\x01"

#: The characters an indexed text may contain without the indexer recording them: ASCII, less
#: NUL (which the FTS5 query parser cannot take) and A-Z (``lower()`` removed them).
_ASCII = tuple(chr(code) for code in range(1, 128) if not "A" <= chr(code) <= "Z")

#: Above this many non-ASCII characters in the alphabet, two-character texts are left to the
#: scan rather than asked as an OR of that many trigrams.
MAX_ALPHABET = 2000

#: What the scan is: ``instr()`` on the folded text is a plain substring test, no wildcards.
_SCAN = f"instr({FOLD_FUNCTION}({{payload}}), ?) > 0"


#: SQLite refuses a compound SELECT of more than 500 terms (``SQLITE_MAX_COMPOUND_SELECT``) and
#: an expression nested more than 1,000 deep: with one index table per session, a search over
#: every session of a long-used database would exceed both.
_MAX_COMPOUND = 400


def union_all(parts: Sequence[str]) -> str:
    """``parts`` joined by ``UNION ALL``; past :data:`_MAX_COMPOUND` terms, grouped into
    subqueries so that no compound SELECT exceeds SQLite's limit (the rows are the same)."""
    if len(parts) <= _MAX_COMPOUND:
        return " UNION ALL ".join(parts)
    return union_all([
        f"SELECT * FROM ({' UNION ALL '.join(parts[start:start + _MAX_COMPOUND])})"
        for start in range(0, len(parts), _MAX_COMPOUND)
    ])


def sum_of(counts: Sequence[str]) -> str:
    """A statement adding up the one-row, one-column ``SELECT count(*) ...`` statements."""
    if len(counts) <= _MAX_COMPOUND:
        return "SELECT " + " + ".join(f"({count})" for count in counts)
    return f"SELECT sum(n) FROM ({union_all([f'SELECT ({count}) AS n' for count in counts])})"


def index_table(session_id: int) -> str:
    """The name of ``session_id``'s FTS table (an int, so safe to splice into SQL)."""
    return f"{INDEX_TABLE_PREFIX}{int(session_id)}"


def _quoted(text: str) -> str:
    """``text`` as one FTS5 string, in which only ``"`` is special (written twice): ``*``,
    ``OR``, ``NEAR(``, ``:``, parentheses and the like are plain text inside it."""
    return '"' + text.replace('"', '""') + '"'


def match_expression(needle: str, alphabet: Sequence[str] | None = None) -> str | None:
    """The FTS5 query matching indexed texts that contain ``needle`` (already folded).

    Three characters or more: the needle as one FTS5 phrase, which the trigram tokenizer turns
    into consecutive trigrams, i.e. a substring. Two characters: "needle + c" for every c in
    ``alphabet`` (the characters indexed texts can contain; without it, no answer), ORed.
    ``None`` when the index cannot answer: one character, or a NUL (at which SQLite text
    functions and the FTS5 parser disagree about where the text ends), or :data:`PAD`.
    """
    if "\x00" in needle or PAD in needle or len(needle) < 2:
        return None
    if len(needle) >= 3:
        return _quoted(needle)
    if alphabet is None:
        return None
    return " OR ".join(_quoted(needle + character) for character in alphabet)


def _existing_tables(connection: sqlite3.Connection, session_id: int | None) -> list[str]:
    if session_id is not None:
        name = index_table(session_id)
        row = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).fetchone()
        return [name] if row else []
    rows = connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ?",
        (INDEX_TABLE_PREFIX + "%",),
    )
    return sorted(name for (name,) in rows if _INDEX_TABLE.fullmatch(name))


def _alphabet(connection: sqlite3.Connection) -> list[str] | None:
    """Every character an indexed text can contain, or ``None`` if that includes NUL or too
    many to ask for."""
    codes = [row[0] for row in connection.execute(
        f"SELECT codepoint FROM search_alphabet ORDER BY codepoint LIMIT {MAX_ALPHABET + 1}")]
    if len(codes) > MAX_ALPHABET or (codes and codes[0] == 0):
        return None
    return [*_ASCII, *map(chr, codes)]


@dataclass(frozen=True, slots=True)
class TextSearch:
    """How to answer ``q`` on one connection.

    ``match`` over each of ``tables`` finds the matches up to the watermark; the events above it
    are scanned. Without a ``match`` or any table, the scan covers every event.
    """

    needle: str
    match: str | None
    tables: tuple[str, ...]

    @property
    def indexed(self) -> bool:
        """Whether the index answers (for all but the tail)."""
        return self.match is not None and bool(self.tables)


def plan_text(
    connection: sqlite3.Connection | None, q: str, session_id: int | None
) -> TextSearch:
    """Decide how to answer ``q`` (within ``session_id``, if given) on ``connection``."""
    needle = q.casefold()
    if connection is None:
        return TextSearch(needle, None, ())
    alphabet = _alphabet(connection) if len(needle) == 2 else None
    match = match_expression(needle, alphabet)
    if match is None:
        return TextSearch(needle, None, ())
    return TextSearch(needle, match, tuple(_existing_tables(connection, session_id)))


def text_clause(
    connection: sqlite3.Connection | None, q: str, session_id: int | None
) -> tuple[str, list[Any]]:
    """SQL (over ``events e``) true when the payload contains ``q``, ignoring ASCII case.

    What :meth:`~inspector.core.store.query.EventQuery.where_clause` puts in a ``WHERE`` that
    any statement can use. With a ``connection`` and an index to use, the clause is an
    ``e.id IN (...)`` over the index up to the watermark plus a scan of the tail above it, so the
    planner can start from the matches instead of from every event; without one, it is the
    plain scan. The store's own statements (:class:`~inspector.core.store.query.Plan`) do
    better: they read the index in order with a limit, or probe it first (:func:`text_ids_sql`,
    :func:`text_count_sql`, :func:`probe_matches` and the clauses after it).
    """
    search = plan_text(connection, q, session_id)
    if not search.indexed:
        return _SCAN.format(payload="e.payload"), [search.needle]
    assert search.match is not None
    scan = _SCAN.format(payload="payload")
    tail = f"SELECT id FROM events WHERE id > {_WATERMARK_SQL} AND {scan}"
    selects = union_all([
        *(f"SELECT rowid FROM {table} WHERE {table} MATCH ? AND rowid <= {_WATERMARK_SQL}"
          for table in search.tables),
        tail,
    ])
    return (f"e.id IN ({selects})",
            [*([search.match] * len(search.tables)), search.needle])


#: Beside other filters, a text with at most this many indexed matches is handed to the statement
#: as a list of ids (read first, with a limit of one more); a more common one is not listed.
PROBE_LIMIT = 10_000


def probe_matches(
    connection: sqlite3.Connection, search: TextSearch, since_id: int | None
) -> list[int] | None:
    """Every indexed match (above ``since_id``) if there are at most :data:`PROBE_LIMIT`, in id
    order per table; ``None`` if there are more (then this read stopped after that many)."""
    assert search.indexed
    ids: list[int] = []
    for table in search.tables:
        sql, values = _indexed_sql(table, since_id)
        ids.extend(row[0] for row in connection.execute(
            f"SELECT rowid {sql} ORDER BY rowid LIMIT ?",
            [search.match, *values, PROBE_LIMIT + 1 - len(ids)]))
        if len(ids) > PROBE_LIMIT:
            return None
    return ids


def listed_clause(
    search: TextSearch, ids: list[int], since_id: int | None
) -> tuple[str, list[Any]]:
    """SQL (over ``events e``): one of the listed ``ids`` (from :func:`probe_matches`), or a
    match above the watermark. SQLite reads those few events, or checks them against the index
    of another filter, as it sees fit."""
    tail, tail_params = _tail_sql(search, None, since_id)
    return (f"e.id IN (SELECT value FROM json_each(?) UNION ALL SELECT id {tail})",
            [json.dumps(ids), *tail_params])


def checked_clause(search: TextSearch, since_id: int | None) -> tuple[str, list[Any]]:
    """SQL (over ``events e``) for a common text beside filters with an index of their own:
    SQLite walks that index and checks each id against the matches (``+e.id``, which no index
    can answer), so it never reads an event the other filters rule out."""
    assert search.match is not None
    tail, tail_params = _tail_sql(search, None, since_id)
    parts: list[str] = []
    params: list[Any] = []
    for table in search.tables:
        sql, values = _indexed_sql(table, since_id)
        parts.append(f"SELECT rowid {sql}")
        params.extend([search.match, *values])
    return (f"+e.id IN ({union_all([*parts, f'SELECT id {tail}'])})",
            [*params, *tail_params])


def walked_sql(
    search: TextSearch, head: str, joins: str, where: str, params: Sequence[Any],
    since_id: int | None,
) -> tuple[list[str], list[Any]]:
    """Statements walking the matches in id order and checking ``where`` on each event: one per
    index table (``f``, joined to ``events e``), and one for the events above the watermark.

    For a common text beside filters that match many events. Each statement is
    ``head FROM ... WHERE ...``, where ``{id}`` in ``head`` stands for the event id, so that a
    statement can be ordered by the index's own order (``f.rowid``); several are merged in order
    by ``UNION ALL ... ORDER BY 1``, which SQLite does lazily, so a page stops early.
    """
    assert search.match is not None
    parts: list[str] = []
    values: list[Any] = []
    since = "" if since_id is None else " AND f.rowid > ?"
    for table in search.tables:
        parts.append(f"{head.format(id='f.rowid')} FROM {table} f "
                     f"CROSS JOIN events e ON e.id = f.rowid {joins} "
                     f"WHERE f.{table} MATCH ? AND f.rowid <= {_WATERMARK_SQL}{since} "
                     f"AND ({where})")
        values.extend([search.match, *([] if since_id is None else [since_id]), *params])
    parts.append(f"{head.format(id='e.id')} FROM events e {joins} WHERE e.id > {_WATERMARK_SQL} "
                 f"AND ({where}) AND {_SCAN.format(payload='e.payload')}")
    values.extend([*params, search.needle])
    return parts, values


def probed_count_sql(
    search: TextSearch, index: str, column_where: str, column_params: Sequence[Any],
    where: str, params: Sequence[Any], since_id: int | None,
) -> tuple[str, list[Any]]:
    """``SELECT count(*)`` of a common text beside one filter that ``index`` answers alone.

    :func:`walked_sql` checks the filter on each match's event row, and reading 125,000 rows
    of a million-event session takes 0.6 s. Here each match is looked up in the filter's own
    index instead (``column_where``, which must hold ``e.session_id = ?``: a seek, no row), or,
    for a match not in the secondary indexes yet, checked on its row (``where``) after a seek in
    the small tail index finds it there.
    """
    assert search.match is not None
    since = "" if since_id is None else " AND f.rowid > ?"
    parts: list[str] = []
    values: list[Any] = []
    for table in search.tables:
        parts.append(
            f"SELECT count(*) FROM {table} f "
            f"WHERE f.{table} MATCH ? AND f.rowid <= {_WATERMARK_SQL}{since} AND ("
            f"EXISTS (SELECT 1 FROM events e INDEXED BY {index} WHERE e.indexed = 1 "
            f"AND {column_where} AND e.id = f.rowid) "
            f"OR EXISTS (SELECT 1 FROM events e INDEXED BY events_tail_by_id "
            f"WHERE e.indexed = 0 AND e.id = f.rowid AND ({where})))")
        values.extend([search.match, *([] if since_id is None else [since_id]),
                       *column_params, *params])
    parts.append(f"SELECT count(*) FROM events e WHERE e.id > {_WATERMARK_SQL} "
                 f"AND ({where}) AND {_SCAN.format(payload='e.payload')}")
    values.extend([*params, search.needle])
    return sum_of(parts), values


def _tail_sql(
    search: TextSearch, session_id: int | None, since_id: int | None
) -> tuple[str, list[Any]]:
    """``FROM events WHERE ...``: the events the index does not answer for, that match."""
    clauses: list[str] = []
    params: list[Any] = []
    if search.indexed:
        clauses.append(f"id > {_WATERMARK_SQL}")
    if session_id is not None:
        clauses.append("session_id = ?")
        params.append(session_id)
    if since_id is not None:
        clauses.append("id > ?")
        params.append(since_id)
    clauses.append(_SCAN.format(payload="payload"))
    params.append(search.needle)
    return f"FROM events WHERE {' AND '.join(clauses)}", params


def _indexed_sql(table: str, since_id: int | None) -> tuple[str, list[Any]]:
    """``FROM <table> WHERE ...``: the indexed matches in one table."""
    since = "" if since_id is None else " AND rowid > ?"
    return (f"FROM {table} WHERE {table} MATCH ? AND rowid <= {_WATERMARK_SQL}{since}",
            [] if since_id is None else [since_id])


def text_ids_sql(
    search: TextSearch,
    session_id: int | None,
    since_id: int | None,
    order: Literal["asc", "desc"],
    limit: int,
) -> tuple[str, list[Any]]:
    """A statement listing the first ``limit`` ids (in ``order``) of the events matching.

    Each part (every index table, then the tail) is read in id order and stops after ``limit``
    rows, so a term in every eighth event costs no more than a rare one: no part lists all its
    matches. The result is one column, ``id``.
    """
    direction = "DESC" if order == "desc" else "ASC"
    parts: list[str] = []
    params: list[Any] = []
    if search.indexed:
        for table in search.tables:
            sql, values = _indexed_sql(table, since_id)
            parts.append(f"SELECT id FROM (SELECT rowid AS id {sql} "
                         f"ORDER BY rowid {direction} LIMIT ?)")
            params.extend([search.match, *values, limit])
    sql, values = _tail_sql(search, session_id, since_id)
    parts.append(f"SELECT id FROM (SELECT id {sql} ORDER BY id {direction} LIMIT ?)")
    params.extend([*values, limit])
    return f"{union_all(parts)} ORDER BY 1 {direction} LIMIT ?", [*params, limit]


def text_count_sql(
    search: TextSearch, session_id: int | None, since_id: int | None
) -> tuple[str, list[Any]]:
    """A statement counting the events matching, straight from the index up to the watermark.

    Only valid when the text is the whole filter (besides the session and ``since_id``): the
    index tables hold one session each and nothing else about the events.
    """
    parts: list[str] = []
    params: list[Any] = []
    if search.indexed:
        for table in search.tables:
            sql, values = _indexed_sql(table, since_id)
            parts.append(f"SELECT count(*) {sql}")
            params.extend([search.match, *values])
    sql, values = _tail_sql(search, session_id, since_id)
    parts.append(f"SELECT count(*) {sql}")
    params.extend(values)
    return sum_of(parts), params


def indexed_upto(connection: sqlite3.Connection) -> int:
    """The watermark: every event with an id up to this one is in the index."""
    row = connection.execute(f"SELECT {_WATERMARK_SQL}").fetchone()
    return int(row[0] or 0)


#: FTS5's ``automerge`` for new index tables (its default is 4): merge segments 8 at a time.
#: Indexing 100,000 ~1 KB events in batches of 2,000 took 171 µs of CPU per event with 4 and
#: 136 with 8 or 16 (fewer, larger merges rewrite each posting list fewer times); reading
#: matches costs a little more with more segments per level (50 ``q`` of a 1-in-500 text,
#: limit 50: 40 ms with 4, 44 with 8, 54 with 16). It changes no answer, only the layout.
AUTOMERGE = 8


def create_index_table(connection: sqlite3.Connection, session_id: int) -> None:
    """Create ``session_id``'s FTS table if it does not exist yet."""
    table = index_table(session_id)
    if connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                          (table,)).fetchone():
        return
    # Contentless (the text is in events.payload already) and no per-row sizes (no ranking).
    connection.execute(
        f"CREATE VIRTUAL TABLE {table} USING fts5(body, content='', "
        "columnsize=0, tokenize='trigram case_sensitive 1')"
    )
    connection.execute(
        f"INSERT INTO {table}({table}, rank) VALUES ('automerge', {AUTOMERGE})")


def index_tables(connection: sqlite3.Connection) -> list[str]:
    """Every session's FTS table."""
    return _existing_tables(connection, None)


def drop_index(connection: sqlite3.Connection, session_id: int) -> None:
    """Forget ``session_id``'s index; call in the transaction that deletes its events.

    Lowering the watermark to the highest surviving id matters: SQLite hands out
    ``max(id) + 1`` to the next event, so once the newest events are gone their ids come back,
    and a watermark above them would claim new, unindexed events were indexed.
    """
    connection.execute(f"DROP TABLE IF EXISTS {index_table(session_id)}")
    connection.execute(
        "UPDATE search_index_state SET indexed_upto = "
        "min(indexed_upto, (SELECT coalesce(max(id), 0) FROM events)) WHERE id = 1"
    )


def index_batch(connection: sqlite3.Connection, limit: int) -> tuple[int, int]:
    """Index up to ``limit`` events above the watermark in one transaction.

    Returns how many were indexed and the new watermark. ``connection`` must not be in a
    transaction; this takes the write lock (``BEGIN IMMEDIATE``) so that the events read, the
    rows added, the characters recorded and the watermark all come from one consistent state.
    """
    with immediate_transaction(connection):
        start = indexed_upto(connection)
        rows = connection.execute(
            "SELECT id, session_id, payload FROM events WHERE id > ? ORDER BY id LIMIT ?",
            (start, limit),
        ).fetchall()
        if not rows:
            return 0, start
        texts: dict[int, list[tuple[int, str]]] = {}
        seen: set[str] = set()
        for event_id, session_id, payload in rows:
            batch = texts.setdefault(session_id, [])
            if payload is None:
                continue
            text = payload.casefold()
            if not text.isascii():
                seen.update(text)
            elif "\x00" in text:
                seen.add("\x00")
            batch.append((event_id, text + PAD))
        for session_id, batch in texts.items():
            create_index_table(connection, session_id)
            connection.executemany(
                f"INSERT INTO {index_table(session_id)}(rowid, body) VALUES (?, ?)", batch
            )
        recorded = sorted(ord(character) for character in seen
                          if character == "\x00" or not character.isascii())
        if recorded:
            connection.executemany(
                "INSERT OR IGNORE INTO search_alphabet(codepoint) VALUES (?)",
                [(code,) for code in recorded],
            )
        last = rows[-1][0]
        connection.execute(
            "UPDATE search_index_state SET indexed_upto = ? WHERE id = 1", (last,)
        )
    return len(rows), int(last)


class SearchIndexer(CatchUpWorker):
    """Keeps the search index caught up with the events table, on its own thread.

    Runs beside :class:`~inspector.core.store.writer.GroupCommitWriter`, nudged after each
    commit, in the writer's background process (or, with ``INSPECTOR_BACKGROUND=thread``, in
    the writer's own process: :mod:`inspector.core.store.derive`). While capture
    keeps committing, it takes a share of the time that grows with its lag (the age of the
    oldest event not indexed yet): none while caught up, up to ``MAX_BUSY_SHARE`` at
    ``LAG_TARGET`` seconds behind. (It used to wait for ``QUIET_SECONDS`` without a commit, which
    under sustained traffic never came: searches then scanned an ever longer tail. At full
    capture speed indexing does compete for the CPU, not just the lock, measured with
    bench/ingest.py: a quarter of the time cost capture a third of its throughput; at a rate
    the machine keeps up with, bench/soak.py measures what it costs.) Searches stay exact
    meanwhile; they scan the tail that is not indexed yet.
    """

    THREAD_NAME = "inspector-search-index"
    BUSY_SHARE = 0.0
    LAG_TARGET = 2.0
    MAX_BUSY_SHARE = 0.7
    #: Longer transactions than the other workers': fewer, larger FTS5 segments to merge.
    HOLD_SECONDS = 0.1

    def do_batch(self, connection: sqlite3.Connection, limit: int) -> tuple[int, int]:
        """Index up to ``limit`` more events."""
        return index_batch(connection, limit)

    def lag_seconds(self, connection: sqlite3.Connection) -> float:
        """How long ago the oldest event not indexed yet was received (0: none)."""
        row = connection.execute(
            f"SELECT received_at FROM events WHERE id > {_WATERMARK_SQL} ORDER BY id LIMIT 1"
        ).fetchone()
        return max(0.0, time.time() - row[0]) if row else 0.0
