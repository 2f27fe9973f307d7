"""Tester notes kept with their session (inspector.core.notes)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from inspector.core.notes import MAX_NOTE_CHARS, NoteError, NoteMark, NoteStore, NoteTarget
from inspector.core.store import EventStore
from inspector.core.store.schema import SCHEMA_VERSION
from tests.support.events import add_events, make_event


@pytest.fixture
def store(db_path: Path) -> EventStore:
    return EventStore(db_path)


def one_event(store: EventStore, session: str = "qa") -> tuple[int, int]:
    """A session holding one event: its id and the event's."""
    _, session_id, [event_id] = add_events(store.path, [make_event()], session=session)
    return session_id, event_id


def test_notes_on_events_steps_and_runs_survive_reopening(store: EventStore) -> None:
    session_id, event_id = one_event(store)
    notes = NoteStore(store)
    first = notes.add(session_id, "event", f"0{event_id}", "  cart_id missing on mobile  ",
                      "fail")
    notes.add(session_id, "step", "run-7:Checkout Started", "looked right", "pass")
    notes.add(session_id, "run", "run-7", "guest checkout, Firefox")
    assert first.target_id == str(event_id)  # canonical: no leading zero
    assert first.text == "cart_id missing on mobile"
    assert first.mark is NoteMark.FAIL

    reopened = NoteStore(EventStore(store.path))
    assert [n.text for n in reopened.for_event(session_id, event_id)] == [first.text]
    assert [n.target_kind for n in reopened.for_session(session_id)] == [
        NoteTarget.EVENT, NoteTarget.STEP, NoteTarget.RUN]
    assert reopened.for_session(session_id, NoteTarget.RUN)[0].mark is None


def test_editing_and_deleting(store: EventStore) -> None:
    session_id, event_id = one_event(store)
    notes = NoteStore(store)
    note = notes.add(session_id, "event", str(event_id), "first")
    edited = notes.update(note.id, "second", "pass")
    assert edited is not None
    assert (edited.text, edited.mark, edited.created_at) == ("second", NoteMark.PASS,
                                                             note.created_at)
    assert notes.get(note.id) == edited
    assert notes.update(note.id + 100, "x", None) is None
    assert notes.delete(note.id)
    assert not notes.delete(note.id)
    assert notes.for_session(session_id) == []


@pytest.mark.parametrize(("kind", "target", "text", "mark", "message"), [
    ("evnt", "1", "x", None, "unknown target_kind 'evnt'; valid: event, step, run"),
    ("event", "one", "x", None, "an event's target_id is its id (a whole number)"),
    ("event", "", "x", None, "target_id is empty"),
    ("step", "no-colon", "x", None, "a step's target_id is '<run id>:<step name>'"),
    ("run", "r1", "   ", None, "a note needs some text"),
    ("run", "r1", "x" * (MAX_NOTE_CHARS + 1), None, "a note may be at most 10,000 characters"),
    ("run", "r1", "x", "maybe", "unknown mark 'maybe'; valid: pass, fail, or none"),
])
def test_bad_notes_say_why(store: EventStore, kind: str, target: str, text: str,
                           mark: str | None, message: str) -> None:
    session = store.create_session("qa")
    with pytest.raises(NoteError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        NoteStore(store).add(session.id, kind, target, text, mark)


def test_an_event_of_another_session_is_refused(store: EventStore) -> None:
    _, event_id = one_event(store, "one")
    two = store.create_session("two")
    with pytest.raises(NoteError, match=f"no event {event_id} in session {two.id}"):
        NoteStore(store).add(two.id, "event", str(event_id), "x")
    with pytest.raises(NoteError, match="no session 999"):
        NoteStore(store).add(999, "run", "r", "x")


def test_deleting_the_session_deletes_its_notes(store: EventStore) -> None:
    session = store.create_session("qa")
    notes = NoteStore(store)
    notes.add(session.id, "run", "r1", "x")
    store.delete_session(session.id)
    rows = sqlite3.connect(store.path).execute("SELECT count(*) FROM notes").fetchone()
    assert rows == (0,)


def test_an_older_database_gains_the_notes_table(db_path: Path) -> None:
    from inspector.core.store.schema import MIGRATIONS, migrate

    connection = sqlite3.connect(db_path, isolation_level=None)
    for version, step in enumerate(MIGRATIONS[:-1]):
        if isinstance(step, str):
            connection.executescript(f"BEGIN;\n{step}\nPRAGMA user_version = {version + 1};\n"
                                     "COMMIT;")
        else:
            step(connection)
            connection.execute(f"PRAGMA user_version = {version + 1}")
    connection.execute("INSERT INTO sessions(name, created_at) VALUES ('old', 1.0)")
    migrate(connection)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert connection.execute("SELECT count(*) FROM notes").fetchone() == (0,)
