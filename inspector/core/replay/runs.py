"""Replay runs and per-event results, stored so a replay can resume and retry its failures.

A run is planned once: every event it will send is written, in send order (``seq``), with the
payload as it was at that moment and status ``pending``. The engine then only ever moves rows
from ``pending`` (or ``failed``/``held`` when retrying) to a final status, one transaction per
HTTP answer, so a crash at any point leaves a run that can be resumed where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson

from inspector.core.replay.destinations import Destination
from inspector.core.replay.mapping.base import ReplayItem
from inspector.core.store.connection import Database

__all__ = ["ItemResult", "ItemStatus", "ReplayRun", "ReplayRunStore", "ResultRow", "RunState"]


class ItemStatus(StrEnum):
    """Where one event of a run stands."""

    PENDING = "pending"  # not sent yet (or interrupted before an answer)
    SENT = "sent"  # Customer.io accepted it
    FAILED = "failed"  # refused, or gave up after retries; see error and http_status
    DROPPED = "dropped"  # the destination would not send it (e.g. Classic without userId)
    HELD = "held"  # not sent because an earlier event of the same person failed


class RunState(StrEnum):
    """Where a run as a whole stands."""

    PLANNED = "planned"
    RUNNING = "running"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"
    COMPLETED = "completed"


@dataclass(frozen=True, slots=True)
class ReplayRun:
    """A replay run's metadata (the destination is a copy without secrets)."""

    id: int
    session_id: int | None
    destination: Destination
    options: dict[str, Any]
    created_at: float
    updated_at: float
    state: RunState


@dataclass(frozen=True, slots=True)
class ItemResult:
    """The outcome of one event, as the engine records it."""

    seq: int
    status: ItemStatus
    http_status: int | None = None
    response_body: str | None = None
    error: str | None = None
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One stored per-event result, for the results table and the summary."""

    seq: int
    event_id: int | None
    status: ItemStatus
    http_status: int | None
    response_body: str | None
    error: str | None
    attempts: int


class ReplayRunStore:
    """Runs and results in the inspector database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create_run(
        self,
        destination: Destination,
        items: Iterable[tuple[int | None, dict[str, Any]]],
        *,
        session_id: int | None = None,
        options: dict[str, Any] | None = None,
    ) -> ReplayRun:
        """Plan a run: store every ``(event_id, payload)`` as pending, in the given order."""
        now = time.time()
        with self._db.transaction() as connection:
            cursor = connection.execute(
                "INSERT INTO replay_runs(session_id, destination, destination_json, options, "
                "created_at, updated_at, state) VALUES (?,?,?,?,?,?,?)",
                (session_id, destination.name, destination.model_dump_json(),
                 orjson.dumps(options or {}).decode(), now, now, str(RunState.PLANNED)),
            )
            run_id = cursor.lastrowid
            assert run_id is not None
            connection.executemany(
                "INSERT INTO replay_results(run_id, seq, event_id, payload, status) "
                "VALUES (?,?,?,?,?)",
                (
                    (run_id, seq, event_id, orjson.dumps(payload).decode(),
                     str(ItemStatus.PENDING))
                    for seq, (event_id, payload) in enumerate(items)
                ),
            )
        run = self.get_run(run_id)
        assert run is not None
        return run

    def get_run(self, run_id: int) -> ReplayRun | None:
        """A run by id."""
        row = self._db.connection().execute(
            "SELECT id, session_id, destination_json, options, created_at, updated_at, state "
            "FROM replay_runs WHERE id = ?",
            (run_id,),
        ).fetchone()
        return _run(row) if row else None

    def list_runs(self, session_id: int | None = None) -> list[ReplayRun]:
        """Runs, newest first, optionally of one session."""
        sql = ("SELECT id, session_id, destination_json, options, created_at, updated_at, state "
               "FROM replay_runs")
        params: list[Any] = []
        if session_id is not None:
            sql += " WHERE session_id = ?"
            params.append(session_id)
        rows = self._db.connection().execute(sql + " ORDER BY id DESC", params)
        return [_run(row) for row in rows]

    def set_state(self, run_id: int, state: RunState) -> None:
        """Record a run's state."""
        with self._db.transaction() as connection:
            connection.execute(
                "UPDATE replay_runs SET state = ?, updated_at = ? WHERE id = ?",
                (str(state), time.time(), run_id),
            )

    def items(self, run_id: int, statuses: Sequence[ItemStatus]) -> list[ReplayItem]:
        """The run's events with one of ``statuses``, in send order."""
        rows = self._db.connection().execute(
            f"SELECT seq, event_id, payload FROM replay_results WHERE run_id = ? AND status IN "
            f"({','.join('?' * len(statuses))}) ORDER BY seq",
            [run_id, *map(str, statuses)],
        )
        return [ReplayItem(seq, event_id, orjson.loads(payload)) for seq, event_id, payload in rows]

    def record(self, run_id: int, results: Sequence[ItemResult]) -> None:
        """Store outcomes in one transaction; attempts add up across resumes."""
        now = time.time()
        with self._db.transaction() as connection:
            connection.executemany(
                "UPDATE replay_results SET status = ?, http_status = ?, response_body = ?, "
                "error = ?, attempts = attempts + ?, updated_at = ? WHERE run_id = ? AND seq = ?",
                [
                    (str(r.status), r.http_status, r.response_body, r.error, r.attempts, now,
                     run_id, r.seq)
                    for r in results
                ],
            )

    def counts(self, run_id: int) -> dict[ItemStatus, int]:
        """How many events of the run are in each status (every status present)."""
        rows = self._db.connection().execute(
            "SELECT status, count(*) FROM replay_results WHERE run_id = ? GROUP BY status",
            (run_id,),
        )
        counts = dict.fromkeys(ItemStatus, 0)
        counts.update({ItemStatus(status): count for status, count in rows})
        return counts

    def results(
        self, run_id: int, *, statuses: Sequence[ItemStatus] | None = None,
        limit: int = 1000, offset: int = 0,
    ) -> list[ResultRow]:
        """Per-event results in send order."""
        sql = ("SELECT seq, event_id, status, http_status, response_body, error, attempts "
               "FROM replay_results WHERE run_id = ?")
        params: list[Any] = [run_id]
        if statuses:
            sql += f" AND status IN ({','.join('?' * len(statuses))})"
            params.extend(map(str, statuses))
        rows = self._db.connection().execute(
            sql + " ORDER BY seq LIMIT ? OFFSET ?", [*params, limit, offset]
        )
        return [
            ResultRow(seq, event_id, ItemStatus(status), http, body, error, attempts)
            for seq, event_id, status, http, body, error, attempts in rows
        ]


def _run(row: tuple[Any, ...]) -> ReplayRun:
    return ReplayRun(
        id=row[0],
        session_id=row[1],
        destination=Destination.model_validate_json(row[2]),
        options=orjson.loads(row[3]),
        created_at=row[4],
        updated_at=row[5],
        state=RunState(row[6]),
    )
