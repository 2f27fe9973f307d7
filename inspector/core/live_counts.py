"""Counts kept current from live batches between SQL recounts (the window's side panels).

The plan panel (events seen and violated per planned event) and the sessions panel (events
per session) are counted by SQL up to an event id when a session opens, a plan loads or a
session is deleted; counting a big session that way costs ~0.5 s at 200k events, far too
much to repeat every few seconds. Between recounts every live batch adds its events after
that id here, in O(batch), and the window applies the pending deltas once a second.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from inspector.core.model import VIOLATED_STATUSES
from inspector.core.store import EventStore, SessionInfo
from inspector.core.store.writer import CommittedEvent

__all__ = ["LiveCounts", "SessionCounts", "read_session_counts"]


class LiveCounts:
    """Pending per-session and per-planned-event counts since the last SQL recount."""

    def __init__(self) -> None:
        self.sessions_through = 0
        self.plan_through = 0
        #: The session whose plan counts are kept (``None``: the plan panel is not counting).
        self.plan_session: int | None = None
        self._sessions: dict[int, int] = {}
        self._plan: dict[str, list[int]] = {}

    @property
    def counting_plan(self) -> bool:
        """Whether plan counts are being kept."""
        return self.plan_session is not None

    def sessions_recounted(self, through_id: int) -> None:
        """The sessions list was read by SQL up to ``through_id``: drop what is pending."""
        self.sessions_through = through_id
        self._sessions = {}

    def plan_recounted(self, session_id: int | None, through_id: int = 0) -> None:
        """The plan panel was counted by SQL for ``session_id`` up to ``through_id``
        (``None``: it is not counting any more)."""
        self.plan_session = session_id
        self.plan_through = through_id
        self._plan = {}

    def add(self, batch: Iterable[CommittedEvent]) -> None:
        """Count a live batch (events at or below the recount ids are already counted)."""
        sessions_through, sessions = self.sessions_through, self._sessions
        plan_through, plan, current = self.plan_through, self._plan, self.plan_session
        for committed in batch:
            event_id, session_id = committed.id, committed.session_id
            if event_id > sessions_through:
                sessions[session_id] = sessions.get(session_id, 0) + 1
            if current is not None and event_id > plan_through and session_id == current:
                event = committed.event
                if event.type == "track" and event.name is not None:
                    counts = plan.get(event.name)
                    if counts is None:
                        counts = plan[event.name] = [0, 0]
                    counts[0] += 1
                    if event.status in VIOLATED_STATUSES:
                        counts[1] += 1

    def take_sessions(self) -> dict[int, int]:
        """New events per session since the last call (and the last recount)."""
        taken, self._sessions = self._sessions, {}
        return taken

    def take_plan(self) -> dict[str, tuple[int, int]]:
        """``(seen, violated)`` per event name since the last call (and the last recount)."""
        taken, self._plan = self._plan, {}
        return {name: (seen, violated) for name, (seen, violated) in taken.items()}


@dataclass(frozen=True, slots=True)
class SessionCounts:
    """Everything the window counts when it opens a session, read up to one event id."""

    #: Counted up to this event id; live batches add what comes after.
    through: int
    statuses: dict[str, int]
    sessions: list[SessionInfo]
    names: list[str]
    write_keys: list[str]
    #: ``(seen, violated)`` per event name, when asked for (a plan is shown).
    plan: dict[str, tuple[int, int]] | None


def read_session_counts(store: EventStore, session_id: int, *, plan: bool) -> SessionCounts:
    """The status counters, sessions list, filter choices and (``plan``) plan-panel counts of
    a session: ~1.2 s of SQL at a million events, so callers run it off the GUI thread."""
    through = store.max_event_id()
    return SessionCounts(
        through=through,
        statuses=store.status_counts(session_id),
        sessions=store.list_sessions(through_id=through),
        names=store.distinct_values("name", session_id),
        write_keys=store.distinct_values("write_key", session_id),
        plan=store.event_stats(session_id, through) if plan else None,
    )
