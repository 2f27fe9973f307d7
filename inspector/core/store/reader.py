"""The reader facade: every read of the event store, as named methods.

The REST API, the CLI and the window run no SQL and never reach for a connection: they ask an
:class:`EventReader` (the read half of :class:`~inspector.core.store.database.EventStore`) for
what they need (the corrections and replay stores own their tables, and join events there).
Rows are read by column name (:func:`~inspector.core.store.rows.named_rows`); which statuses
count as problems is :data:`~inspector.core.model.PROBLEM_STATUSES` / ``VIOLATED_STATUSES``,
also in SQL.

Each thread gets its own connection (sqlite3 connections are not meant to be shared across
threads while in use); all of them see every committed write.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import orjson

from inspector.core.model import VIOLATED_STATUSES, EventRecord, Status, Violation
from inspector.core.store.connection import read_snapshot
from inspector.core.store.counts import COUNT_GROUPS, COUNTED_COLUMNS, group_counts, kept_counts
from inspector.core.store.paging import EventRow
from inspector.core.store.query import (
    SQLITE_MAX_INT,
    EventQuery,
    Plan,
    QueryResult,
    count_statement,
    distinct_in_session,
    page_statement,
    union_group_count,
    union_select,
)
from inspector.core.store.rows import EVENT_JOINS, EVENT_SELECT, named_rows
from inspector.core.store.search import indexed_upto

__all__ = ["CallFilter", "CallRow", "EventReader", "FlowRow", "SessionInfo"]


class CallRow(NamedTuple):
    """The columns the audits read of one event (a projection of the one row declaration,
    :class:`~inspector.core.store.rows.PendingEvent`; selected by these names, in order)."""

    id: int
    received_at: float
    write_key: str | None
    type: str | None
    name: str | None
    user_id: str | None
    anonymous_id: str | None
    message_id: str | None
    payload: str | None


_CALL_SELECT = ", ".join(CallRow._fields)


@dataclass(frozen=True, slots=True)
class CallFilter:
    """Calls picked by indexed columns: each set given must hold the call's value (``None``:
    any value)."""

    types: frozenset[str] | None = None
    names: frozenset[str] | None = None
    write_keys: frozenset[str] | None = None


class FlowRow(NamedTuple):
    """A :class:`CallRow` (its first nine fields) read for a flow: the payload only when
    :attr:`candidate` (or the call is an identify or alias); else ``email`` is its
    ``context.traits.email`` when that is a string."""

    id: int
    received_at: float
    write_key: str | None
    type: str | None
    name: str | None
    user_id: str | None
    anonymous_id: str | None
    message_id: str | None
    payload: str | None
    candidate: int
    email: str | None


#: Whether a row's payload is read, and the context email of the ones whose payload is not
#: (``{wanted}``: the candidate test, ``{cases}``: wanted or an identify / alias). SQLite's
#: JSON functions run only on rows that mention "email" (or hold an escape).
_FLOW_SELECT = (
    "SELECT id, received_at, write_key, type, name, user_id, anonymous_id, message_id, "
    "CASE WHEN {cases} THEN payload END, {wanted}, "
    "CASE WHEN NOT ({cases}) AND (instr(payload, '\"email\"') > 0 "
    "OR instr(payload, '\\') > 0) AND json_valid(payload) "
    "AND json_type(payload, '$.context.traits.email') = 'text' "
    "THEN json_extract(payload, '$.context.traits.email') END "
    "FROM events WHERE session_id = ?{only} AND id > ? ORDER BY id LIMIT ?")


#: :data:`_FLOW_SELECT`'s columns for candidates alone (``{only}`` picks them).
_FLOW_CANDIDATES = (
    "SELECT id, received_at, write_key, type, name, user_id, anonymous_id, message_id, "
    "payload, 1, NULL FROM events WHERE session_id = ?{only} AND id > ? ORDER BY id LIMIT ?")


def _in(column: str, values: frozenset[str], params: list[Any]) -> str:
    params.extend(sorted(values))
    return f"{column} IN ({', '.join('?' * len(values))})"


def _flow_select(filters: Sequence[CallFilter] | None, after_id: int, until_id: int | None,
                 since: float | None, *, links: bool = True, through: int | None = None
                 ) -> tuple[str, list[Any], list[Any]]:
    """:data:`_FLOW_SELECT` for candidates matching any of ``filters`` (``None``: every
    call) with ids in ``(after_id, until_id]`` received at or after ``since`` (``links``:
    and the other calls; ``through``: no id above it); and its parameters before and after
    the session's."""
    params: list[Any] = []
    window = ["id > ?"]
    params.append(after_id)
    if until_id is not None:
        window.append("id <= ?")
        params.append(until_id)
    if since is not None:
        window.append("received_at >= ?")
        params.append(since)
    if filters is not None:
        alternatives = []
        for picked in filters:
            parts = []
            if picked.types is not None:
                parts.append(_in("type", picked.types, params))
            if picked.names is not None:
                parts.append(_in("name", picked.names, params))
            if picked.write_keys is not None:
                parts.append(_in("write_key", picked.write_keys, params))
            alternatives.append(" AND ".join(parts) or "1")
        window.append("(" + (" OR ".join(f"({part})" for part in alternatives) or "0") + ")")
    # coalesce: ``name IN (...)`` is NULL for a call without a name, and NOT NULL is NULL.
    wanted = "coalesce(" + " AND ".join(window) + ", 0)"
    cases = f"{wanted} OR type IN ('identify', 'alias')"
    only, after = ("", []) if links else (f" AND {wanted}", list(params))
    if through is not None:
        only += " AND id <= ?"
        after.append(through)
    if not links:
        # Only candidates: each has its payload, none needs the email read out.
        return _FLOW_CANDIDATES.format(only=only), [], after
    # The wanted test appears three times in the statement: its parameters too.
    return _FLOW_SELECT.format(wanted=wanted, cases=cases, only=only), params * 3, after

