"""The SQLite schema and its migrations.

The schema version lives in ``PRAGMA user_version``; each entry in ``MIGRATIONS`` moves the file
one version forward, so a database written by an older inspector opens in a newer one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

__all__ = ["SCHEMA_VERSION", "migrate"]

_V1 = """
CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  REAL NOT NULL,
    plan_path   TEXT
);

CREATE TABLE write_keys (
    write_key   TEXT PRIMARY KEY,
    name        TEXT NOT NULL
);

-- One row per HTTP request, kept exactly as received (body still compressed if it came so),
-- so that a malformed request is never lost and every event can show where it came from.
CREATE TABLE requests (
    id                  INTEGER PRIMARY KEY,
    session_id          INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    received_at         REAL NOT NULL,
    method              TEXT NOT NULL,
    path                TEXT NOT NULL,
    query               TEXT,
    remote_addr         TEXT,
    headers             TEXT NOT NULL,
    body                BLOB,
    body_size           INTEGER NOT NULL,
    http_status         INTEGER NOT NULL,
    error_code          TEXT,
    error_message       TEXT,
    write_key           TEXT,
    write_key_source    TEXT,
    forward_status      INTEGER,
    forward_error       TEXT
);
CREATE INDEX requests_session ON requests(session_id, id);

CREATE TABLE events (
    id              INTEGER PRIMARY KEY,
    session_id      INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    request_id      INTEGER REFERENCES requests(id) ON DELETE SET NULL,
    received_at     REAL NOT NULL,
    write_key       TEXT,
    type            TEXT,
    name            TEXT,
    user_id         TEXT,
    anonymous_id    TEXT,
    message_id      TEXT,
    library         TEXT,
    status          TEXT NOT NULL,
    violation_count INTEGER NOT NULL DEFAULT 0,
    violations      TEXT NOT NULL DEFAULT '[]',
    payload         TEXT
);
CREATE INDEX events_session_id ON events(session_id, id);
CREATE INDEX events_received ON events(session_id, received_at);
CREATE INDEX events_type ON events(session_id, type);
CREATE INDEX events_name ON events(session_id, name);
CREATE INDEX events_user ON events(session_id, user_id);
CREATE INDEX events_anon ON events(session_id, anonymous_id);
CREATE INDEX events_message ON events(session_id, message_id);
CREATE INDEX events_write_key ON events(session_id, write_key);
CREATE INDEX events_status ON events(session_id, status);
"""

# Fix and replay. Secrets never land here: destinations hold only metadata, credentials live in
# the keyring under the destination's name (or in the environment variable a destination names).
_V2 = """
-- The corrected version of an event, beside the untouched original in events.payload.
CREATE TABLE corrections (
    event_id    INTEGER PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
    payload     TEXT NOT NULL,
    updated_at  REAL NOT NULL,
    source      TEXT
);

-- Saved bulk-fix sets, reusable on another session.
CREATE TABLE fix_sets (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL,
    fixes       TEXT NOT NULL
);

CREATE TABLE destinations (
    name        TEXT PRIMARY KEY,
    mode        TEXT NOT NULL,
    region      TEXT NOT NULL,
    marking     TEXT NOT NULL,
    settings    TEXT NOT NULL DEFAULT '{}',
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
);

CREATE TABLE replay_runs (
    id              INTEGER PRIMARY KEY,
    session_id      INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
    destination     TEXT NOT NULL,
    destination_json TEXT NOT NULL,
    options         TEXT NOT NULL DEFAULT '{}',
    created_at      REAL NOT NULL,
    updated_at      REAL NOT NULL,
    state           TEXT NOT NULL
);

