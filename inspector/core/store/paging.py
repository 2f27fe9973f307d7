"""Keyset paging for table views: pages without a count, and counts without a page.

:meth:`EventStore.query_events` counts the whole match on every call, which is what an API page
needs but not what a scrolling view needs: a view fetching the next 500 rows of a million-event
session would re-count the million each time. Here the two are separate, pages are fetched by id
(``since_id``), never by ``OFFSET``, and rows carry only the columns a table shows.
"""

from __future__ import annotations

from typing import NamedTuple

import orjson

from inspector.core.store.connection import read_snapshot
from inspector.core.store.database import EventStore
from inspector.core.store.query import (
    EventQuery,
    count_statement,
    distinct_in_session,
    page_statement,
    union_select,
)
from inspector.core.store.writer import CommittedEvent

__all__ = ["EventRow", "count_events", "distinct_values", "event_stats", "matches", "page_events",
           "status_counts"]


class EventRow(NamedTuple):
    """The columns the live-tail table shows, straight from SQL."""

    id: int
    received_at: float
    type: str | None
    name: str | None
    user_id: str | None
    anonymous_id: str | None
    write_key: str | None
    source_name: str | None
    status: str
    violation_count: int


_ROW_COLUMNS = (
    "e.id, e.received_at, e.type, e.name, e.user_id, e.anonymous_id, e.write_key, "
    "k.name, e.status, e.violation_count"
)
_ROW_JOINS = "LEFT JOIN write_keys k ON k.write_key = e.write_key"


def page_events(store: EventStore, query: EventQuery) -> list[EventRow]:
    """Up to ``query.limit`` rows after ``query.since_id`` in ``query.order``; no count."""
    connection = store._reader()
    with read_snapshot(connection):
        rows = connection.execute(
            *page_statement(connection, query, _ROW_COLUMNS, _ROW_JOINS)
        ).fetchall()
    return [EventRow(*row) for row in rows]


def count_events(store: EventStore, query: EventQuery) -> int:
    """How many events match ``query`` (ignoring its limit and offset)."""
    connection = store._reader()
    with read_snapshot(connection):
        count: int = connection.execute(*count_statement(connection, query)).fetchone()[0]
    return count


def matches(query: EventQuery, event: CommittedEvent) -> bool:
    """Whether a just-committed event passes ``query``'s filters, decided without SQL.

    Mirrors :meth:`EventQuery.where_clause` so that live events join a filtered view exactly when
    a fresh query would have returned them.
    """
    pending = event.event
    if query.session_id is not None and event.session_id != query.session_id:
        return False
    for wanted, actual in (
        (query.type, pending.type),
        (query.event, pending.name),
        (query.user_id, pending.user_id),
        (query.anonymous_id, pending.anonymous_id),
        (query.write_key, pending.write_key),
    ):
        if wanted is not None and wanted != actual:
            return False
    if query.any_id is not None and query.any_id not in (pending.user_id, pending.anonymous_id):
        return False
    if query.status and pending.status not in query.status:
        return False
    if query.violation_kind is not None:
        kinds = {item.get("kind") for item in orjson.loads(pending.violations_json)}
        if query.violation_kind not in kinds:
            return False
    if query.q and (
        pending.payload_json is None
        or query.q.casefold() not in pending.payload_json.casefold()
    ):
        return False
    if query.since is not None and pending.received_at < query.since:
        return False
    return query.since_id is None or event.id > query.since_id


def max_event_id(store: EventStore) -> int:
    """The newest event id in the store (0 when empty)."""
    row = store._reader().execute("SELECT max(id) FROM events").fetchone()
    return int(row[0] or 0)


def event_stats(
    store: EventStore, session_id: int | None, through_id: int | None = None
) -> dict[str, tuple[int, int]]:
    """Per track-event name: how many were seen and how many were invalid or malformed.

    ``through_id`` counts only events up to that id, so that live events after it can be added
    to the result one batch at a time without counting any twice.
    """
    # Written out so SQLite sees the partial index's own terms (indexed = 1, type = 'track'):
    # the indexed half is then read from events_track_name alone, grouped in its order.
    filters, params = "", []
    if session_id is not None:
        filters, params = "AND e.session_id = ? ", [session_id]
    if through_id is not None:
        filters, params = f"{filters}AND e.id <= ? ", [*params, through_id]
    half = ("SELECT e.name AS name, count(*) AS seen, "
            "sum(e.status IN ('invalid', 'malformed')) AS bad FROM events e "
            f"WHERE e.indexed = {{indexed}} AND e.type = 'track' {filters}"
            "AND e.name IS NOT NULL GROUP BY e.name")
    rows = store._reader().execute(
        f"SELECT name, sum(seen), sum(bad) FROM ({half.format(indexed=1)} UNION ALL "
        f"{half.format(indexed=0)}) GROUP BY name",
        [*params, *params],
    )
    return {name: (seen, violated or 0) for name, seen, violated in rows}


def distinct_values(store: EventStore, column: str, session_id: int | None) -> list[str]:
    """Distinct non-empty values of an indexed column (``name`` or ``write_key``), sorted."""
    if column not in ("name", "write_key", "type"):
        raise ValueError(f"not a distinct-able column: {column}")
    if session_id is not None:
        return distinct_in_session(store._reader(), column, session_id)
    where, params = EventQuery(session_id=session_id).where_clause()
    select, select_params = union_select(
        f"SELECT e.{column} AS value FROM events e", f"({where}) AND e.{column} IS NOT NULL",
        params)
    rows = store._reader().execute(
        f"SELECT DISTINCT value FROM ({select}) ORDER BY 1", select_params
    )
    return [row[0] for row in rows]


def status_counts(store: EventStore, session_id: int | None) -> dict[str, int]:
    """Events per status (answered from the ``(session_id, status)`` index alone)."""
    where, params = EventQuery(session_id=session_id).where_clause()
    select, select_params = union_select("SELECT e.status AS status FROM events e", where, params)
    rows = store._reader().execute(
        f"SELECT status, count(*) FROM ({select}) GROUP BY status", select_params
    )
    return {status: count for status, count in rows}
