"""The durable ``--forward`` queue (table ``forward_queue``, see
:mod:`~inspector.core.store.schema`): what to send upstream, and how it went.

The capture writer inserts a :class:`ForwardJob` in the same transaction as the request it
belongs to (:mod:`inspector.core.store.writer`), so a request acknowledged to its client is
also a request queued for the upstream, whatever happens to the process next. The forwarder
(:mod:`inspector.core.capture.forward`) reads the queued rows lane by lane, in id order, and
settles them here in batches: ``delivered``, ``failed`` (not retried), or still ``queued`` with
one more attempt and the time of the next. A settled row drops its headers and body.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Literal

import orjson

__all__ = ["FORWARD_OFF", "FORWARD_STATES", "ForwardAttempt", "ForwardJob", "ForwardQueueStore",
           "ForwardState", "QueuedForward", "describe_forward", "forward_dict"]

ForwardState = Literal["queued", "delivered", "failed"]
#: Every state a queue row can be in (an event whose request has no row is "off").
FORWARD_STATES: tuple[ForwardState, ...] = ("queued", "delivered", "failed")


@dataclass(slots=True)
class ForwardJob:
    """A request to send upstream, exactly as its client sent it (hop-by-hop headers and
    ``Host`` left out, ``X-Forwarded-For`` added); written with the request it belongs to."""

    lane: str
    method: str
    #: Path and query string, as received.
    target: str
    #: ``[name, value]`` pairs in the order received, decoded as Latin-1 (byte for byte).
    headers: list[tuple[str, str]]
    body: bytes
    #: ``queued``; or ``failed`` at once (with ``error``) when it cannot be sent at all.
    state: ForwardState = "queued"
    error: str | None = None

    def row(self, request_id: int | None, session_id: int, created_at: float) -> tuple[Any, ...]:
        """The ``forward_queue`` values, in :data:`INSERT_COLUMNS` order."""
        settled = self.state != "queued"
        return (request_id, session_id, self.lane, self.method, self.target,
                None if settled else orjson.dumps(self.headers).decode(),
                None if settled else self.body, self.state, self.error, created_at,
                created_at)


#: The columns :meth:`ForwardJob.row` fills.
INSERT_COLUMNS = ("request_id", "session_id", "lane", "method", "target", "headers", "body",
                  "state", "last_error", "created_at", "updated_at")


@dataclass(frozen=True, slots=True)
class QueuedForward:
    """One queued row, read back to be sent."""

    id: int
    request_id: int | None
    lane: str
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    attempts: int
    next_attempt_at: float


@dataclass(frozen=True, slots=True)
class ForwardAttempt:
    """What one attempt to send a row came to (written by :meth:`ForwardQueueStore.settle`)."""

    queue_id: int
    request_id: int | None
    state: ForwardState
    attempts: int
    status: int | None
    error: str | None
    next_attempt_at: float = 0.0


class ForwardQueueStore:
    """Reads and writes of ``forward_queue`` over one database's per-thread connections."""

    def __init__(self, connection: Callable[[], sqlite3.Connection],
                 transaction: Callable[[], AbstractContextManager[sqlite3.Connection]]) -> None:
        self._reader = connection
        self._transaction = transaction

    def lanes(self) -> list[str]:
        """The lanes (write keys) with queued rows."""
        rows = self._reader().execute(
            "SELECT DISTINCT lane FROM forward_queue WHERE state = 'queued' ORDER BY 1")
        return [row[0] for row in rows]

    def queued_totals(self) -> tuple[int, int]:
        """How many rows are queued, and their bodies' bytes."""
        count, size = self._reader().execute(
            "SELECT count(*), coalesce(sum(length(body)), 0) FROM forward_queue "
            "WHERE state = 'queued'").fetchone()
        return int(count), int(size)

    def next_batch(self, lane: str, after_id: int, limit: int) -> list[QueuedForward]:
        """Up to ``limit`` queued rows of ``lane`` above ``after_id``, oldest first."""
        rows = self._reader().execute(
            "SELECT id, request_id, lane, method, target, headers, body, attempts, "
            "next_attempt_at FROM forward_queue INDEXED BY forward_queue_lane "
            "WHERE state = 'queued' AND lane = ? AND id > ? ORDER BY id LIMIT ?",
            (lane, after_id, limit)).fetchall()
        return [QueuedForward(row[0], row[1], row[2], row[3], row[4],
                              [(name, value) for name, value in orjson.loads(row[5] or "[]")],
                              row[6] or b"", row[7], row[8]) for row in rows]

    def settle(self, attempts: Iterable[ForwardAttempt]) -> None:
        """Write attempts' outcomes in one transaction; the request rows get the last status
        and error too (the raw request shows them)."""
        now = time.time()
        queue_rows: list[tuple[Any, ...]] = []
        request_rows: list[tuple[Any, ...]] = []
        for attempt in attempts:
            queue_rows.append((attempt.state, attempt.attempts, attempt.status, attempt.error,
                               attempt.next_attempt_at, now, attempt.state, attempt.state,
                               attempt.queue_id))
            if attempt.request_id is not None:
                request_rows.append((attempt.status, attempt.error, attempt.request_id))
        if not queue_rows:
            return
        with self._transaction() as connection:
            # A settled row no longer needs what it would have sent.
            connection.executemany(
                "UPDATE forward_queue SET state = ?, attempts = ?, last_status = ?, "
                "last_error = ?, next_attempt_at = ?, updated_at = ?, "
                "headers = CASE WHEN ? = 'queued' THEN headers END, "
                "body = CASE WHEN ? = 'queued' THEN body END WHERE id = ?", queue_rows)
            connection.executemany(
                "UPDATE requests SET forward_status = ?, forward_error = ? WHERE id = ?",
                request_rows)

    def counts(self, session_id: int | None = None) -> dict[str, int]:
        """Rows per state (every state present, 0 when none), in one session or all."""
        if session_id is None:
            rows = self._reader().execute(
                "SELECT state, count(*) FROM forward_queue GROUP BY state")
        else:
            rows = self._reader().execute(
                "SELECT state, count(*) FROM forward_queue WHERE session_id = ? GROUP BY state",
                (session_id,))
        found = dict(rows.fetchall())
        return {state: int(found.get(state, 0)) for state in FORWARD_STATES}

    def states(self, request_ids: Iterable[int | None]) -> dict[int, dict[str, Any]]:
        """The forward state of each request that has a queue row (the others are "off")."""
        wanted = sorted({request_id for request_id in request_ids if request_id is not None})
        if not wanted:
            return {}
        rows = self._reader().execute(
            "SELECT request_id, state, attempts, last_status, last_error, next_attempt_at "
            "FROM forward_queue WHERE request_id IN (SELECT value FROM json_each(?))",
            (orjson.dumps(wanted).decode(),))
        return {request_id: forward_dict(state, attempts, status, error, next_at)
                for request_id, state, attempts, status, error, next_at in rows}


