"""The SQLite event store: sessions, named write keys, queries and re-validation updates.

Writes of captured traffic go through :class:`~inspector.core.store.writer.GroupCommitWriter`,
which owns its own connection on its own thread. Everything here is for readers and for the
low-rate administrative writes (sessions, key names, re-validation). SQLite in WAL mode lets the
readers run while the writer commits.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from inspector.core.model import EventRecord, Status, Violation
from inspector.core.store.connection import Database, read_snapshot
from inspector.core.store.query import (
    EventQuery,
    Plan,
    QueryResult,
    union_count,
    union_select,
)
from inspector.core.store.search import drop_index

__all__ = ["CallRow", "EventStore", "SessionInfo"]

_EVENT_COLUMNS = (
    "e.id, e.session_id, e.received_at, e.write_key, e.type, e.name, e.user_id, e.anonymous_id, "
    "e.message_id, e.status, e.violations, e.request_id, s.name, k.name, e.library"
)
_EVENT_JOINS = (
    "JOIN sessions s ON s.id = e.session_id LEFT JOIN write_keys k ON k.write_key = e.write_key"
)


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


def _default_session_name() -> str:
    return datetime.now().strftime("Session %Y-%m-%d %H:%M:%S")


class EventStore:
    """Read access and administrative writes over one inspector database file.

    Each thread gets its own reader connection (sqlite3 connections are not meant to be shared
    across threads while in use); all of them see every committed write.
    """

    def __init__(self, path: Path | str, *, durable: bool = False) -> None:
        self.path = Path(path)
        self.durable = durable
        self._db = Database(self.path, durable=durable)
        self._reader = self._db.connection
        self._admin = self._db.transaction

    def close(self) -> None:
        """Close this thread's connection (other threads' connections close with them)."""
        self._db.close()

    # ---- sessions

    def create_session(self, name: str | None = None) -> SessionInfo:
        """Create a new session; a name already taken gets a numeric suffix."""
        base = name or _default_session_name()
        with self._admin() as connection:
            candidate, suffix = base, 2
            while connection.execute(
                "SELECT 1 FROM sessions WHERE name = ?", (candidate,)
            ).fetchone():
                candidate, suffix = f"{base} ({suffix})", suffix + 1
            created = time.time()
            cursor = connection.execute(
                "INSERT INTO sessions(name, created_at) VALUES (?, ?)", (candidate, created)
            )
            assert cursor.lastrowid is not None
            return SessionInfo(cursor.lastrowid, candidate, created)

    def open_session(self, name: str | None) -> SessionInfo:
        """The session called ``name``, created if it does not exist; a new one for ``None``."""
        if name is not None:
            existing = self.session_by_name(name)
            if existing is not None:
                return existing
        return self.create_session(name)

    def session_by_name(self, name: str) -> SessionInfo | None:
        """Look a session up by its exact name."""
        return self._session_where("s.name = ?", name)

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

    def rename_session(self, session_id: int, name: str) -> None:
        """Rename a session; raises ``ValueError`` if the name is taken."""
        try:
            with self._admin() as connection:
                connection.execute("UPDATE sessions SET name = ? WHERE id = ?", (name, session_id))
        except sqlite3.IntegrityError as error:
            raise ValueError(f"a session called {name!r} already exists") from error

    def delete_session(self, session_id: int) -> None:
        """Delete a session with its requests, events and search index."""
        with self._admin() as connection:
            connection.execute("DELETE FROM events WHERE session_id = ?", (session_id,))
            drop_index(connection, session_id)
            connection.execute("DELETE FROM requests WHERE session_id = ?", (session_id,))
            connection.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    # ---- write-key names

    def name_write_key(self, write_key: str, name: str | None) -> None:
        """Label a write key ("staging web"); ``None`` removes the label."""
        with self._admin() as connection:
            if name:
                connection.execute(
                    "INSERT INTO write_keys(write_key, name) VALUES (?, ?) "
                    "ON CONFLICT(write_key) DO UPDATE SET name = excluded.name",
                    (write_key, name),
                )
            else:
                connection.execute("DELETE FROM write_keys WHERE write_key = ?", (write_key,))

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
        payload_column = ", e.payload" if with_payload else ""
        rows = connection.execute(
            *plan.page(f"{_EVENT_COLUMNS}{payload_column}", _EVENT_JOINS)
        ).fetchall()
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

    def get_event(self, event_id: int) -> EventRecord | None:
        """One event with its payload."""
        row = self._reader().execute(
            f"SELECT {_EVENT_COLUMNS}, e.payload FROM events e {_EVENT_JOINS} WHERE e.id = ?",
            (event_id,),
        ).fetchone()
        return _record(row, True) if row else None

    def get_request(self, request_id: int) -> dict[str, Any] | None:
        """The raw request an event came in, as received."""
        cursor = self._reader().execute("SELECT * FROM requests WHERE id = ?", (request_id,))
        row = cursor.fetchone()
        if row is None:
            return None
        names = [description[0] for description in cursor.description]
        request = dict(zip(names, row, strict=True))
        request["headers"] = orjson.loads(request["headers"])
        return request

    def iter_call_rows(self, session_id: int, *, after_id: int = 0,
                       chunk: int = 5000) -> Iterator[CallRow]:
        """A session's events above ``after_id`` in id order, as lean rows: the columns the
        audits read and the payload JSON text (not parsed; no violations decoded).

        Each chunk is read in its own snapshot, so a long scan never holds up the writer's
        checkpoints.
        """
        connection = self._reader()
        last_id = after_id
        while True:
            with read_snapshot(connection):
                rows = connection.execute(
                    "SELECT id, received_at, write_key, type, name, user_id, anonymous_id, "
                    "message_id, payload FROM events WHERE session_id = ? AND id > ? "
                    "ORDER BY id LIMIT ?", (session_id, last_id, chunk),
                ).fetchall()
            for row in rows:
                yield CallRow(*row)
            if len(rows) < chunk:
                return
            last_id = rows[-1][0]

    def message_ids(self, session_id: int) -> set[str]:
        """Every messageId seen in a session (for duplicate detection after a restart)."""
        rows = self._reader().execute(
            "SELECT message_id FROM events WHERE session_id = ? AND message_id IS NOT NULL",
            (session_id,),
        )
        return {row[0] for row in rows}

    def summary(self, session_id: int | None = None) -> dict[str, Any]:
        """Counts by status, type, event name and violation kind."""
        connection = self._reader()
        where, params = EventQuery(session_id=session_id).where_clause(connection)

        def counts(column: str) -> dict[str, int]:
            select, select_params = union_select(f"SELECT {column} AS value FROM events e",
                                                 where, params)
            rows = connection.execute(
                f"SELECT value, count(*) FROM ({select}) GROUP BY value ORDER BY count(*) DESC",
                select_params,
            )
            return {str(key) if key is not None else "": count for key, count in rows}

        # Only events with violations (violation_count > 0) can contribute a kind.
        select, select_params = union_select(
            "SELECT e.violations AS violations FROM events e", f"({where}) AND "
            "e.violation_count > 0", params)
        kinds = connection.execute(
            "SELECT json_extract(v.value, '$.kind'), count(*) "
            f"FROM ({select}) f, json_each(f.violations) v GROUP BY 1 ORDER BY 2 DESC",
            select_params,
        )
        total = connection.execute(*union_count(where, params))
        return {
            "total": total.fetchone()[0],
            "by_status": counts("e.status"),
            "by_type": counts("e.type"),
            "by_event": counts("e.name"),
            "by_violation_kind": dict(kinds.fetchall()),
        }

    def update_validation(
        self, updates: Iterable[tuple[int, Status, list[Violation]]]
    ) -> int:
        """Store new validation results (after a plan change); returns the rows changed."""
        rows = [
            (
                str(status),
                len(violations),
                orjson.dumps([violation.to_dict() for violation in violations]).decode(),
                event_id,
            )
            for event_id, status, violations in updates
        ]
        with self._admin() as connection:
            connection.executemany(
                "UPDATE events SET status = ?, violation_count = ?, violations = ? WHERE id = ?",
                rows,
            )
        return len(rows)

    def record_forward(self, request_id: int, status: int | None, error: str | None) -> None:
        """Record what the upstream answered for a forwarded request."""
        with self._admin() as connection:
            connection.execute(
                "UPDATE requests SET forward_status = ?, forward_error = ? WHERE id = ?",
                (status, error, request_id),
            )


class CallRow(NamedTuple):
    """One event as :meth:`EventStore.iter_call_rows` reads it."""

    id: int
    received_at: float
    write_key: str | None
    type: str | None
    name: str | None
    user_id: str | None
    anonymous_id: str | None
    message_id: str | None
    payload: str | None


def _record(row: tuple[Any, ...], with_payload: bool) -> EventRecord:
    violations = [Violation.from_dict(item) for item in orjson.loads(row[10])]
    return EventRecord(
        id=row[0],
        session_id=row[1],
        received_at=row[2],
        write_key=row[3],
        type=row[4],
        name=row[5],
        user_id=row[6],
        anonymous_id=row[7],
        message_id=row[8],
        status=Status(row[9]),
        violations=violations,
        request_id=row[11],
        session_name=row[12],
        source_name=row[13],
        library=row[14],
        payload=orjson.loads(row[15]) if with_payload and row[15] is not None else None,
    )
