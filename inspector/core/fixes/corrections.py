"""Stored corrections and saved fix sets.

A correction is the whole corrected payload of one event, kept in its own table beside the
original (which is never rewritten): the detail pane shows both and their diff, and replay sends
the corrected one. Bulk fixes are applied on top of the current correction when there is one, so
hand edits and fix sets stack instead of overwriting each other.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

from inspector.core.fixes.diff import DiffEntry, json_diff
from inspector.core.fixes.operations import Fix, FixPreview, apply_fixes, fix_list_adapter, preview
from inspector.core.model import EventRecord
from inspector.core.store.connection import Database
from inspector.core.store.database import EventStore
from inspector.core.store.query import EventQuery

__all__ = ["ApplyResult", "Correction", "CorrectionStore", "FixSet"]


class FixSet(BaseModel):
    """A named, ordered list of fixes that can be saved and applied to another session."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    fixes: list[Fix] = Field(default_factory=list)

    def to_json(self) -> bytes:
        """The portable JSON form (for sharing a fix set as a file)."""
        return self.model_dump_json(indent=2).encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> FixSet:
        """Read :meth:`to_json` output; raises ``pydantic.ValidationError`` if malformed."""
        return cls.model_validate_json(data)


@dataclass(frozen=True, slots=True)
class Correction:
    """An event's original payload, its corrected payload and the difference."""

    event_id: int
    original: dict[str, Any]
    corrected: dict[str, Any]
    updated_at: float
    source: str | None

    @property
    def diff(self) -> list[DiffEntry]:
        """What the correction changed."""
        return json_diff(self.original, self.corrected)


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """How many events a bulk fix changed, and the values it could not fix (by event id)."""

    changed: int
    problems: dict[int, list[str]]


