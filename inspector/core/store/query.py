"""Event queries: the filters shared by the REST API, the CLI and the GUI."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from inspector.core.model import PROBLEM_STATUSES, EventRecord
from inspector.core.store.fields import FieldFilter
from inspector.core.store.search import (
    TextSearch,
    checked_clause,
    listed_clause,
    plan_text,
    probe_matches,
    probed_count_sql,
    sum_of,
    text_clause,
    text_count_sql,
    text_ids_sql,
    union_all,
    walked_sql,
)

__all__ = ["SQLITE_MAX_INT", "EventQuery", "Plan", "QueryResult", "count_statement",
           "distinct_in_session", "page_statement", "union_count", "union_group_count",
           "union_select"]


#: The largest integer SQLite stores (a signed 64-bit one); binding a larger one is an error.
SQLITE_MAX_INT = 2**63 - 1


class EventQuery(BaseModel):
    """A filter over stored events; every field narrows the result, ``None`` means any.

    ``q`` is free text matched (case-insensitively) anywhere in the payload. ``since`` is an epoch
    timestamp in seconds or an event id, whichever suits the caller (``since_id`` for polling).
    ``violation_kind`` is matched ignoring case. ``fields`` are typed tests on the payload
    (:mod:`inspector.core.store.fields`), all of which must pass. ``severity``: events having
    at least one violation of one of these severities. ``problems``: events whose status is one
    of :data:`~inspector.core.model.PROBLEM_STATUSES` (invalid, unplanned, malformed) or that
    have any violation at all (a warning too); beside ``status``, either one passes.
    ``until_id`` keeps events below that id (a descending page's cursor).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    session_id: int | None = Field(default=None, ge=0, le=SQLITE_MAX_INT)
    type: str | None = None
    event: str | None = None
    status: list[str] | None = None
    violation_kind: str | None = None
    user_id: str | None = None
    anonymous_id: str | None = None
    any_id: str | None = None
    write_key: str | None = None
    q: str | None = None
    since: float | None = Field(default=None, allow_inf_nan=False)
    since_id: int | None = Field(default=None, ge=0, le=SQLITE_MAX_INT)
    until_id: int | None = Field(default=None, ge=0, le=SQLITE_MAX_INT)
    fields: tuple[FieldFilter, ...] = ()
    severity: list[Literal["error", "warning"]] | None = None
    problems: bool = False
    #: Only these events (a finding's): at most 10,000 ids.
    event_ids: list[int] | None = Field(default=None, max_length=10_000)
    #: Only the events of these identifiers (a person's userIds and anonymousIds).
    person_ids: list[str] | None = Field(default=None, max_length=10_000)
    limit: int = Field(default=100, ge=0, le=100_000)
    offset: int = Field(default=0, ge=0, le=SQLITE_MAX_INT)
    order: Literal["asc", "desc"] = "asc"

    @property
    def indexed_filter(self) -> bool:
        """Whether a filter other than the session has a secondary index to start from."""
        return bool(self.status) or any(
            value is not None for value in (
                self.type, self.event, self.user_id, self.anonymous_id, self.any_id,
                self.write_key, self.since, self.event_ids, self.person_ids,
            )
        )

    @property
    def payload_filter(self) -> bool:
        """Whether a filter reads each event's violations or payload (no index answers it)."""
        return bool(self.fields) or bool(self.severity) or self.problems \
            or self.violation_kind is not None

    @property
    def text_only(self) -> bool:
        """Whether ``q`` is the whole filter, besides the session and ``since_id``."""
        return bool(self.q) and not self.status and not self.payload_filter \
            and self.until_id is None and all(
            value is None for value in (
                self.type, self.event, self.violation_kind, self.user_id, self.anonymous_id,
                self.any_id, self.write_key, self.since, self.event_ids, self.person_ids,
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
        if self.any_id is not None and self.session_id is not None:
            # SQLite plans each side of an OR on its own terms only: spelled out with the
            # session and the half, each side can use its index (events_user, events_anon,
            # events_tail); written plainly, every event of the session was read.
            clauses.append(
                "((e.indexed = 1 AND e.session_id = ? AND e.user_id = ?)"
                " OR (e.indexed = 1 AND e.session_id = ? AND e.anonymous_id = ?)"
                " OR (e.indexed = 0 AND e.session_id = ?"
                " AND (e.user_id = ? OR e.anonymous_id = ?)))"
            )
            params.extend([self.session_id, self.any_id] * 2
                          + [self.session_id, self.any_id, self.any_id])
        elif self.any_id is not None:
            clauses.append("(e.user_id = ? OR e.anonymous_id = ?)")
            params.extend([self.any_id, self.any_id])
        if self.event_ids is not None:
            clauses.append(f"e.id IN ({','.join('?' * len(self.event_ids))})" if self.event_ids
                           else "0")
            params.extend(self.event_ids)
        if self.person_ids is not None:
            marks = ",".join("?" * len(self.person_ids))
            clauses.append(f"(e.user_id IN ({marks}) OR e.anonymous_id IN ({marks}))"
                           if self.person_ids else "0")
            params.extend([*self.person_ids, *self.person_ids])
        statuses = list(self.status or [])
        if self.problems:
            # Either a status a plan or Segment objects to, or any violation (a warning too).
            problems = sorted({*statuses, *(str(status) for status in PROBLEM_STATUSES)})
            clauses.append(f"(e.status IN ({','.join('?' * len(problems))})"
                           " OR e.violation_count > 0)")
            params.extend(problems)
        elif statuses:
            clauses.append(f"e.status IN ({','.join('?' * len(statuses))})")
            params.extend(statuses)
        if self.violation_kind is not None:
            # Kinds are ASCII (Segment's words), so NOCASE's A-Z folding is all it takes.
            clauses.append(
                "EXISTS (SELECT 1 FROM json_each(e.violations) WHERE "
                "json_extract(json_each.value, '$.kind') = ? COLLATE NOCASE)"
            )
            params.append(self.violation_kind)
        if self.severity:
            # A violation stored without a severity is an error (Violation.from_dict).
            clauses.append(
                "e.violation_count > 0 AND EXISTS (SELECT 1 FROM json_each(e.violations) WHERE "
                "coalesce(json_extract(json_each.value, '$.severity'), 'error') IN "
                f"({','.join('?' * len(self.severity))}))"
            )
            params.extend(self.severity)
        for field in self.fields:
            clause, values = field.sql()
            clauses.append(clause)
            params.extend(values)
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
        if self.until_id is not None:
            clauses.append("e.id < ?")
            params.append(self.until_id)
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


def union_group_count(column: str, where: str, params: Sequence[Any]) -> tuple[str, list[Any]]:
    """``value, count`` of the events matching ``where`` per value of ``column`` (an indexed
    column of ``events e``), grouped within each half.

    Grouped inside the indexed half, SQLite answers from the column's own covering index, in
    its order. Grouping only over the union (``union_select``) let it pick another index of the
    session, ``events_received``, and read every event row: 1.1 s instead of 0.06 s for one
    count over 300,000 events, three times per ``summary``.
    """
    half = (f"SELECT e.{column} AS value, count(*) AS n FROM events e "
            f"WHERE e.indexed = {{indexed}} AND ({where}) GROUP BY 1")
    return (f"SELECT value, sum(n) FROM ({half.format(indexed=1)} UNION ALL "
            f"{half.format(indexed=0)}) GROUP BY value", [*params, *params])


Clause = tuple[str, list[Any]]

#: Beside a common text, other filters matching at most this many events are the side SQLite
#: starts from (see :func:`~inspector.core.store.search.checked_clause`).
OTHER_INDEX_LIMIT = 150_000


class Plan:
    """How one ``query`` is answered on one connection; build it, and run its statements, in one
    :func:`~inspector.core.store.connection.read_snapshot`, since it is fitted to the search
    index as found (and may read it to decide).

    Without ``q``: the filter over both halves of :func:`union_select`. With ``q`` alone: read
    straight from the search index (ordered, limited reads per table; the count from the index).
    With ``q`` beside other filters, as :func:`_plan_text_beside` decides.
    """

    def __init__(self, connection: sqlite3.Connection, query: EventQuery) -> None:
        self.query = query
        self.search: TextSearch | None = None
        #: Filters for the two halves of union_select (events in the secondary indexes or not).
        self.halves: tuple[Clause, Clause] | None = None
        #: The filters besides the text, when the statements walk the text's matches.
        self.walk: Clause | None = None
        if not query.q:
            where, params = query.where_clause(connection)
            self.halves = (f"({where})", params), (f"({where})", params)
            return
        self.search = plan_text(connection, query.q, query.session_id)
        if not query.text_only:
            # Same answers (the plan is built and run in one snapshot); fewer checks per match.
            self.query = query = _without_idle_status(connection, query)
            if not query.text_only:
                _plan_text_beside(self, connection)

    def page(self, columns: str, joins: str = "") -> Clause:
        """``SELECT columns FROM events e joins``: the page the query asks for (limit, offset,
        order). ``columns`` must start with ``e.id``."""
        query = self.query
        direction = "DESC" if query.order == "desc" else "ASC"
        if self.halves is not None:
            (indexed, indexed_params), (tail, tail_params) = self.halves
            select_from = f"SELECT {columns} FROM events e {joins}"
            return (
                f"{select_from} WHERE e.indexed = 1 AND {indexed} "
                f"UNION ALL {select_from} WHERE e.indexed = 0 AND {tail} "
                f"ORDER BY 1 {direction} LIMIT ? OFFSET ?",
                [*indexed_params, *tail_params, query.limit, query.offset],
            )
        assert self.search is not None
        if self.walk is not None:
            head = "SELECT {id}" + columns.removeprefix("e.id")
            parts, params = walked_sql(self.search, head, joins, *self.walk, query.since_id)
            return (f"{union_all(parts)} ORDER BY 1 {direction} LIMIT ? OFFSET ?",
                    [*params, query.limit, query.offset])
        ids, params = text_ids_sql(self.search, query.session_id, query.since_id, query.order,
                                   query.limit + query.offset)
        return (
            f"SELECT {columns} FROM ({ids}) AS m JOIN events e ON e.id = m.id {joins} "
            f"ORDER BY e.id {direction} LIMIT ? OFFSET ?",
            [*params, query.limit, query.offset],
        )

    def count(self) -> Clause:
        """``SELECT count(*)`` of the events matching (ignoring limit and offset)."""
        if self.halves is not None:
            (indexed, indexed_params), (tail, tail_params) = self.halves
            return (
                f"SELECT (SELECT count(*) FROM events e WHERE e.indexed = 1 AND {indexed}) + "
                f"(SELECT count(*) FROM events e WHERE e.indexed = 0 AND {tail})",
                [*indexed_params, *tail_params],
            )
        assert self.search is not None
        if self.walk is not None:
            probe = _single_index_filter(self.query)
            if probe is not None:
                return probed_count_sql(self.search, *probe, *self.walk, self.query.since_id)
            parts, params = walked_sql(self.search, "SELECT count(*)", "", *self.walk,
                                       self.query.since_id)
            return sum_of(parts), params
        return text_count_sql(self.search, self.query.session_id, self.query.since_id)


def distinct_in_session(
    connection: sqlite3.Connection, column: str, session_id: int
) -> list[str]:
    """Distinct non-null values of an indexed column in one session, sorted.

    A skip scan of the (session_id, column) partial index, one lookup per distinct value, plus a
    DISTINCT over the small unindexed tail: a dozen names of a million events in 1.5 ms, where
    SELECT DISTINCT over the events read every index entry (1.5 s).
    """
    if column not in ("name", "write_key", "type", "status"):
        raise ValueError(f"not a distinct-able column: {column}")
    indexed = f"FROM events e WHERE e.indexed = 1 AND e.session_id = ? AND e.{column}"
    rows = connection.execute(
        f"WITH RECURSIVE seen(value) AS ("
        f" SELECT (SELECT min(e.{column}) {indexed} IS NOT NULL)"
        f" UNION ALL SELECT (SELECT min(e.{column}) {indexed} > seen.value)"
        f" FROM seen WHERE seen.value IS NOT NULL) "
        f"SELECT value FROM seen WHERE value IS NOT NULL "
        f"UNION SELECT e.{column} FROM events e "
        f"WHERE e.indexed = 0 AND e.session_id = ? AND e.{column} IS NOT NULL ORDER BY 1",
        [session_id, session_id, session_id],
    )
    return [row[0] for row in rows]


def _without_idle_status(connection: sqlite3.Connection, query: EventQuery) -> EventQuery:
    """``query`` without its status filter if every event of the session passes it.

    Filtering a clean session on "valid" is common, and a filter that excludes nothing still
    costs a check per text match; the session's statuses are a skip scan away.
    """
    if not query.status or query.session_id is None or query.problems:
        return query
    present = distinct_in_session(connection, "status", query.session_id)
    if set(present) <= set(query.status):
        return query.model_copy(update={"status": None})
    return query


def _plan_text_beside(plan: Plan, connection: sqlite3.Connection) -> None:
    """Fit ``plan`` for a text beside other filters.

    Which side should lead depends on how common each is, and SQLite cannot estimate a MATCH.
    So the search index is asked first for up to
    :data:`~inspector.core.store.search.PROBE_LIMIT` + 1 ids. If that is all of them, SQLite
    gets the list. If not, the text is common: when the other filters match at most
    :data:`OTHER_INDEX_LIMIT` events (counted from their index, up to one more), SQLite walks
    their index and checks ids against the matches; else the statements walk the matches in id
    order and check the other filters on each event (a page stops early). The half for events
    not in the secondary indexes yet always scans their payloads: they are few.
    """
    query, search = plan.query, plan.search
    assert search is not None
    assert query.q is not None
    others, other_params = query.model_copy(update={"q": None}).where_clause()
    scan, scan_params = text_clause(None, query.q, None)
    tail: Clause = (f"({others}) AND {scan}", [*other_params, *scan_params])
    if not search.indexed:
        plan.halves = tail, tail
        return
    ids = probe_matches(connection, search, query.since_id)
    if ids is not None:
        text, text_params = listed_clause(search, ids, query.since_id)
    elif query.indexed_filter and _at_most(connection, query, OTHER_INDEX_LIMIT):
        text, text_params = checked_clause(search, query.since_id)
    else:
        plan.walk = others, other_params
        return
    plan.halves = (f"({others}) AND {text}", [*other_params, *text_params]), tail


#: Filters that one partial index (keyed on session_id, then the column) answers alone.
_COLUMN_INDEXES = {
    "type": ("events_type", "type"),
    "event": ("events_name", "name"),
    "user_id": ("events_user", "user_id"),
    "anonymous_id": ("events_anon", "anonymous_id"),
    "write_key": ("events_write_key", "write_key"),
}


def _single_index_filter(query: EventQuery) -> tuple[str, str, list[Any]] | None:
    """``(index, clause, params)`` when, besides the text and the session, ``query`` filters on
    one column whose index answers it (see :func:`probed_count_sql`); else ``None``."""
    if query.session_id is None or query.any_id is not None or query.since is not None \
            or query.payload_filter or query.until_id is not None:
        return None
    chosen: list[tuple[str, str, list[Any]]] = []
    if query.status:
        chosen.append(("events_status",
                       f"e.session_id = ? AND e.status IN ({','.join('?' * len(query.status))})",
                       [query.session_id, *query.status]))
    for field, (index, column) in _COLUMN_INDEXES.items():
        value = getattr(query, field)
        if value is not None:
            chosen.append((index, f"e.session_id = ? AND e.{column} = ?",
                           [query.session_id, value]))
    return chosen[0] if len(chosen) == 1 else None


def _at_most(connection: sqlite3.Connection, query: EventQuery, limit: int) -> bool:
    """Whether ``query``'s indexed filters (all but the text and violation kind) match at most
    ``limit`` events, counted from their index."""
    where, params = query.model_copy(update={
        "q": None, "violation_kind": None, "fields": (), "severity": None, "problems": False,
    }).where_clause()
    row = connection.execute(
        "SELECT count(*) FROM (SELECT 1 FROM events e WHERE e.indexed = 1 AND "
        f"({where}) LIMIT ?)", [*params, limit + 1]).fetchone()
    return int(row[0]) <= limit


def page_statement(
    connection: sqlite3.Connection, query: EventQuery, columns: str, joins: str = ""
) -> Clause:
    """``SELECT columns FROM events e joins``: the page ``query`` asks for (see :class:`Plan`:
    run it in the same snapshot as this call)."""
    return Plan(connection, query).page(columns, joins)


def count_statement(connection: sqlite3.Connection, query: EventQuery) -> Clause:
    """``SELECT count(*)`` of the events matching ``query`` (see :class:`Plan`: run it in the
    same snapshot as this call)."""
    return Plan(connection, query).count()


@dataclass(slots=True)
class QueryResult:
    """One page of events and the total number matching the filter."""

    total: int
    events: list[EventRecord]
