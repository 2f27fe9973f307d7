"""The counts an unfiltered ``summary`` gives, kept per session as events arrive.

:class:`SummaryCounter` is a :class:`~inspector.core.store.background.CatchUpWorker`: in short
batches it folds the events of a session above the session's watermark (``counted_upto`` in
``session_counted``) into the session's counts by status, type, event name and violation kind
(``session_counts``, see :mod:`inspector.core.store.schema`), and moves the watermark in the same
transaction. :func:`kept_counts` adds to the counts kept the same counts of the events above the
watermark, read in the same snapshot, so a summary never depends on how far the counter got,
only its speed does: without it, a summary counted every event of the session (0.4 s at 300,000
events, growing with the session).

Whatever changes events below a watermark must keep the counts exact: re-validation
(:meth:`~inspector.core.store.database.EventStore.update_validation`) calls :func:`forget_counts`
in its transaction, and the counter counts those sessions again from their first event; a
deleted session's counts go with it (foreign keys, ``ON DELETE CASCADE``), so a new session that
reuses its id starts from none.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from typing import Any

import orjson

from inspector.core.store.background import CatchUpWorker, session_watermark_lag
from inspector.core.store.connection import immediate_transaction

__all__ = ["COUNTED_COLUMNS", "COUNT_GROUPS", "LIVE_LIMIT", "SummaryCounter", "count_batch",
           "forget_counts", "group_counts", "kept_counts"]

#: The groups of a summary, as it names them.
COUNT_GROUPS = ("by_status", "by_type", "by_event", "by_violation_kind")

#: Counts kept are only used when at most this many ids lie above the watermark: a session the
#: counter has barely started on is counted whole from the covering indexes instead, which is
#: faster than reading that many rows one by one.
LIVE_LIMIT = 50_000

#: ``group, value, count`` of the rows ``{select}`` gives (columns status, type, name,
#: violations, violation_count), NULL values as ``""``: the filter runs once, into a
#: materialised set the four counts group.
_GROUPED = """
WITH m AS MATERIALIZED ({select})
SELECT 'by_status', coalesce(status, ''), count(*) FROM m GROUP BY 2
UNION ALL SELECT 'by_type', coalesce(type, ''), count(*) FROM m GROUP BY 2
UNION ALL SELECT 'by_event', coalesce(name, ''), count(*) FROM m GROUP BY 2
UNION ALL SELECT 'by_violation_kind', coalesce(json_extract(v.value, '$.kind'), ''), count(*)
FROM m, json_each(m.violations) v WHERE m.violation_count > 0 GROUP BY 2
"""

#: What :data:`_GROUPED` reads of each event of ``events e``.
COUNTED_COLUMNS = ("SELECT e.status AS status, e.type AS type, e.name AS name, "
            "e.violations AS violations, e.violation_count AS violation_count FROM events e")

#: Sessions with events above their watermark, and the watermark.
_WAITING = """
SELECT s.id, coalesce(c.counted_upto, 0) FROM sessions s
LEFT JOIN session_counted c ON c.session_id = s.id
WHERE EXISTS (SELECT 1 FROM events e
              WHERE e.session_id = s.id AND e.id > coalesce(c.counted_upto, 0))