-- One row per event in a run, in send order (seq). The payload is the snapshot taken when the
-- run was planned, so a resumed run sends exactly what the interrupted one would have.
CREATE TABLE replay_results (
    run_id          INTEGER NOT NULL REFERENCES replay_runs(id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    event_id        INTEGER,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL,
    http_status     INTEGER,
    response_body   TEXT,
    error           TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    updated_at      REAL,
    PRIMARY KEY (run_id, seq)
);
CREATE INDEX replay_results_status ON replay_results(run_id, status, seq);
"""

# Free-text search. The FTS5 tables themselves (one per session, ``events_fts_<session id>``) are
# created by the background indexer (:mod:`inspector.core.store.search`) as it reaches each
# session, so this step is instant even on a big database: an upgraded file starts with nothing
# indexed, searches scan until the indexer has caught up, and their answers never change.
_V3 = """
-- Every event with id <= indexed_upto is in its session's FTS table; above it, searches scan.
CREATE TABLE search_index_state (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_upto    INTEGER NOT NULL
);
INSERT INTO search_index_state(id, indexed_upto) VALUES (1, 0);
"""

# Deferred secondary indexing. Maintaining eight B-trees keyed on random values (messageIds,
# anonymousIds) inside every capture commit more than halved the writer's rate. Now the secondary
# indexes are partial, covering only rows with ``indexed = 1``; the writer inserts rows with
# ``indexed = 0`` (two sequential, append-only tail indexes find them), and a background builder
# (:mod:`inspector.core.store.indexing`) flips them to 1, which is when they enter the indexes.
# Reads take the union of both parts (:func:`inspector.core.store.query.union_select`), so
# answers never depend on how far the builder has got. Existing rows start indexed.
_V4 = """
ALTER TABLE events ADD COLUMN indexed INTEGER NOT NULL DEFAULT 1;
DROP INDEX events_received;
DROP INDEX events_type;
DROP INDEX events_name;
DROP INDEX events_user;
DROP INDEX events_anon;
DROP INDEX events_message;
DROP INDEX events_write_key;
DROP INDEX events_status;
CREATE INDEX events_received ON events(session_id, received_at) WHERE indexed = 1;
CREATE INDEX events_type ON events(session_id, type) WHERE indexed = 1;
CREATE INDEX events_name ON events(session_id, name) WHERE indexed = 1;
CREATE INDEX events_user ON events(session_id, user_id) WHERE indexed = 1;
CREATE INDEX events_anon ON events(session_id, anonymous_id) WHERE indexed = 1;
CREATE INDEX events_message ON events(session_id, message_id) WHERE indexed = 1;
CREATE INDEX events_write_key ON events(session_id, write_key) WHERE indexed = 1;
CREATE INDEX events_status ON events(session_id, status) WHERE indexed = 1;
CREATE INDEX events_tail ON events(session_id, id) WHERE indexed = 0;
CREATE INDEX events_tail_by_id ON events(id) WHERE indexed = 0;
"""

# Search index, second format (:mod:`inspector.core.store.search`): every indexed text now ends in
# a pad character, so that two-character searches can be answered from the index too, and the
# non-ASCII characters met while indexing are recorded. The old tables cannot be padded in place,
# so they are dropped and the background indexer rebuilds them; meanwhile searches scan, exactly
# as on a fresh upgrade to V3. Dropping is quick with secure_delete=FAST (measured: 1.4 s for a
# 2.7 GB index of a million events, 52 s with Debian's default secure_delete=ON, which zeroes
# every page): the text it held is still in events.payload, so zeroing it protects nothing.
_V5 = """
-- Non-ASCII characters (and NUL, as 0) that occur in some indexed text.
CREATE TABLE search_alphabet (
    codepoint   INTEGER PRIMARY KEY
);
UPDATE search_index_state SET indexed_upto = 0 WHERE id = 1;
"""


def _drop_search_tables(connection: sqlite3.Connection) -> None:
    """Drop every session's FTS table (quickly: see _V5), for the indexer to rebuild."""
    tables = [row[0] for row in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'events_fts_[0-9]*' "
        "AND name NOT GLOB 'events_fts_*[^0-9]*'")]
    secure_delete = connection.execute("PRAGMA secure_delete").fetchone()[0]
    connection.execute("PRAGMA secure_delete = FAST")
    try:
        for table in tables:
            connection.execute(f'DROP TABLE "{table}"')
    finally:
        connection.execute(f"PRAGMA secure_delete = {int(secure_delete)}")


