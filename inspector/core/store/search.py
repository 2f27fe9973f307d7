"""Free-text search over event payloads: an FTS5 trigram index kept up to date in the background.

``EventQuery.q`` means "this text appears in the payload JSON, ignoring ASCII case", i.e.
``instr(lower(payload), lower(q)) > 0``. On a million-event session that scan reads every payload
(about a gigabyte). This module answers the same question from an index without changing a single
answer:

* **What is indexed.** Each session has a contentless FTS5 table ``events_fts_<session id>``
  holding ``lower(payload)`` under the ``trigram`` tokenizer with ``case_sensitive 1``. Because
  the indexed text is already lowered by SQLite's own ``lower()``, a query for ``lower(q)`` that
  requires every trigram of it at consecutive positions (an FTS5 phrase) is exactly a substring
  test on ``lower(payload)``: the index is not a candidate generator, its matches are the answer.
  Token-based tokenizers (unicode61, even with ``tokenchars``) cannot find text inside a token
  (``ser_84`` in ``user_8412``), so they would change what ``q`` means.
* **One table per session** because SQLite here is 3.40 (``contentless_delete`` needs 3.43): a
  row can only be removed from a contentless table by re-tokenizing its text, which for a
  million-event session would hold the write lock for minutes. Deleting a session drops its table.
* **Off the commit path.** The capture writer never touches the index. :class:`SearchIndexer`
  runs beside it on its own thread and connection, is nudged after commits, and indexes new
  events in short transactions of its own, advancing a watermark
  (``search_index_state.indexed_upto``) in the same transaction as the rows it indexed.
* **Always exact and complete.** A search asks the index for ids up to the watermark and scans
  only the tail above it, so a lagging, stopped or disabled indexer makes searches slower, never
  different. Texts shorter than three characters (no trigram) are answered by the scan.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from typing import Any

from inspector.core.store.background import CatchUpWorker
from inspector.core.store.connection import immediate_transaction

__all__ = [
    "INDEX_TABLE_PREFIX",
    "SearchIndexer",
    "index_batch",
    "index_table",
    "indexed_upto",
    "match_expression",
    "text_clause",
]

log = logging.getLogger(__name__)

INDEX_TABLE_PREFIX = "events_fts_"
_INDEX_TABLE = re.compile(rf"{INDEX_TABLE_PREFIX}\d+")

# Stated in SQL so that a query reads the watermark from the same snapshot as the index.
_WATERMARK_SQL = "(SELECT indexed_upto FROM search_index_state WHERE id = 1)"

#: The trigram tokenizer cannot match fewer characters than this.
_MIN_INDEXED_LENGTH = 3


def index_table(session_id: int) -> str:
    """The name of ``session_id``'s FTS table (an int, so safe to splice into SQL)."""
    return f"{INDEX_TABLE_PREFIX}{int(session_id)}"


def match_expression(needle: str) -> str | None:
    """The FTS5 query matching payloads that contain ``needle`` (already lowered), or ``None``.

    The whole needle goes in one double-quoted FTS5 string, in which only ``"`` is special
    (written twice); ``*``, ``OR``, ``NEAR(``, ``:``, parentheses and the like are plain text.
    The trigram tokenizer turns it into a phrase of consecutive trigrams, i.e. a substring.
    ``None`` when the index cannot answer: too short for a trigram, or a NUL character, at
    which SQLite text functions and the FTS5 parser disagree about where the text ends.
    """
    if len(needle) < _MIN_INDEXED_LENGTH or "\x00" in needle:
        return None
    return '"' + needle.replace('"', '""') + '"'


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


def text_clause(
    connection: sqlite3.Connection | None, q: str, session_id: int | None
) -> tuple[str, list[Any]]:
    """SQL (over ``events e``) true when the payload contains ``q``, ignoring ASCII case.

    With a ``connection`` and an index to use, the clause is an ``e.id IN (...)`` over the index
    up to the watermark plus a scan of the tail above it, so the planner starts from the matches
    instead of from every event. Without one, it is the plain scan.
    """
    needle = q.lower()
    # instr() on lower() is a plain substring test: no LIKE wildcards to escape.
    plain = "instr(lower(e.payload), ?) > 0"
    match = match_expression(needle)
    if connection is None or match is None:
        return plain, [needle]
    tables = _existing_tables(connection, session_id)
    if not tables:
        return plain, [needle]
    indexed = " UNION ALL ".join(
        f"SELECT rowid FROM {table} WHERE {table} MATCH ? AND rowid <= {_WATERMARK_SQL}"
        for table in tables
    )
    tail = (
        f"SELECT id FROM events WHERE id > {_WATERMARK_SQL} AND instr(lower(payload), ?) > 0"
    )
    return f"e.id IN ({indexed} UNION ALL {tail})", [*([match] * len(tables)), needle]


def indexed_upto(connection: sqlite3.Connection) -> int:
    """The watermark: every event with an id up to this one is in the index."""
    row = connection.execute(f"SELECT {_WATERMARK_SQL}").fetchone()
    return int(row[0] or 0)


def create_index_table(connection: sqlite3.Connection, session_id: int) -> None:
    """Create ``session_id``'s FTS table if it does not exist yet."""
    table = index_table(session_id)
    # Contentless (the text is in events.payload already) and no per-row sizes (no ranking).
    connection.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5(body, content='', "
        "columnsize=0, tokenize='trigram case_sensitive 1')"
    )


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
    rows added and the watermark all come from one consistent state.
    """
    with immediate_transaction(connection):
        start = indexed_upto(connection)
        count, last = connection.execute(
            "SELECT count(*), max(id) FROM "
            "(SELECT id FROM events WHERE id > ? ORDER BY id LIMIT ?)",
            (start, limit),
        ).fetchone()
        if not count:
            return 0, start
        sessions = [
            row[0]
            for row in connection.execute(
                "SELECT DISTINCT session_id FROM events WHERE id > ? AND id <= ?", (start, last)
            )
        ]
        for session_id in sessions:
            create_index_table(connection, session_id)
            connection.execute(
                f"INSERT INTO {index_table(session_id)}(rowid, body) "
                "SELECT id, lower(payload) FROM events "
                "WHERE id > ? AND id <= ? AND session_id = ? AND payload IS NOT NULL",
                (start, last, session_id),
            )
        connection.execute(
            "UPDATE search_index_state SET indexed_upto = ? WHERE id = 1", (last,)
        )
    return int(count), int(last)


class SearchIndexer(CatchUpWorker):
    """Keeps the search index caught up with the events table, on its own thread.

    Runs beside :class:`~inspector.core.store.writer.GroupCommitWriter` (which owns one and
    calls :meth:`nudge` after each commit) the way the WAL checkpointer does. It yields to
    capture entirely (``BUSY_SHARE = 0``): a batch starts only once ``QUIET_SECONDS`` have passed
    without a commit. (Measured with bench/ingest.py on two cores, indexing during capture, even
    a quarter of the time, cost capture a third of its throughput: the trigram tokenizer competes
    for the CPU, not just for the lock.) Searches stay exact meanwhile; they scan the tail that
    is not indexed yet.
    """

    THREAD_NAME = "inspector-search-index"
    BUSY_SHARE = 0.0

    def do_batch(self, connection: sqlite3.Connection, limit: int) -> tuple[int, int]:
        """Index up to ``limit`` more events."""
        return index_batch(connection, limit)