ORDER BY s.id
"""


def group_counts(connection: sqlite3.Connection, select: str,
                 params: Sequence[Any]) -> list[tuple[str, str, int]]:
    """``(group, value, count)`` of the events ``select`` gives (a SELECT of status, type,
    name, violations and violation_count), one row per value of each of :data:`COUNT_GROUPS`."""
    return [(str(group), str(value), int(count)) for group, value, count in
            connection.execute(_GROUPED.format(select=select), params)]


def count_batch(connection: sqlite3.Connection, limit: int) -> tuple[int, int]:
    """Fold up to ``limit`` events of the first session that has any above its watermark into
    its kept counts, in one transaction.

    Returns how many events were counted and the highest id up to which every session's
    events are now in its kept counts.
    """
    with immediate_transaction(connection):
        waiting = connection.execute(_WAITING).fetchall()
        if not waiting:
            last = connection.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()
            return 0, int(last[0])
        session_id, upto = waiting[0]
        count, reached = connection.execute(
            "SELECT count(*), max(id) FROM (SELECT id FROM events WHERE session_id = ? "
            "AND id > ? ORDER BY id LIMIT ?)", (session_id, upto, limit)).fetchone()
        rows = group_counts(connection, f"{COUNTED_COLUMNS} WHERE e.session_id = ? AND e.id > ? "
                            "AND e.id <= ?", (session_id, upto, reached))
        connection.executemany(
            "INSERT INTO session_counts(session_id, grp, value, count) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(session_id, grp, value) DO UPDATE SET count = count + excluded.count",
            [(session_id, *row) for row in rows])
        connection.execute(
            "INSERT INTO session_counted(session_id, counted_upto) VALUES (?, ?) "
            "ON CONFLICT(session_id) DO UPDATE SET counted_upto = excluded.counted_upto",
            (session_id, reached))
    return int(count), min(reached if waiting_id == session_id else waiting_upto
                           for waiting_id, waiting_upto in waiting)


def forget_counts(connection: sqlite3.Connection, event_ids: Collection[int]) -> None:
    """Drop the kept counts of the sessions holding ``event_ids`` (whose validation is being
    rewritten, in the caller's transaction): the counter counts them again from their first
    event, and summaries count their events live until it has."""
    sessions = ("SELECT DISTINCT session_id FROM events "
                "WHERE id IN (SELECT value FROM json_each(?))")
    ids = orjson.dumps(sorted(event_ids)).decode()
    connection.execute(f"DELETE FROM session_counts WHERE session_id IN ({sessions})", (ids,))
    connection.execute(f"DELETE FROM session_counted WHERE session_id IN ({sessions})", (ids,))


def kept_counts(connection: sqlite3.Connection,
                session_id: int | None) -> dict[str, dict[str, int]] | None:
    """A session's counts (every session's, for ``None``) by each of :data:`COUNT_GROUPS`:
    the counts kept plus those of the events above the watermark. ``None`` when there are no
    counts kept to start from (or more than :data:`LIVE_LIMIT` ids above them).

    Run it in one snapshot (:func:`~inspector.core.store.connection.read_snapshot`): the
    watermark must describe the counts it reads.
    """
    if session_id is not None:
        row = connection.execute("SELECT counted_upto FROM session_counted WHERE session_id = ?",
                                 (session_id,)).fetchone()
        if row is None:
            return None
        upto = int(row[0])
        # (A bare max(id): SQLite answers it with one seek of the (session_id, id) index.)
        newest = connection.execute("SELECT max(id) FROM events WHERE session_id = ?",
                                    (session_id,)).fetchone()[0]
        if (newest or 0) - upto > LIVE_LIMIT:
            return None
        kept = connection.execute("SELECT grp, value, count FROM session_counts "
                                  "WHERE session_id = ?", (session_id,)).fetchall()
        live = group_counts(connection, f"{COUNTED_COLUMNS} WHERE e.session_id = ? AND e.id > ?",
                            (session_id, upto))
    else:
        uncounted = connection.execute(
            "SELECT 1 FROM sessions s WHERE NOT EXISTS "
            "(SELECT 1 FROM session_counted c WHERE c.session_id = s.id) "
            "AND EXISTS (SELECT 1 FROM events e WHERE e.session_id = s.id) LIMIT 1").fetchone()
        if uncounted is not None:
            return None
        # Ids above each session's watermark, at most (ids are shared by every session): a
        # session finished long ago has its watermark far below the newest id, and nothing
        # above it.
        behind = connection.execute(
            "SELECT coalesce(max(coalesce((SELECT max(e.id) FROM events e "
            "WHERE e.session_id = c.session_id), 0) - c.counted_upto), 0) "
            "FROM session_counted c"
        ).fetchone()[0]
        if behind > LIVE_LIMIT:
            return None
        kept = connection.execute("SELECT grp, value, sum(count) FROM session_counts "
                                  "GROUP BY 1, 2").fetchall()
        # Each session's events above its own watermark, from the (session_id, id) index.
        live = group_counts(connection, COUNTED_COLUMNS.replace(
            "FROM events e", "FROM session_counted c CROSS JOIN events e "
            "WHERE e.session_id = c.session_id AND e.id > c.counted_upto"), ())
    counts: dict[str, dict[str, int]] = {group: {} for group in COUNT_GROUPS}
    for group, value, count in [*kept, *live]:
        counts[group][value] = counts[group].get(value, 0) + int(count)
    return counts


class SummaryCounter(CatchUpWorker):
    """Runs :func:`count_batch` beside the capture writer.

    A summary counts live what it has not reached, so it need not keep up for answers to be
    right; a small share of a busy capture's time, growing as it falls behind, keeps that part
    (and so a summary's time) small under sustained traffic.
    """

    THREAD_NAME = "inspector-summary-counter"
    BUSY_SHARE = 0.05
    LAG_TARGET = 2.0
    MAX_BUSY_SHARE = 0.5
    HOLD_SECONDS = 0.03

    def do_batch(self, connection: sqlite3.Connection, limit: int) -> tuple[int, int]:
        """Count up to ``limit`` more events."""
        return count_batch(connection, limit)

    def lag_seconds(self, connection: sqlite3.Connection) -> float:
        """How long ago the oldest event not in its session's kept counts was received."""
        return session_watermark_lag(connection, _WAITING)
