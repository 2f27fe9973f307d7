"""The SQLite event store: every read (:class:`~inspector.core.store.reader.EventReader`) and
the low-rate administrative writes (sessions, key names, re-validation).

Writes of captured traffic go through :class:`~inspector.core.store.writer.GroupCommitWriter`,
which owns its own connection on its own thread. SQLite in WAL mode lets the readers run while
the writer commits.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from inspector.core.model import Status, Violation
from inspector.core.store.connection import Database
from inspector.core.store.counts import forget_counts
from inspector.core.store.forward_queue import FORWARD_OFF, ForwardQueueStore
from inspector.core.store.reader import EventReader, SessionInfo
from inspector.core.store.search import drop_index

__all__ = ["EventStore", "SessionInfo"]


def _default_session_name() -> str:
    return datetime.now().strftime("Session %Y-%m-%d %H:%M:%S")


class EventStore(EventReader):
    """Every read (inherited from the reader facade) and the administrative writes over one
    inspector database file."""

    def __init__(self, path: Path | str, *, durable: bool = False) -> None:
        self.path = Path(path)
        self.durable = durable
        self._db = Database(self.path, durable=durable)
        super().__init__(self._db.connection)
        self._admin = self._db.transaction
        #: The ``--forward`` queue's rows.
        self.forward_queue = ForwardQueueStore(self._db.connection, self._db.transaction)

    def close(self) -> None:
        """Close every thread's connection; any later use raises
        :class:`~inspector.core.store.connection.DatabaseClosedError`."""
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
            connection.execute("DELETE FROM audit_findings WHERE session_id = ?", (session_id,))
            connection.execute("DELETE FROM compare_baseline WHERE session_id = ?", (session_id,))
            connection.execute("DELETE FROM flow_runs WHERE session_id = ?", (session_id,))
            connection.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    # ---- comparisons

    def accept_baseline(self, session_id: int) -> None:
        """Mark a session as the comparisons' baseline (replacing the previous mark)."""
        with self._admin() as connection:
            connection.execute(
                "INSERT INTO compare_baseline(id, session_id, accepted_at) VALUES (1, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET session_id = excluded.session_id, "
                "accepted_at = excluded.accepted_at", (session_id, time.time()))

    # ---- audit findings

    def save_audit(self, session_id: int, config_hash: str, through_event_id: int,
                   people: int, findings_json: str) -> None:
        """Keep a session's audit findings (JSON) as of ``through_event_id``, replacing the
        ones kept for the same configuration."""
        with self._admin() as connection:
            connection.execute(
                "INSERT INTO audit_findings(session_id, config_hash, through_event_id, "
                "computed_at, people, findings) VALUES (?,?,?,?,?,?) "
                "ON CONFLICT(session_id, config_hash) DO UPDATE SET "
                "through_event_id = excluded.through_event_id, "
                "computed_at = excluded.computed_at, people = excluded.people, "
                "findings = excluded.findings",
                (session_id, config_hash, through_event_id, time.time(), people,
                 findings_json),
            )

    # ---- flow runs

    def insert_flow_run(self, session_id: int, started_at: float, after_event_id: int,
                        flows_json: str, plan_json: str | None, audit_config_json: str) -> int:
        """Keep a new flow run (its flows, plan and audit configuration as JSON); its id."""
        with self._admin() as connection:
            cursor = connection.execute(
                "INSERT INTO flow_runs(session_id, started_at, after_event_id, flows, plan, "
                "audit_config) VALUES (?,?,?,?,?,?)",
                (session_id, started_at, after_event_id, flows_json, plan_json,
                 audit_config_json))
            assert cursor.lastrowid is not None
            return cursor.lastrowid

    def update_flow_run(self, run_id: int, *, results_json: str, evaluated_through: int,
                        ended_at: float | None = None, until_event_id: int | None = None,
                        flows_json: str | None = None) -> None:
        """Keep a run's latest results; with ``ended_at``, end it (at ``until_event_id``);
        with ``flows_json``, replace its flows (re-evaluated after an edit)."""
        with self._admin() as connection:
            connection.execute(
                "UPDATE flow_runs SET results = ?, evaluated_through = ?, "
                "ended_at = coalesce(?, ended_at), "
                "until_event_id = coalesce(?, until_event_id), "
                "flows = coalesce(?, flows) WHERE id = ?",
                (results_json, evaluated_through, ended_at, until_event_id, flows_json, run_id))

    def delete_flow_run(self, run_id: int) -> None:
        """Forget one flow run."""
        with self._admin() as connection:
            connection.execute("DELETE FROM flow_runs WHERE id = ?", (run_id,))

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
            # The kept summary counts of these sessions no longer hold: counted again.
            forget_counts(connection, [row[3] for row in rows])
        return len(rows)

    def get_request(self, request_id: int) -> dict[str, Any] | None:
        """The raw request an event came in, as received, with its forward state
        (``{"state": "off"}`` when it was not forwarded)."""
        request = super().get_request(request_id)
        if request is not None:
            request["forward"] = self.forward_queue.states([request_id]).get(
                request_id, FORWARD_OFF)
        return request