class CorrectionStore:
    """Corrections and fix sets in an inspector database."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self._db = Database(store.path)

    @classmethod
    def open(cls, path: Path | str) -> CorrectionStore:
        """A correction store over the database at ``path``."""
        return cls(EventStore(path))

    # ---- single corrections

    def save(self, event_id: int, payload: dict[str, Any], *, source: str | None = None) -> None:
        """Store ``payload`` as the correction of ``event_id`` (replacing an earlier one).

        Saving a payload equal to the original removes the correction instead: an edit that was
        undone by hand should not leave the event marked as corrected.
        """
        self.save_many([(event_id, payload)], source=source)

    def save_many(
        self, items: Iterable[tuple[int, dict[str, Any]]], *, source: str | None = None
    ) -> int:
        """Store many corrections in one transaction; returns how many were stored or removed."""
        items = list(items)
        originals = self._originals([event_id for event_id, _ in items])
        now = time.time()
        upserts: list[tuple[int, str, float, str | None]] = []
        removals: list[tuple[int]] = []
        for event_id, payload in items:
            if event_id not in originals:
                raise KeyError(f"no event with id {event_id}")
            if not json_diff(originals[event_id], payload):
                removals.append((event_id,))
            else:
                upserts.append((event_id, orjson.dumps(payload).decode(), now, source))
        with self._db.transaction() as connection:
            connection.executemany(
                "INSERT INTO corrections(event_id, payload, updated_at, source) VALUES (?,?,?,?) "
                "ON CONFLICT(event_id) DO UPDATE SET payload = excluded.payload, "
                "updated_at = excluded.updated_at, source = excluded.source",
                upserts,
            )
            connection.executemany("DELETE FROM corrections WHERE event_id = ?", removals)
        return len(upserts) + len(removals)

    def get(self, event_id: int) -> Correction | None:
        """The correction of one event, with its original, or ``None``."""
        row = (
            self._db.connection()
            .execute(
                "SELECT c.payload, c.updated_at, c.source, e.payload FROM corrections c "
                "JOIN events e ON e.id = c.event_id WHERE c.event_id = ?",
                (event_id,),
            )
            .fetchone()
        )
        if row is None:
            return None
        return Correction(
            event_id, orjson.loads(row[3] or b"{}"), orjson.loads(row[0]), row[1], row[2]
        )

    def delete(self, event_id: int) -> bool:
        """Drop a correction (revert to the original); ``False`` if there was none."""
        with self._db.transaction() as connection:
            cursor = connection.execute("DELETE FROM corrections WHERE event_id = ?", (event_id,))
        return cursor.rowcount > 0

    def corrected_ids(self, session_id: int) -> set[int]:
        """Ids of the events of a session that have a correction."""
        rows = self._db.connection().execute(
            "SELECT c.event_id FROM corrections c JOIN events e ON e.id = c.event_id "
            "WHERE e.session_id = ?",
            (session_id,),
        )
        return {row[0] for row in rows}

    def corrected_payloads(self, event_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """The corrected payloads of those of ``event_ids`` that have one."""
        found: dict[int, dict[str, Any]] = {}
        connection = self._db.connection()
        for start in range(0, len(event_ids), 500):
            chunk = list(event_ids[start : start + 500])
            rows = connection.execute(
                f"SELECT event_id, payload FROM corrections WHERE event_id IN "
                f"({','.join('?' * len(chunk))})",
                chunk,
            )
            found.update((event_id, orjson.loads(payload)) for event_id, payload in rows)
        return found

    def effective(self, records: Sequence[EventRecord]) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(event_id, payload)`` for each record: its correction if any, else its original."""
        corrected = self.corrected_payloads([record.id for record in records])
        for record in records:
            payload = corrected.get(record.id, record.payload)
            if payload is not None:
                yield record.id, payload

    def iter_effective(
        self, query: EventQuery, *, chunk: int = 2000
    ) -> Iterator[tuple[EventRecord, dict[str, Any]]]:
        """Every event matching ``query`` in capture order with its effective payload."""
        batch: list[EventRecord] = []
        for record in self.store.iter_events(query, chunk=chunk):
            batch.append(record)
            if len(batch) >= chunk:
                yield from self._pair(batch)
                batch = []
        yield from self._pair(batch)

    def _pair(self, records: list[EventRecord]) -> Iterator[tuple[EventRecord, dict[str, Any]]]:
        corrected = self.corrected_payloads([record.id for record in records])
        for record in records:
            payload = corrected.get(record.id, record.payload)
            if payload is not None:
                yield record, payload

    # ---- bulk fixes

    def preview(
        self, fixes: Sequence[Fix], *, query: EventQuery | None = None,
        event_ids: Sequence[int] | None = None,
    ) -> Iterator[FixPreview]:
        """What ``fixes`` would change over a filter or a selection; writes nothing."""
        return preview(fixes, self._targets(query, event_ids))

    def apply(
        self, fixes: Sequence[Fix], *, query: EventQuery | None = None,
        event_ids: Sequence[int] | None = None, source: str | None = None,
    ) -> ApplyResult:
        """Apply ``fixes`` to a filter or a selection and store the corrections."""
        changed: list[tuple[int, dict[str, Any]]] = []
        problems: dict[int, list[str]] = {}
        for event_id, payload in self._targets(query, event_ids):
            after, issues = apply_fixes(fixes, payload)
            if issues:
                problems[event_id] = issues
            if json_diff(payload, after):
                changed.append((event_id, after))
        for start in range(0, len(changed), 2000):
            self.save_many(changed[start : start + 2000], source=source or "bulk fix")
        return ApplyResult(len(changed), problems)

    def _targets(
        self, query: EventQuery | None, event_ids: Sequence[int] | None
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        if (query is None) == (event_ids is None):
            raise ValueError("give either a query or a selection of event ids")
        if query is not None:
            for record, payload in self.iter_effective(query):
                yield record.id, payload
            return
        assert event_ids is not None
        records = [record for record in map(self.store.get_event, event_ids) if record]
        yield from self.effective(records)

    # ---- fix sets

    def save_fix_set(self, fix_set: FixSet) -> None:
        """Store a fix set under its name (replacing one of the same name)."""
        now = time.time()
        fixes = fix_list_adapter.dump_json(fix_set.fixes).decode()
        with self._db.transaction() as connection:
            connection.execute(
                "INSERT INTO fix_sets(name, created_at, updated_at, fixes) VALUES (?,?,?,?) "
                "ON CONFLICT(name) DO UPDATE SET fixes = excluded.fixes, "
                "updated_at = excluded.updated_at",
                (fix_set.name, now, now, fixes),
            )

    def load_fix_set(self, name: str) -> FixSet | None:
        """A saved fix set by name."""
        row = self._db.connection().execute(
            "SELECT fixes FROM fix_sets WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            return None
        return FixSet(name=name, fixes=fix_list_adapter.validate_json(row[0]))

    def list_fix_sets(self) -> list[str]:
        """Names of the saved fix sets, alphabetically."""
        rows = self._db.connection().execute("SELECT name FROM fix_sets ORDER BY name")
        return [row[0] for row in rows]

    def delete_fix_set(self, name: str) -> bool:
        """Remove a saved fix set; ``False`` if there was none."""
        with self._db.transaction() as connection:
            cursor = connection.execute("DELETE FROM fix_sets WHERE name = ?", (name,))
        return cursor.rowcount > 0

    # ---- helpers

    def _originals(self, event_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        found: dict[int, dict[str, Any]] = {}
        connection = self._db.connection()
        for start in range(0, len(event_ids), 500):
            chunk = list(event_ids[start : start + 500])
            rows = connection.execute(
                f"SELECT id, payload FROM events WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            found.update((row[0], orjson.loads(row[1] or b"{}")) for row in rows)
        return found
