"""The profile kept with each session, brought up to date in the background as events arrive.

:class:`ProfileBuilder` is a :class:`~inspector.core.store.background.CatchUpWorker`: in
short batches it folds the events of a session above the session's watermark into the
session's stored :class:`~inspector.core.compare.raw.RawProfile` (the table
``session_profiles``, see :mod:`inspector.core.store.schema`), and moves the watermark
(``profiled_upto``) in the same transaction. A comparison
(:func:`~inspector.core.compare.profile.build_profile`) reads the stored profile and profiles
only the events above the watermark, so its answer never depends on how far the builder got,
only its speed does. Sessions without a stored profile (captured before the table existed, or
of another format) are profiled from their first event on the builder's next start.

The builder only uses its own connection and what the database holds (the last profile it
wrote is kept in memory too, but only used while the database says it is still current), so
it can run in any process that can open the database.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from inspector.core.compare.profile import profile_rows
from inspector.core.compare.raw import FORMAT, RawProfile, decode, encode, merge
from inspector.core.store.background import CatchUpWorker, WriteTurn, session_watermark_lag
from inspector.core.store.connection import immediate_transaction
from inspector.core.store.query import EventQuery
from inspector.core.store.reader import CallRow, EventReader

__all__ = ["ProfileBuilder", "events_to_profile", "load_profile", "profile_batch"]

_CALL_SELECT = ", ".join(CallRow._fields)

#: Sessions with events above their watermark (or whose profile is of another format), and
#: the watermark.
_WAITING = """
SELECT s.id, coalesce(p.profiled_upto, 0) FROM sessions s
LEFT JOIN session_profiles p ON p.session_id = s.id AND p.format = :format
WHERE EXISTS (SELECT 1 FROM events e
              WHERE e.session_id = s.id AND e.id > coalesce(p.profiled_upto, 0))
ORDER BY s.id
"""


def load_profile(reader: EventReader, session_id: int) -> tuple[int, RawProfile] | None:
    """The profile kept with a session and its watermark: it covers the session's events up
    to that id. ``None`` if none is kept (or one of another format)."""
    kept = reader.stored_profile(session_id)
    if kept is None or kept[0] != FORMAT:
        return None
    _, upto, data = kept
    profile = decode(data)
    return None if profile is None else (upto, profile)


def events_to_profile(reader: EventReader, session_id: int) -> int:
    """How many of a session's events its stored profile does not cover yet (all of them,
    without one)."""
    kept = reader.stored_profile(session_id)
    upto = kept[1] if kept is not None and kept[0] == FORMAT else 0
    return reader.count_events(EventQuery(session_id=session_id, since_id=upto))


class _Cache:
    """The profile the builder last wrote, with the session and watermark it is for."""

    __slots__ = ("profile", "session_id", "upto")

    def __init__(self) -> None:
        self.session_id = 0
        self.upto = 0
        self.profile: RawProfile | None = None


def profile_batch(connection: sqlite3.Connection, limit: int,
                  cache: _Cache | None = None) -> tuple[int, int]:
    """Fold up to ``limit`` events of the first session that has any above its watermark
    into its stored profile, in one transaction.

    Returns how many events were folded and the highest id up to which every session's
    events are now in its stored profile.
    """
    cache = cache or _Cache()
    try:
        with immediate_transaction(connection):
            waiting = connection.execute(_WAITING, {"format": FORMAT}).fetchall()
            if not waiting:
                last = connection.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()
                return 0, int(last[0])
            session_id, upto = waiting[0]
            rows = [CallRow._make(row) for row in connection.execute(
                f"SELECT {_CALL_SELECT} FROM events WHERE session_id = ? AND id > ? "
                "ORDER BY id LIMIT ?", (session_id, upto, limit))]
            profile = _stored(connection, session_id, upto, cache)
            merge(profile, profile_rows(rows))
            reached = rows[-1].id
            connection.execute(
                "INSERT INTO session_profiles(session_id, format, profiled_upto, profile) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(session_id) DO UPDATE SET "
                "format = excluded.format, profiled_upto = excluded.profiled_upto, "
                "profile = excluded.profile", (session_id, FORMAT, reached, encode(profile)))
    except BaseException:
        cache.profile = None  # merged in place: no longer what the database holds
        raise
    cache.session_id, cache.upto, cache.profile = session_id, reached, profile
    return len(rows), min(reached if waiting_id == session_id else waiting_upto
                          for waiting_id, waiting_upto in waiting)


def _stored(connection: sqlite3.Connection, session_id: int, upto: int,
            cache: _Cache) -> RawProfile:
    if not upto:
        return RawProfile()
    if cache.profile is not None and (cache.session_id, cache.upto) == (session_id, upto):
        return cache.profile
    row = connection.execute("SELECT profile FROM session_profiles WHERE session_id = ?",
                             (session_id,)).fetchone()
    profile = decode(row[0]) if row else None
    return profile if profile is not None else RawProfile()


class ProfileBuilder(CatchUpWorker):
    """Runs :func:`profile_batch` beside the capture writer.

    Comparisons do not need it to keep up (they profile what it has not reached), so it
    mostly works while capture is quiet; a small share of a busy capture's time, growing as
    it falls behind, keeps the part left for comparisons bounded under sustained traffic.
    """

    THREAD_NAME = "inspector-profile-builder"
    BUSY_SHARE = 0.05
    LAG_TARGET = 30.0
    MAX_BUSY_SHARE = 0.25
    HOLD_SECONDS = 0.03

    def __init__(self, path: Path | str, *, write_turn: WriteTurn | None = None) -> None:
        super().__init__(path, write_turn=write_turn)
        self._cache = _Cache()

    def do_batch(self, connection: sqlite3.Connection, limit: int) -> tuple[int, int]:
        """Profile up to ``limit`` more events."""
        return profile_batch(connection, limit, self._cache)

    def lag_seconds(self, connection: sqlite3.Connection) -> float:
        """How long ago the oldest event not in its session's stored profile was received."""
        return session_watermark_lag(connection, _WAITING, {"format": FORMAT})
