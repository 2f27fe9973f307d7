"""Event queries: the filters shared by the REST API, the CLI and the GUI."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from inspector.core.model import EventRecord
from inspector.core.store.search import (
    plan_text,
    text_clause,
    text_count_sql,
    text_filter,
    text_ids_sql,
)

__all__ = ["EventQuery", "QueryResult", "count_statement", "page_statement", "union_count",
           "union_select"]


class EventQuery(BaseModel):
    """A filter over stored events; every field narrows the result, ``None`` means any.

    ``q`` is free text matched (case-insensitively) anywhere in the payload. ``since`` is an epoch
    timestamp in seconds or an event id, whichever suits the caller (``since_id`` for polling).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    session_id: int | None = None
    type: str | None = None
    event: str | None = None
    status: list[str] | None = None
    violation_kind: str | None = None
    user_id: str | None = None
    anonymous_id: str | None = None
    any_id: str | None = None
    write_key: str | None = None
    q: str | None = None
    since: float | None = None
    since_id: int | None = None
    limit: int = Field(default=100, ge=0, le=100_000)
    offset: int = Field(default=0, ge=0)
    order: Literal["asc", "desc"] = "asc"

    @property
    def indexed_filter(self) -> bool:
        """Whether a filter other than the session has a secondary index to start from."""
        return bool(self.status) or any(
            value is not None for value in (
                self.type, self.event, self.user_id, self.anonymous_id, self.any_id,
                self.write_key, self.since,
            )
        )

    @property
    def text_only(self) -> bool:
        """Whether ``q`` is the whole filter, besides the session and ``since_id``."""
        return bool(self.q) and not self.status and all(
            value is None for value in (
                self.type, self.event, self.violation_kind, self.user_id, self.anonymous_id,
                self.any_id, self.write_key, self.since,
            )
        )

    def where_clause(
        self, connection: sqlite3.Connection | None = None
    ) -> tuple[str, list[Any]]:
        """SQL ``WHERE`` text and parameters for this filter (always parameterised).

        Given the ``connection`` the statement will run on, ``q`` is answered from the search
        index where it can be (same answers, see :mod:`inspector.core.store.search`).
        """
        clauses: list[str] = []
        params: list[Any] = []

        def equal(column: str, value: object) -> None:
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)

        equal("e.session_id", self.session_id)
        equal("e.type", self.type)
        equal("e.name", self.event)
        equal("e.user_id", self.user_id)
        equal("e.anonymous_id", self.anonymous_id)
        equal("e.write_key", self.write_key)
        if self.any_id is not None:
            clauses.append("(e.user_id = ? OR e.anonymous_id = ?)")
            params.extend([self.any_id, self.any_id])
        if self.status:
            clauses.append(f"e.status IN ({','.join('?' * len(self.status))})")
            params.extend(self.status)
        if self.violation_kind is not None:
            clauses.append(
                "EXISTS (SELECT 1 FROM json_each(e.violations) WHERE "
                "json_extract(json_each.value, '$.kind') = ?)"
            )
            params.append(self.violation_kind)
        if self.q:
            clause, values = text_clause(connection, self.q, self.session_id)
            clauses.append(clause)
            params.extend(values)
        if self.since is not None:
            clauses.append("e.received_at >= ?")
            params.append(self.since)
        if self.since_id is not None:
            clauses.append("e.id > ?")
            params.append(self.since_id)
        where = " AND ".join(clauses) if clauses else "1"
        return where, params


def union_select(select_from: str, where: str, params: Sequence[Any]) -> tuple[str, list[Any]]:
    """``select_from WHERE where`` over every event, written so SQLite can use the indexes.

    The secondary indexes are partial (``indexed = 1``: see schema step 4), and SQLite uses a
    partial index only when the query names its condition; so the filter runs once over the
    indexed rows and once over the (small, separately indexed) tail, joined by ``UNION ALL``.
    An ``ORDER BY 1`` after it is answered by merging the two ordered halves.
    """
    return (
        f"{select_from} WHERE e.indexed = 1 AND ({where}) "
        f"UNION ALL {select_from} WHERE e.indexed = 0 AND ({where})",
        [*params, *params],
    )


def union_count(where: str, params: Sequence[Any]) -> tuple[str, list[Any]]:
    """``SELECT count(*)`` of the events matching ``where``, index-friendly like union_select."""
    return (
        f"SELECT (SELECT count(*) FROM events e WHERE e.indexed = 1 AND ({where})) + "
        f"(SELECT count(*) FROM events e WHERE e.indexed = 0 AND ({where}))",
        [*params, *params],
    )