def forward_dict(state: str, attempts: int, status: int | None, error: str | None,
                 next_attempt_at: float) -> dict[str, Any]:
    """The API's shape of a forward state."""
    data: dict[str, Any] = {"state": state, "attempts": attempts, "last_status": status,
                            "last_error": error}
    if state == "queued" and attempts:
        data["next_attempt_at"] = next_attempt_at
    return data


#: The state of an event whose request was not forwarded (no ``--forward`` at the time).
FORWARD_OFF: dict[str, Any] = {"state": "off"}


def describe_forward(forward: dict[str, Any]) -> str:
    """A forward state (:func:`forward_dict`) in a few words, for people."""
    state, attempts = forward.get("state", "off"), int(forward.get("attempts") or 0)
    tries = f"{attempts} attempt{'s' * (attempts != 1)}"
    error = forward.get("last_error")
    if state == "delivered":
        return f"delivered (HTTP {forward.get('last_status')}, {tries})"
    if state == "failed":
        return f"failed after {tries}: {error}" if attempts else f"failed: {error}"
    if state == "queued":
        if not attempts:
            return "queued, not sent yet"
        moment = time.strftime("%H:%M:%S", time.localtime(forward.get("next_attempt_at") or 0))
        return f"queued, retrying at {moment} ({tries} so far; last: {error})"
    return "not forwarded (captured without --forward)"