#: What a table row selects, named as :class:`EventRow`'s fields.
_ROW_SELECT = ", ".join(
    "k.name AS source_name" if name == "source_name" else f"e.{name} AS {name}"
    for name in EventRow._fields
)
_ROW_JOINS = "LEFT JOIN write_keys k ON k.write_key = e.write_key"
#: ``VIOLATED_STATUSES`` as an SQL list (the values are this module's own constants).
_VIOLATED_SQL = ", ".join(f"'{status}'" for status in sorted(VIOLATED_STATUSES))


_PERSON_CALLS = """
WITH link AS (
    SELECT anonymous_id AS anonymous, min(user_id) AS user FROM events
    WHERE session_id = :session AND user_id IS NOT NULL AND anonymous_id IS NOT NULL {subset}
    GROUP BY anonymous_id
)
SELECT coalesce(e.user_id, l.user, char(1) || e.anonymous_id) AS person, e.id, e.message_id,
       e.type, e.name,
       CASE WHEN instr(e.payload, '"email"') > 0 THEN coalesce(
           json_extract(e.payload, '$.traits.email'),
           json_extract(e.payload, '$.context.traits.email'),
           json_extract(e.payload, '$.properties.email')) END AS email
FROM events e LEFT JOIN link l ON l.anonymous = e.anonymous_id
WHERE e.session_id = :session AND (e.user_id IS NOT NULL OR e.anonymous_id IS NOT NULL)
      {subset_e}
ORDER BY person, e.id
"""


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A named capture session and how many events it holds."""

    id: int
    name: str
    created_at: float
    event_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used by the REST API."""
        return {
            "id": self.id,
            "name": self.name,
            "created_at": datetime.fromtimestamp(self.created_at).astimezone().isoformat(),
            "event_count": self.event_count,
        }