def _run_script(connection: sqlite3.Connection, script: str) -> None:
    for statement in script.split(";"):
        if statement.strip():
            connection.execute(statement)


def _v5(connection: sqlite3.Connection) -> None:
    _drop_search_tables(connection)
    _run_script(connection, _V5)


# The plan panel's counts (track events per name, and how many of them are invalid or malformed)
# from one covering index: read from the table they took 1.3 s per million events. Partial like
# the other secondary indexes, so capture commits never touch it.
_V6 = """
CREATE INDEX events_track_name ON events(session_id, name, status)
    WHERE indexed = 1 AND type = 'track';
"""

# Rejected requests keep only a prefix of their body (a client could otherwise store megabytes
# of junk per request): the whole body's SHA-256 says what was sent, body_size how much.
_V7 = """
ALTER TABLE requests ADD COLUMN body_sha256 TEXT;
"""

# Search index, third format: texts are case-folded by Python's str.casefold() (Unicode) instead
# of SQLite's lower() (A-Z only), so "CAFÉ CRÈME" is found as "café crème". The tables and the
# alphabet they recorded are rebuilt by the background indexer, as after V5; searches scan
# meanwhile, with the same answers.
_V8 = """
DELETE FROM search_alphabet;
UPDATE search_index_state SET indexed_upto = 0 WHERE id = 1;
"""


def _v8(connection: sqlite3.Connection) -> None:
    _drop_search_tables(connection)
    _run_script(connection, _V8)


# Audit findings, kept with their session: one row per session and audit configuration (its
# hash), as of the newest event audited. Reopening a session shows them at once; newer events
# or another configuration mean they are computed again.
_V9 = """
CREATE TABLE audit_findings (
    session_id        INTEGER NOT NULL,
    config_hash       TEXT NOT NULL,
    through_event_id  INTEGER NOT NULL,
    computed_at       REAL NOT NULL,
    people            INTEGER NOT NULL,
    findings          TEXT NOT NULL,
    PRIMARY KEY (session_id, config_hash)
);
"""


# Tester notes (issue 14), kept with their session: a note annotates an event, a flow step or a
# flow run, named by target kind and a text id (an event's id, ``<run id>:<step name>``, a run's
# id) so steps and runs need no table of their own here. Deleting the session deletes its notes.
_V10 = """
CREATE TABLE notes (
    id           INTEGER PRIMARY KEY,
    session_id   INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    target_kind  TEXT NOT NULL,
    target_id    TEXT NOT NULL,
    text         TEXT NOT NULL,
    mark         TEXT,
    created_at   REAL NOT NULL,
    updated_at   REAL NOT NULL
);
CREATE INDEX notes_target ON notes(session_id, target_kind, target_id);
"""


# Session comparisons: the session accepted as the baseline (the window's "Accept as new
# baseline"), which the next comparison starts from. One row at most; deleting the session
# clears it.
_V11 = """
CREATE TABLE compare_baseline (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    accepted_at REAL NOT NULL
);
"""


# Flow runs (issue 14): a checklist run over a window of a session's events, with the flows'
# text, the plan and audit configuration it ran under, and its last evaluated results.
_V12_FLOW_RUNS = """
CREATE TABLE flow_runs (
    id                INTEGER PRIMARY KEY,
    session_id        INTEGER NOT NULL REFERENCES sessions(id),
    started_at        REAL NOT NULL,
    ended_at          REAL,
    after_event_id    INTEGER NOT NULL,
    until_event_id    INTEGER,
    flows             TEXT NOT NULL,
    plan              TEXT,
    audit_config      TEXT NOT NULL,
    results           TEXT NOT NULL DEFAULT '[]',
    evaluated_through INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX flow_runs_by_session ON flow_runs(session_id, id);
"""


