"""A session's audit kept current: each refresh reads only the calls stored since the last.

The capture service and the window both hold one :class:`SessionAudit` per session shown;
it never re-reads what it has seen, so refreshing a live session costs what arrived since.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from inspector.core.audit.config import AuditConfig
from inspector.core.audit.finding import Finding
from inspector.core.audit.framework import Auditor
from inspector.core.audit.overview import Arrivals, audit_overview, event_ids_of, mark_people
from inspector.core.gc_tuning import collector_paused
from inspector.core.observed import ObservedEvent
from inspector.core.people import IdentityGraph
from inspector.core.store import EventStore
from inspector.core.store.reader import CallRow

__all__ = ["SessionAudit", "observe_rows"]

#: Calls fed between two hand-overs of the GIL.
_CHUNK = 250


def observe_rows(rows: Iterable[CallRow],
                 write_key_names: Mapping[str, str]) -> Iterator[ObservedEvent]:
    """Lean stored rows (:meth:`EventStore.iter_call_rows`) as the checks read them."""
    from_row = ObservedEvent.from_row
    for row in rows:
        yield from_row(row, write_key_names)


class SessionAudit:
    """The findings and people of one stored session, caught up on demand (thread-safe)."""

    def __init__(self, store: EventStore, session_id: int,
                 config: AuditConfig | None = None) -> None:
        self.store = store
        self.session_id = session_id
        self.config = config or AuditConfig()
        self.auditor = Auditor(self.config)
        self.last_id = 0
        #: When each audited call arrived (the panel's sparklines).
        self.arrivals = Arrivals()
        self._findings: list[Finding] = []
        self._lock = threading.Lock()

    def refresh(self, *, ordered: bool = True) -> list[Finding]:
        """Feed what was stored since the last refresh; the current findings (``ordered``
        as :meth:`Auditor.findings`)."""
        with self._lock:
            self._catch_up()
            with collector_paused():
                self._findings = self.auditor.findings(ordered=ordered)
            return self._findings

    def catch_up(self) -> int:
        """Feed what was stored since the last refresh (no findings worked out); the id of
        the last call fed (:attr:`last_id`)."""
        with self._lock:
            self._catch_up()
            return self.last_id

    @contextmanager
    def held(self) -> Iterator[IdentityGraph]:
        """Hold the audit while the caller reads its identity graph (nothing feeds it
        meanwhile): flow runs read people from it instead of linking the session's calls a
        second time."""
        with self._lock:
            yield self.auditor.graph

    def _catch_up(self) -> None:
        names = self.store.write_key_names()
        batch: list[ObservedEvent] = []
        rows = self.store.iter_call_rows(self.session_id, after_id=self.last_id)
        with collector_paused():
            for observed in observe_rows(rows, names):
                batch.append(observed)
                if len(batch) >= _CHUNK:
                    self._feed(batch)
                    batch = []
                    # Hand the GIL over between chunks: the window's thread waits for it
                    # otherwise (bench/gui_live.py --mix retail: 131 ms stalls, 18 ms of
                    # them the GUI thread's own work).
                    time.sleep(0)
            self._feed(batch)

    def _feed(self, batch: list[ObservedEvent]) -> None:
        if batch:
            self.auditor.feed(batch)
            self.arrivals.add([event.id for event in batch],
                              [event.received_at for event in batch])
            self.last_id = batch[-1].id

    @property
    def findings(self) -> list[Finding]:
        """The findings as of the last :meth:`refresh`."""
        return self._findings

    def overview(self, *, per_check: int = 200, people: int | None = 2000) -> dict[str, Any]:
        """What the Audit and People panels show (:func:`audit_overview`), as of the last
        :meth:`refresh`: per check its counts, sparkline and first ``per_check`` findings;
        ``people``: the most recently active people listed (``0``: none), with the findings
        about each."""
        with self._lock:
            checks = self.auditor.checks
            findings = self._findings
        data = audit_overview(checks, findings, arrivals=self.arrivals, per_check=per_check)
        listed = self.people_json(limit=people) if people != 0 else []
        data["people"] = mark_people(listed, findings)
        data["people_total"] = self.people_count
        data["through_event_id"] = self.last_id
        return data

    def event_ids_of(self, checks: Iterable[str], *, skip: int = 0) -> list[int]:
        """The events of every current finding of ``checks`` (see :func:`event_ids_of`)."""
        return event_ids_of(self._findings, checks, skip=skip)

    def findings_for_event(self, event_id: int) -> list[Finding]:
        """The current findings that name ``event_id``, in panel order."""
        return sorted((finding for finding in self._findings if event_id in finding.event_ids),
                      key=lambda finding: finding.order)

    def people_json(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The people linked so far, as JSON, in order of their first call (call
        :meth:`refresh` first); with ``limit``, only the most recently active ones."""
        with self._lock:
            people = list(self.auditor.people())
            if limit is not None and len(people) > limit:
                recent = heapq.nlargest(limit, people, key=lambda person: person.last_event_id)
                people = sorted(recent, key=lambda person: person.first_event_id)
            return [person.to_dict() for person in people]

    @property
    def people_count(self) -> int:
        """How many people the calls so far link."""
        return len(self.auditor.graph)

    def person_json(self, person_id: str) -> dict[str, Any] | None:
        """One person by any identifier (``user:ID``, ``anon:ID``, ``email:ADDRESS``), with
        the findings that concern them."""
        with self._lock:
            person = self.auditor.graph.find(person_id)
            if person is None:
                return None
            data = person.to_dict()
            data["findings"] = [finding.to_dict() for finding in self._findings
                                if finding.person == person.id]
            return data
