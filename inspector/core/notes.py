"""Tester notes: a line of text and an optional pass/fail mark on an event, a flow step or a
flow run, kept with the session.

A note names what it annotates by a kind and a text id: an event by its store id (``"42"``), a
flow step as ``<run id>:<step name>``, a flow run by its id. Notes carry no author (inspector
is a single-user desktop tool) and are timestamped when written and when edited. The window,
the REST API and the QA reports all read and write them through :class:`NoteStore`.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from inspector.core.store.connection import Database
from inspector.core.store.database import EventStore
from inspector.core.store.query import SQLITE_MAX_INT

__all__ = ["MAX_NOTE_CHARS", "Note", "NoteError", "NoteMark", "NoteStore", "NoteTarget",
           "check_note"]

#: A note is a tester's remark, not a document: longer text is a mistake (a pasted payload).
MAX_NOTE_CHARS = 10_000
#: Upper bound on a step's or run's id (flows name them; an event id is a number).
_MAX_TARGET_CHARS = 500


class NoteTarget(StrEnum):
    """What a note annotates."""

    EVENT = "event"
    STEP = "step"
    RUN = "run"


class NoteMark(StrEnum):
    """A tester's verdict on what the note annotates."""

    PASS = "pass"
    FAIL = "fail"


class NoteError(ValueError):
    """A note that cannot be stored; the message says why in one line."""