class EventReader:
    """Every read of one inspector database (the read half of ``EventStore``)."""

    def __init__(self, connection: Callable[[], sqlite3.Connection]) -> None:
        #: This thread's connection (``Database.connection``).
        self._reader = connection

    # ---- sessions

    def session_by_name(self, name: str) -> SessionInfo | None:
        """Look a session up by its exact name."""
        return self._session_where("s.name = ?", name)

    def find_session(self, name_or_id: str) -> SessionInfo | None:
        """A session named ``name_or_id``, else the one with that id (when it is a whole
        number SQLite can hold: a longer one is no session, never an overflow)."""
        session = self.session_by_name(name_or_id)
        if session is None and name_or_id.isdecimal() and int(name_or_id) <= SQLITE_MAX_INT:
            session = self.session_by_id(int(name_or_id))
        return session

    def session_by_id(self, session_id: int) -> SessionInfo | None:
        """Look a session up by id."""
        return self._session_where("s.id = ?", session_id)

    def latest_session(self) -> SessionInfo | None:
        """The most recently created session, if any."""
        sessions = self.list_sessions()
        return sessions[0] if sessions else None

    def _session_where(self, clause: str, value: object) -> SessionInfo | None:
        row = self._reader().execute(
            "SELECT s.id, s.name, s.created_at, "
            "(SELECT count(*) FROM events e WHERE e.session_id = s.id) "
            f"FROM sessions s WHERE {clause}",
            (value,),
        ).fetchone()
        return SessionInfo(*row) if row else None

    def accepted_baseline(self) -> SessionInfo | None:
        """The session accepted as the comparisons' baseline, if one was."""
        row = self._reader().execute("SELECT session_id FROM compare_baseline WHERE id = 1"
                                     ).fetchone()
        return self.session_by_id(int(row[0])) if row else None

    def list_sessions(self, through_id: int | None = None) -> list[SessionInfo]:
        """All sessions, newest first, with their event counts (of events up to ``through_id``
        if given, so that live events after it can be added without counting any twice)."""
        bound = "" if through_id is None else " AND e.id <= ?"
        rows = self._reader().execute(
            "SELECT s.id, s.name, s.created_at, "
            f"(SELECT count(*) FROM events e WHERE e.session_id = s.id{bound}) "
            "FROM sessions s ORDER BY s.created_at DESC, s.id DESC",
            () if through_id is None else (through_id,),
        ).fetchall()
        return [SessionInfo(*row) for row in rows]

    def session_name(self, session_id: int) -> str | None:
        """A session's name, without counting its events (that is slow on big sessions)."""
        row = self._reader().execute(
            "SELECT name FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
        return str(row[0]) if row else None

    # ---- write-key names

    def write_key_names(self) -> dict[str, str]:
        """Every labelled write key and its name."""
        return dict(self._reader().execute("SELECT write_key, name FROM write_keys").fetchall())

    # ---- events

    def query_events(self, query: EventQuery, *, with_payload: bool = True) -> QueryResult:
        """One page of events matching ``query``, with the total count."""
        connection = self._reader()
        with read_snapshot(connection):
            plan = Plan(connection, query)
            events = self._page(connection, plan, with_payload)
            short = 0 < len(events) < query.limit or (not events and not query.offset)
            if query.limit and short:
                # A page that is not full ends the match: no need to count it again.
                total = query.offset + len(events)
            else:
                total = connection.execute(*plan.count()).fetchone()[0]
        return QueryResult(total=total, events=events)

    def _page(
        self, connection: sqlite3.Connection, plan: Plan, with_payload: bool
    ) -> list[EventRecord]:
        payload_column = ", e.payload AS payload" if with_payload else ""
        rows = named_rows(connection, *plan.page(f"{EVENT_SELECT}{payload_column}", EVENT_JOINS))
        return [_record(row, with_payload) for row in rows]

    def iter_events(self, query: EventQuery, *, chunk: int = 2000) -> Iterator[EventRecord]:
        """Every event matching ``query`` (ignoring its limit/offset), fetched in chunks by id."""
        last_id = 0
        connection = self._reader()
        while True:
            chunk_query = query.model_copy(
                update={"since_id": last_id, "limit": chunk, "offset": 0, "order": "asc"})
            with read_snapshot(connection):
                page = self._page(connection, Plan(connection, chunk_query), True)
            yield from page
            if len(page) < chunk:
                return
            last_id = page[-1].id

    def iter_call_rows(self, session_id: int, *, after_id: int = 0,
                       chunk: int = 5000) -> Iterator[CallRow]:
        """A session's events above ``after_id`` in id order, as lean rows: the columns the
        audits read and the payload JSON text (not parsed; no violations decoded).

        Each chunk is read in its own snapshot, so a long scan never holds up the writer's
        checkpoints.
        """
        statement = (f"SELECT {_CALL_SELECT} FROM events WHERE session_id = ? AND id > ? "
                     "ORDER BY id LIMIT ?")
        for row in _chunked(self._reader(), statement, [session_id], after_id, chunk):
            yield CallRow._make(row)

    def call_row(self, event_id: int) -> CallRow | None:
        """One event as :meth:`iter_call_rows` reads it (``None``: no such event)."""
        row = self._reader().execute(f"SELECT {_CALL_SELECT} FROM events WHERE id = ?",
                                     (event_id,)).fetchone()
        return None if row is None else CallRow._make(row)

    def iter_flow_rows(self, session_id: int, *, after_id: int = 0,
                       filters: Sequence[CallFilter] | None = None, first_id: int = 0,
                       until_id: int | None = None, since: float | None = None,
                       links: bool = True, through: int | None = None,
                       chunk: int = 5000) -> Iterator[FlowRow]:
        """A session's events above ``after_id`` in id order, for flows: the candidates (ids
        in ``(first_id, until_id]``, received at or after ``since``, matching one of
        ``filters`` on the indexed columns) with their payload, the others with only what
        the identity graph reads of them (``links=False``: only the candidates, for an
        evaluation that reads people from a graph kept elsewhere); none above ``through``.
        Each chunk is read in its own snapshot."""
        statement, before, after = _flow_select(filters, first_id, until_id, since,
                                                links=links, through=through)
        for row in _chunked(self._reader(), statement, [*before, session_id, *after],
                            after_id, chunk):
            yield FlowRow._make(row)

    def person_calls(self, session_id: int, *, event_ids: Collection[int] | None = None
                     ) -> Iterator[tuple[str, int, str | None, str | None, str | None, Any]]:
        """A session's calls (or those of ``event_ids``) sorted by person, then id, as
        ``(person, id, message_id, type, name, email)`` (for session comparisons).

        The person is the ``userId``; else the ``userId`` the call's ``anonymousId`` was sent
        with on some call of the session (the shopper who logged in); else ``"\x01"`` and the
        ``anonymousId``. ``email`` is ``traits.email``, ``context.traits.email`` or
        ``properties.email``, whichever comes first, if any. Calls with neither id are left
        out. The sort is SQLite's, which spills to disk: memory stays bounded.
        """
        params: dict[str, Any] = {"session": session_id}
        subset = subset_e = ""
        if event_ids is not None:
            params["ids"] = orjson.dumps(sorted(event_ids)).decode()
            subset = "AND id IN (SELECT value FROM json_each(:ids))"
            subset_e = "AND e.id IN (SELECT value FROM json_each(:ids))"
        connection = self._reader()
        with read_snapshot(connection):
            yield from connection.execute(_PERSON_CALLS.format(subset=subset, subset_e=subset_e),
                                          params)

    def stored_profile(self, session_id: int) -> tuple[int, int, bytes] | None:
        """The profile kept with a session for comparisons (its format, watermark and stored
        form, see :mod:`inspector.core.compare.stored`), if one is."""
        row = self._reader().execute(
            "SELECT format, profiled_upto, profile FROM session_profiles WHERE session_id = ?",
            (session_id,)).fetchone()
        return None if row is None else (int(row[0]), int(row[1]), bytes(row[2]))

    def session_last_event_id(self, session_id: int) -> int:
        """The id of a session's newest event (0 when it has none)."""
        row = self._reader().execute(
            "SELECT max(id) FROM events WHERE session_id = ?", (session_id,)).fetchone()
        return int(row[0] or 0)

    def iter_violated_events(self, session_id: int, *, with_payload: bool = False,
                             chunk: int = 2000) -> Iterator[EventRecord]:
        """A session's events that carry any violation (errors or warnings), in id order;
        each chunk in its own snapshot (QA reports group them by kind)."""
        connection = self._reader()
        payload_column = ", e.payload AS payload" if with_payload else ""
        last_id = 0
        while True:
            with read_snapshot(connection):
                rows = named_rows(
                    connection,
                    f"SELECT {EVENT_SELECT}{payload_column} FROM events e {EVENT_JOINS} "
                    "WHERE e.session_id = ? AND e.violation_count > 0 AND e.id > ? "
                    "ORDER BY e.id LIMIT ?", (session_id, last_id, chunk))
            yield from (_record(row, with_payload) for row in rows)
            if len(rows) < chunk:
                return
            last_id = rows[-1]["id"]

    def session_time_range(self, session_id: int) -> tuple[float, float] | None:
        """When a session's first and last events were received (``None``: no events)."""
        row = self._reader().execute(
            "SELECT min(received_at), max(received_at) FROM events WHERE session_id = ?",
            (session_id,)).fetchone()
        return None if row[0] is None else (float(row[0]), float(row[1]))

    def write_key_counts(self, session_id: int) -> dict[str, int]:
        """Events per write key in a session (``""`` for calls that sent none)."""
        return self._counts_by("write_key", session_id)

    def load_audit(self, session_id: int, config_hash: str) -> dict[str, Any] | None:
        """The audit findings kept for a session and configuration: ``through_event_id``,
        ``computed_at``, ``people`` and ``findings`` (JSON text); ``None`` if none are."""
        rows = named_rows(
            self._reader(),
            "SELECT through_event_id, computed_at, people, findings FROM audit_findings "
            "WHERE session_id = ? AND config_hash = ?", (session_id, config_hash))
        return dict(zip(rows[0].keys(), rows[0], strict=True)) if rows else None

    def flow_run_rows(self, session_id: int | None = None, *,
                      run_id: int | None = None) -> list[dict[str, Any]]:
        """Flow runs kept with a session (oldest first), or the one run ``run_id``."""
        where, arguments = (("id = ?", (run_id,)) if run_id is not None
                            else ("session_id = ?", (session_id,)))
        rows = named_rows(
            self._reader(),
            "SELECT id, session_id, started_at, ended_at, after_event_id, until_event_id, "
            f"flows, plan, audit_config, results, evaluated_through FROM flow_runs WHERE {where} "
            "ORDER BY id", arguments)
        return [dict(zip(row.keys(), row, strict=True)) for row in rows]

    def get_event(self, event_id: int) -> EventRecord | None:
        """One event with its payload."""
        rows = named_rows(
            self._reader(),
            f"SELECT {EVENT_SELECT}, e.payload AS payload FROM events e {EVENT_JOINS} "
            "WHERE e.id = ?",
            (event_id,),
        )
        return _record(rows[0], True) if rows else None

    def get_request(self, request_id: int) -> dict[str, Any] | None:
        """The raw request an event came in, as received."""
        rows = named_rows(self._reader(), "SELECT * FROM requests WHERE id = ?", (request_id,))
        if not rows:
            return None
        request = dict(zip(rows[0].keys(), rows[0], strict=True))
        request["headers"] = orjson.loads(request["headers"])
        return request

    def message_ids(self, session_id: int) -> set[str]:
        """Every messageId seen in a session (for duplicate detection after a restart)."""
        rows = self._reader().execute(
            "SELECT message_id FROM events WHERE session_id = ? AND message_id IS NOT NULL",
            (session_id,),
        )
        return {row[0] for row in rows}

    def summary(self, session_id: int | None = None, *,
                query: EventQuery | None = None) -> dict[str, Any]:
        """Counts by status, type, event name and violation kind, of a session's events or of
        those matching ``query``."""
        if query is not None and query != EventQuery(session_id=query.session_id):
            return self._filtered_summary(query)
        if query is not None:
            session_id = query.session_id
        connection = self._reader()
        with read_snapshot(connection):
            # Counts kept by the summary counter plus the events above its watermark; without
            # counts kept (or far behind), every event counted from the covering indexes.
            counts = kept_counts(connection, session_id)
            if counts is None:
                counts = self._indexed_counts(connection, session_id)
        return _summary(counts)

    def _indexed_counts(self, connection: sqlite3.Connection,
                        session_id: int | None) -> dict[str, dict[str, int]]:
        """A session's counts by each of ``COUNT_GROUPS``, counted over all of its events
        from the covering indexes (and the unindexed tail)."""
        where, params = EventQuery(session_id=session_id).where_clause(connection)
        # Only events with violations (violation_count > 0) can contribute a kind.
        select, select_params = union_select(
            "SELECT e.violations AS violations FROM events e", f"({where}) AND "
            "e.violation_count > 0", params)
        kinds = connection.execute(
            "SELECT coalesce(json_extract(v.value, '$.kind'), ''), count(*) "
            f"FROM ({select}) f, json_each(f.violations) v GROUP BY 1",
            select_params,
        )
        return {
            "by_status": self.status_counts(session_id),
            "by_type": self._counts_by("type", session_id),
            "by_event": self._counts_by("name", session_id),
            "by_violation_kind": {str(kind): count for kind, count in kinds},
        }

    def _filtered_summary(self, query: EventQuery) -> dict[str, Any]:
        """:meth:`summary` of the events matching ``query``: the filter runs once, into a
        materialised set the four counts group."""
        connection = self._reader()
        with read_snapshot(connection):
            where, params = query.where_clause(connection)
            select, select_params = union_select(COUNTED_COLUMNS, where, params)
            rows = group_counts(connection, select, select_params)
        counts: dict[str, dict[str, int]] = {group: {} for group in COUNT_GROUPS}
        for group, value, count in rows:
            counts[group][value] = count
        return _summary(counts)

    def status_counts(self, session_id: int | None) -> dict[str, int]:
        """Events per status (answered from the ``(session_id, status)`` index alone)."""
        return self._counts_by("status", session_id)

    def _counts_by(self, column: str, session_id: int | None) -> dict[str, int]:
        """Events per value of an indexed column (``""`` for NULL)."""
        where, params = EventQuery(session_id=session_id).where_clause()
        rows = self._reader().execute(*union_group_count(column, where, params))
        return {str(value) if value is not None else "": count for value, count in rows}

    # ---- table views: keyset pages without a count, counts without a page (see paging)

    def page_events(self, query: EventQuery) -> list[EventRow]:
        """Up to ``query.limit`` rows after ``query.since_id`` in ``query.order``; no count."""
        connection = self._reader()
        with read_snapshot(connection):
            rows = named_rows(connection,
                              *page_statement(connection, query, _ROW_SELECT, _ROW_JOINS))
        return [EventRow(**row_fields(row)) for row in rows]

    def count_events(self, query: EventQuery) -> int:
        """How many events match ``query`` (ignoring its limit and offset)."""
        connection = self._reader()
        with read_snapshot(connection):
            count: int = connection.execute(*count_statement(connection, query)).fetchone()[0]
        return count

    def search_index_state(self) -> dict[str, Any]:
        """How far the search index has got: the watermark, the events above it, and how old
        the oldest of them is (``lag_seconds``, 0 when caught up)."""
        connection = self._reader()
        with read_snapshot(connection):
            upto = indexed_upto(connection)
            newest, count = connection.execute(
                "SELECT coalesce(max(id), 0), count(*) FROM events WHERE id > ?",
                (upto,)).fetchone()
            first = connection.execute(
                "SELECT received_at FROM events WHERE id > ? ORDER BY id LIMIT 1",
                (upto,)).fetchone()
        lag = max(0.0, time.time() - first[0]) if first else 0.0
        return {"indexed_upto": upto, "unindexed": int(count),
                "newest_event_id": max(int(newest), upto), "lag_seconds": round(lag, 3)}

    def max_event_id(self) -> int:
        """The newest event id in the store (0 when empty)."""
        row = self._reader().execute("SELECT max(id) FROM events").fetchone()
        return int(row[0] or 0)

    def event_stats(
        self, session_id: int | None, through_id: int | None = None
    ) -> dict[str, tuple[int, int]]:
        """Per track-event name: how many were seen and how many were violated
        (``VIOLATED_STATUSES``: invalid or malformed).

        ``through_id`` counts only events up to that id, so that live events after it can be
        added to the result one batch at a time without counting any twice.
        """
        # Written out so SQLite sees the partial index's own terms (indexed = 1, type = 'track'):
        # the indexed half is then read from events_track_name alone, grouped in its order.
        filters, params = "", []
        if session_id is not None:
            filters, params = "AND e.session_id = ? ", [session_id]
        if through_id is not None:
            filters, params = f"{filters}AND e.id <= ? ", [*params, through_id]
        half = ("SELECT e.name AS name, count(*) AS seen, "
                f"sum(e.status IN ({_VIOLATED_SQL})) AS bad FROM events e "
                f"WHERE e.indexed = {{indexed}} AND e.type = 'track' {filters}"
                "AND e.name IS NOT NULL GROUP BY e.name")
        rows = named_rows(
            self._reader(),
            f"SELECT name, sum(seen) AS seen, sum(bad) AS bad FROM ({half.format(indexed=1)} "
            f"UNION ALL {half.format(indexed=0)}) GROUP BY name",
            [*params, *params],
        )
        return {row["name"]: (row["seen"], row["bad"] or 0) for row in rows}

    def distinct_values(self, column: str, session_id: int | None) -> list[str]:
        """Distinct non-empty values of an indexed column (``name`` or ``write_key``), sorted."""
        if column not in ("name", "write_key", "type"):
            raise ValueError(f"not a distinct-able column: {column}")
        if session_id is not None:
            return distinct_in_session(self._reader(), column, session_id)
        where, params = EventQuery(session_id=session_id).where_clause()
        select, select_params = union_select(
            f"SELECT e.{column} AS value FROM events e",
            f"({where}) AND e.{column} IS NOT NULL", params)
        rows = self._reader().execute(
            f"SELECT DISTINCT value FROM ({select}) ORDER BY 1", select_params
        )
        return [row[0] for row in rows]


def _summary(counts: dict[str, dict[str, int]]) -> dict[str, Any]:
    """A summary's JSON form: the total and each group's counts, largest first (equal counts
    by value, so that the order does not depend on how the counts were read)."""
    return {
        "total": sum(counts["by_status"].values()),
        **{group: dict(sorted(values.items(), key=lambda item: (-item[1], item[0])))
           for group, values in counts.items()},
    }


def _chunked(connection: sqlite3.Connection, statement: str, params: list[Any],
             after_id: int, chunk: int) -> Iterator[tuple[Any, ...]]:
    """The rows of ``statement`` (its last two parameters: an id to read above, a limit;
    the id its rows' first column) in chunks, each read in its own snapshot, so a long
    scan never holds up the writer's checkpoints."""
    last_id = after_id
    while True:
        with read_snapshot(connection):
            rows = connection.execute(statement, (*params, last_id, chunk)).fetchall()
        yield from rows
        if len(rows) < chunk:
            return
        last_id = rows[-1][0]


def row_fields(row: sqlite3.Row) -> dict[str, Any]:
    """A named row as a mapping of its columns."""
    return {name: row[name] for name in row.keys()}  # noqa: SIM118 (sqlite3.Row is no dict)


def _record(row: sqlite3.Row, with_payload: bool) -> EventRecord:
    return EventRecord(
        id=row["id"],
        session_id=row["session_id"],
        received_at=row["received_at"],
        write_key=row["write_key"],
        type=row["type"],
        name=row["name"],
        user_id=row["user_id"],
        anonymous_id=row["anonymous_id"],
        message_id=row["message_id"],
        status=Status(row["status"]),
        violations=[Violation.from_dict(item) for item in orjson.loads(row["violations"])],
        request_id=row["request_id"],
        session_name=row["session_name"],
        source_name=row["source_name"],
        library=row["library"],
        payload=(orjson.loads(row["payload"])
                 if with_payload and row["payload"] is not None else None),
    )
