"""The secondary-index builder: brings freshly captured events into the partial indexes.

The capture writer inserts events with ``indexed = 0``, so its commits touch only the table and
two append-only tail indexes; this worker later flips them to ``indexed = 1`` in short batches,
which is when SQLite adds them to the eight secondary indexes (schema step 4). Reads union the
indexed rows with the tail (:func:`inspector.core.store.query.union_select`), so no answer ever
depends on how far it has got; only their speed does, and the tail stays small because the
builder also runs, for a bounded share of the time, while capture is busy.
"""

from __future__ import annotations

import sqlite3
import time

from inspector.core.store.background import CatchUpWorker
from inspector.core.store.connection import immediate_transaction

__all__ = ["IndexBuilder", "build_index_batch"]


def build_index_batch(connection: sqlite3.Connection, limit: int) -> tuple[int, int]:
    """Index up to ``limit`` of the oldest unindexed events in one transaction.

    Returns how many were indexed and the highest id that is now known to be indexed together
    with everything before it (the id of the last event indexed, or the newest id when none were
    left).
    """
    with immediate_transaction(connection):
        count, last = connection.execute(
            "SELECT count(*), max(id) FROM "
            "(SELECT id FROM events WHERE indexed = 0 ORDER BY id LIMIT ?)",
            (limit,),
        ).fetchone()
        if count:
            connection.execute(
                "UPDATE events SET indexed = 1 WHERE indexed = 0 AND id <= ?", (last,)
            )
        else:
            last = connection.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
    return int(count), int(last)


class IndexBuilder(CatchUpWorker):
    """Runs :func:`build_index_batch` beside the capture writer.

    It also works while capture is busy, for ``BUSY_SHARE`` of the time (more when it falls
    behind: see :class:`~inspector.core.store.background.CatchUpWorker`), so that under
    sustained traffic the unindexed tail (which filtered reads scan) stays bounded instead of
    growing for as long as the traffic lasts.
    """

    THREAD_NAME = "inspector-index-builder"
    BUSY_SHARE = 0.15
    #: Falling behind anyway (a machine busy with other work), it takes up to half the time.
    LAG_TARGET = 2.0
    MAX_BUSY_SHARE = 0.5
    HOLD_SECONDS = 0.03

    def do_batch(self, connection: sqlite3.Connection, limit: int) -> tuple[int, int]:
        """Index up to ``limit`` more events."""
        return build_index_batch(connection, limit)

    def lag_seconds(self, connection: sqlite3.Connection) -> float:
        """How long ago the oldest event not in the secondary indexes was received."""
        row = connection.execute(
            "SELECT received_at FROM events INDEXED BY events_tail_by_id WHERE indexed = 0 "
            "ORDER BY id LIMIT 1").fetchone()
        return max(0.0, time.time() - row[0]) if row else 0.0
