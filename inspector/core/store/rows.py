"""An event row of the ``events`` table, declared once.

:class:`PendingEvent` is the declaration: its fields are the columns a captured event fills, in
order. The writer inserts them (:data:`EVENT_COLUMNS`), the tail reads them back into the same
class (:func:`pending_from_row`), and the reader selects them (:data:`EVENT_SELECT`) for
:class:`~inspector.core.model.EventRecord`. Rows are read by column name
(:func:`named_rows`), never by position, so a column added here cannot shift another.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

__all__ = ["EVENT_COLUMNS", "EVENT_JOINS", "EVENT_SELECT", "PENDING_FIELDS", "PendingEvent",
           "named_rows", "pending_from_row"]


@dataclass(slots=True)
class PendingEvent:
    """An event ready to be written: indexed columns and JSON text already computed."""

    received_at: float
    write_key: str | None
    type: str | None
    name: str | None
    user_id: str | None
    anonymous_id: str | None
    message_id: str | None
    library: str | None
    status: str
    violation_count: int
    violations_json: str
    payload_json: str | None


#: PendingEvent's fields, in order (the writer's values).
PENDING_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(PendingEvent))
#: Fields whose column is named differently (the field says it holds JSON text).
_COLUMN_OF = {"violations_json": "violations", "payload_json": "payload"}
#: The ``events`` columns of PendingEvent's fields, in the same order.
EVENT_COLUMNS: tuple[str, ...] = tuple(_COLUMN_OF.get(name, name) for name in PENDING_FIELDS)
#: What the reader selects for an event record (alias ``e`` for events, ``s`` for its session,
#: ``k`` for its write key's name), every expression named as the record reads it.
EVENT_SELECT = ", ".join([
    "e.id AS id", "e.session_id AS session_id", "e.request_id AS request_id",
    *(f"e.{column} AS {column}" for column in EVENT_COLUMNS if column != "payload"),
    "s.name AS session_name", "k.name AS source_name",
])
#: The joins EVENT_SELECT needs.
EVENT_JOINS = (
    "JOIN sessions s ON s.id = e.session_id LEFT JOIN write_keys k ON k.write_key = e.write_key"
)


def pending_from_row(row: sqlite3.Row) -> PendingEvent:
    """A stored event's row (selected with at least :data:`EVENT_COLUMNS`) as written."""
    return PendingEvent(*(row[column] for column in EVENT_COLUMNS))


def named_rows(
    connection: sqlite3.Connection, sql: str, params: Sequence[Any] = ()
) -> list[sqlite3.Row]:
    """Run ``sql`` and return rows read by column name (``row["status"]``)."""
    cursor = connection.cursor()
    cursor.row_factory = sqlite3.Row
    return cursor.execute(sql, params).fetchall()