def page_statement(
    connection: sqlite3.Connection, query: EventQuery, columns: str, joins: str = ""
) -> tuple[str, list[Any]]:
    """``SELECT columns FROM events e joins``: the page ``query`` asks for (limit, offset, order).

    ``columns`` must start with ``e.id``. Run the statement on ``connection``, in the same
    :func:`~inspector.core.store.connection.read_snapshot` as this call: when ``q`` is the whole
    filter, the statement is planned from the search index as this call finds it, and reads the
    first ``limit + offset`` matches straight from the index in id order.
    """
    direction = "DESC" if query.order == "desc" else "ASC"
    if query.q and query.text_only:
        search = plan_text(connection, query.q, query.session_id)
        ids, params = text_ids_sql(search, query.session_id, query.since_id, query.order,
                                   query.limit + query.offset)
        return (
            f"SELECT {columns} FROM ({ids}) AS m JOIN events e ON e.id = m.id {joins} "
            f"ORDER BY e.id {direction} LIMIT ? OFFSET ?",
            [*params, query.limit, query.offset],
        )
    (indexed, indexed_params), (tail, tail_params) = _halves(connection, query)
    select_from = f"SELECT {columns} FROM events e {joins}"
    return (
        f"{select_from} WHERE e.indexed = 1 AND {indexed} "
        f"UNION ALL {select_from} WHERE e.indexed = 0 AND {tail} "
        f"ORDER BY 1 {direction} LIMIT ? OFFSET ?",
        [*indexed_params, *tail_params, query.limit, query.offset],
    )


def count_statement(connection: sqlite3.Connection, query: EventQuery) -> tuple[str, list[Any]]:
    """``SELECT count(*)`` of the events matching ``query`` (ignoring limit and offset).

    Same snapshot rule as :func:`page_statement`. When ``q`` is the whole filter, the count
    comes from the search index alone (plus a scan of the events it has not reached).
    """
    if query.q and query.text_only:
        search = plan_text(connection, query.q, query.session_id)
        return text_count_sql(search, query.session_id, query.since_id)
    (indexed, indexed_params), (tail, tail_params) = _halves(connection, query)
    return (
        f"SELECT (SELECT count(*) FROM events e WHERE e.indexed = 1 AND {indexed}) + "
        f"(SELECT count(*) FROM events e WHERE e.indexed = 0 AND {tail})",
        [*indexed_params, *tail_params],
    )


Clause = tuple[str, list[Any]]


def _halves(connection: sqlite3.Connection, query: EventQuery) -> tuple[Clause, Clause]:
    """``query``'s filter for the events in the secondary indexes, and for the rest.

    The same filter for both (see :func:`union_select`), except for the text: against the
    search index for the first (:func:`~inspector.core.store.search.text_filter`), a scan of
    the payloads for the few events not in the secondary indexes yet.
    """
    if not query.q:
        where, params = query.where_clause(connection)
        return (f"({where})", params), (f"({where})", params)
    others, other_params = query.model_copy(update={"q": None}).where_clause()
    scan, scan_params = text_clause(None, query.q, None)
    search = plan_text(connection, query.q, query.session_id)

    def few_others() -> bool:
        # Walking an index and checking each id against the matches costs about a quarter of
        # reading each match's event (measured: ~1 µs against ~3.5 µs): worth it up to here.
        if not query.indexed_filter:
            return False
        where, params = query.model_copy(update={"q": None, "violation_kind": None}).where_clause()
        row = connection.execute(
            "SELECT count(*) FROM (SELECT 1 FROM events e WHERE e.indexed = 1 AND "
            f"({where}) LIMIT ?)", [*params, OTHER_INDEX_LIMIT + 1]).fetchone()
        return int(row[0]) <= OTHER_INDEX_LIMIT

    text, text_params = text_filter(connection, search, query.since_id, other_index=few_others)
    return ((f"({others}) AND {text}", [*other_params, *text_params]),
            (f"({others}) AND {scan}", [*other_params, *scan_params]))


#: Beside a common text, other filters matching at most this many events are the side SQLite
#: starts from (see :func:`~inspector.core.store.search.text_filter`).
OTHER_INDEX_LIMIT = 150_000


@dataclass(slots=True)
class QueryResult:
    """One page of events and the total number matching the filter."""

    total: int
    events: list[EventRecord]