@dataclass(frozen=True, slots=True)
class Note:
    """One stored note (times are epoch seconds)."""

    id: int
    session_id: int
    target_kind: NoteTarget
    target_id: str
    text: str
    mark: NoteMark | None
    created_at: float
    updated_at: float

    @property
    def edited(self) -> bool:
        """Whether the note was changed after it was written."""
        return self.updated_at > self.created_at

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the REST API and the reports."""
        return {
            "id": self.id,
            "session_id": self.session_id,
            "target_kind": str(self.target_kind),
            "target_id": self.target_id,
            "text": self.text,
            "mark": None if self.mark is None else str(self.mark),
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds).astimezone().isoformat(timespec="seconds")


def check_note(target_kind: str, target_id: str, text: str,
               mark: str | None) -> tuple[NoteTarget, str, str, NoteMark | None]:
    """The note's fields in canonical form (text stripped, an event id without leading
    zeros); :class:`NoteError` naming the first field that is wrong."""
    try:
        kind = NoteTarget(target_kind)
    except ValueError:
        raise NoteError(f"unknown target_kind {target_kind!r}; valid: "
                        f"{', '.join(NoteTarget)}") from None
    shown = target_id.strip()
    if not shown:
        raise NoteError("target_id is empty")
    if len(shown) > _MAX_TARGET_CHARS:
        raise NoteError(f"target_id is longer than {_MAX_TARGET_CHARS} characters")
    if kind is NoteTarget.EVENT:
        if not shown.isdecimal() or int(shown) > SQLITE_MAX_INT:
            raise NoteError(f"an event's target_id is its id (a whole number), got {shown!r}")
        shown = str(int(shown))
    elif kind is NoteTarget.STEP:
        run, _, step = shown.partition(":")
        if not run.strip() or not step.strip():
            raise NoteError(f"a step's target_id is '<run id>:<step name>', got {shown!r}")
    body = text.strip()
    if not body:
        raise NoteError("a note needs some text")
    if len(body) > MAX_NOTE_CHARS:
        raise NoteError(f"a note may be at most {MAX_NOTE_CHARS:,} characters "
                        f"(this one has {len(body):,})")
    chosen: NoteMark | None = None
    if mark is not None and mark != "":
        try:
            chosen = NoteMark(mark)
        except ValueError:
            raise NoteError(f"unknown mark {mark!r}; valid: pass, fail, or none") from None
    return kind, shown, body, chosen


_COLUMNS = "id, session_id, target_kind, target_id, text, mark, created_at, updated_at"


def _note(row: tuple[Any, ...]) -> Note:
    return Note(row[0], row[1], NoteTarget(row[2]), row[3], row[4],
                NoteMark(row[5]) if row[5] else None, row[6], row[7])


class NoteStore:
    """The notes of every session in one inspector database."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self._db = Database(store.path)

    def close(self) -> None:
        """Close its connections (every thread's); any later use raises
        :class:`~inspector.core.store.connection.DatabaseClosedError`."""
        self._db.close()

    def add(self, session_id: int, target_kind: str, target_id: str, text: str,
            mark: str | None = None) -> Note:
        """Store a new note; :class:`NoteError` if a field is wrong, the session does not
        exist, or an event target is not an event of that session."""
        kind, target, body, chosen = check_note(target_kind, target_id, text, mark)
        now = time.time()
        with self._db.transaction() as connection:
            self._check_target(connection, session_id, kind, target)
            cursor = connection.execute(
                "INSERT INTO notes(session_id, target_kind, target_id, text, mark, created_at, "
                "updated_at) VALUES (?,?,?,?,?,?,?)",
                (session_id, str(kind), target, body, chosen and str(chosen), now, now))
            assert cursor.lastrowid is not None
            note_id = cursor.lastrowid
        return Note(note_id, session_id, kind, target, body, chosen, now, now)

    def update(self, note_id: int, text: str, mark: str | None) -> Note | None:
        """Change a note's text and mark; ``None`` if there is no such note."""
        existing = self.get(note_id)
        if existing is None:
            return None
        _, _, body, chosen = check_note(existing.target_kind, existing.target_id, text, mark)
        now = max(time.time(), existing.created_at)
        with self._db.transaction() as connection:
            cursor = connection.execute(
                "UPDATE notes SET text = ?, mark = ?, updated_at = ? WHERE id = ?",
                (body, chosen and str(chosen), now, note_id))
        if cursor.rowcount == 0:  # deleted meanwhile
            return None
        return Note(note_id, existing.session_id, existing.target_kind, existing.target_id,
                    body, chosen, existing.created_at, now)

    def delete(self, note_id: int) -> bool:
        """Delete a note; ``False`` if there was none."""
        with self._db.transaction() as connection:
            cursor = connection.execute("DELETE FROM notes WHERE id = ?", (note_id,))
        return cursor.rowcount > 0

    def get(self, note_id: int) -> Note | None:
        """One note by id."""
        row = self._db.connection().execute(
            f"SELECT {_COLUMNS} FROM notes WHERE id = ?", (note_id,)).fetchone()
        return _note(row) if row else None

    def for_session(self, session_id: int, target_kind: NoteTarget | None = None,
                    target_id: str | None = None) -> list[Note]:
        """A session's notes, oldest first; only those on one kind (and one target) if
        given."""
        params: list[object]
        clause, params = "session_id = ?", [session_id]
        if target_kind is not None:
            clause, params = f"{clause} AND target_kind = ?", [*params, str(target_kind)]
        if target_id is not None:
            clause, params = f"{clause} AND target_id = ?", [*params, target_id]
        rows = self._db.connection().execute(
            f"SELECT {_COLUMNS} FROM notes WHERE {clause} ORDER BY created_at, id", params)
        return [_note(row) for row in rows]

    def for_event(self, session_id: int, event_id: int) -> list[Note]:
        """The notes on one event, oldest first."""
        return self.for_session(session_id, NoteTarget.EVENT, str(event_id))

    @staticmethod
    def _check_target(connection: sqlite3.Connection, session_id: int, kind: NoteTarget,
                      target: str) -> None:
        if connection.execute("SELECT 1 FROM sessions WHERE id = ?",
                              (session_id,)).fetchone() is None:
            raise NoteError(f"no session {session_id}")
        if kind is NoteTarget.EVENT and connection.execute(
                "SELECT 1 FROM events WHERE id = ? AND session_id = ?",
                (int(target), session_id)).fetchone() is None:
            raise NoteError(f"no event {target} in session {session_id}")