# The --forward queue (:mod:`inspector.core.capture.forward`): one row per request to send
# upstream, inserted by the capture writer in the same transaction as the request itself, so an
# acknowledged request is never lost to forwarding either. ``lane`` (the write key, '' for none)
# orders delivery: one lane's rows go out one at a time in id order. The exact bytes to send
# (``method``, ``target``: path and query, ``headers``: [name, value] pairs, ``body``) are kept
# until the row is settled (delivered or failed), then dropped to free the space.
_V13 = """
CREATE TABLE forward_queue (
    id              INTEGER PRIMARY KEY,
    request_id      INTEGER REFERENCES requests(id) ON DELETE SET NULL,
    session_id      INTEGER,
    lane            TEXT NOT NULL,
    method          TEXT NOT NULL,
    target          TEXT NOT NULL,
    headers         TEXT,
    body            BLOB,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    last_status     INTEGER,
    last_error      TEXT,
    created_at      REAL NOT NULL,
    updated_at      REAL
);
CREATE INDEX forward_queue_lane ON forward_queue(state, lane, id);
CREATE INDEX forward_queue_request ON forward_queue(request_id);
CREATE INDEX forward_queue_session ON forward_queue(session_id, state);
"""


# Session comparisons (issue 15): each session's profile (the JSON form of
# inspector.core.compare.raw.RawProfile, of format ``format``), kept up to date in the background
# by inspector.core.compare.stored.ProfileBuilder; it covers the session's events up to
# ``profiled_upto``. Sessions captured before this step have no row: the builder profiles them
# from their first event, and comparisons read their events until it has.
_SESSION_PROFILES = """
CREATE TABLE session_profiles (
    session_id    INTEGER PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
    format        INTEGER NOT NULL,
    profiled_upto INTEGER NOT NULL,
    profile       BLOB NOT NULL
);
"""


# Kept summary counts (issue 16): each session's event counts by status, type, event name and
# violation kind (``grp``: the summary's group, ``value``: "" for NULL), kept up to date in the
# background by inspector.core.store.counts.SummaryCounter; they cover the session's events up
# to ``counted_upto``. Sessions without a row (captured before this step, or re-validated since)
# are counted from their first event, and summaries count their events live until they are.
_SESSION_COUNTS = """
CREATE TABLE session_counts (
    session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    grp         TEXT NOT NULL,
    value       TEXT NOT NULL,
    count       INTEGER NOT NULL,
    PRIMARY KEY (session_id, grp, value)
) WITHOUT ROWID;
CREATE TABLE session_counted (
    session_id    INTEGER PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
    counted_upto  INTEGER NOT NULL
);
"""


#: One step per version: an SQL script, or a function for steps that depend on what is there.
Migration = str | Callable[[sqlite3.Connection], None]

MIGRATIONS: tuple[Migration, ...] = (_V1, _V2, _V3, _V4, _v5, _V6, _V7, _v8, _V9,
                                  _V10, _V11, _V12_FLOW_RUNS, _V13,
                                  _SESSION_PROFILES, _SESSION_COUNTS)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(connection: sqlite3.Connection) -> None:
    """Bring ``connection``'s database up to :data:`SCHEMA_VERSION`."""
    current = connection.execute("PRAGMA user_version").fetchone()[0]
    if current > SCHEMA_VERSION:
        raise RuntimeError(
            f"this database was written by a newer inspector (schema {current}, "
            f"this version reads up to {SCHEMA_VERSION})"
        )
    for version in range(current, SCHEMA_VERSION):
        # One step, one transaction: a migration either lands whole or not at all.
        step = MIGRATIONS[version]
        if isinstance(step, str):
            connection.executescript(
                f"BEGIN;\n{step}\nPRAGMA user_version = {version + 1};\nCOMMIT;"
            )
            continue
        connection.execute("BEGIN IMMEDIATE")
        try:
            step(connection)
            connection.execute(f"PRAGMA user_version = {version + 1}")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
