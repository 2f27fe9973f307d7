"""The side panels' live counts, without Qt."""

from __future__ import annotations

from inspector.core.live_counts import LiveCounts
from inspector.core.store.writer import CommittedEvent, PendingEvent


def _event(event_id: int, session_id: int, name: str | None = "Order Completed", *,
           type_: str = "track", status: str = "valid") -> CommittedEvent:
    return CommittedEvent(event_id, 1, session_id, PendingEvent(
        0.0, None, type_, name, None, None, None, None, status, 0, "[]", "{}"))


def test_sessions_count_only_events_after_the_recount() -> None:
    counts = LiveCounts()
    counts.sessions_recounted(10)
    counts.add([_event(9, 1), _event(11, 1), _event(12, 2), _event(13, 1)])
    assert counts.take_sessions() == {1: 2, 2: 1}
    assert counts.take_sessions() == {}


def test_plan_counts_track_events_of_the_counted_session_with_violations() -> None:
    counts = LiveCounts()
    counts.add([_event(1, 1)])
    assert counts.take_plan() == {}  # not counting
    counts.plan_recounted(1, through_id=5)
    counts.add([
        _event(5, 1),  # already counted by SQL
        _event(6, 1, status="invalid"),
        _event(7, 1, status="malformed"),
        _event(8, 1, status="unplanned"),
        _event(9, 2),  # another session
        _event(10, 1, "Home", type_="page"),  # not a track call
        _event(11, 1, None),
        _event(12, 1, "Product Viewed"),
    ])
    assert counts.take_plan() == {"Order Completed": (3, 2), "Product Viewed": (1, 0)}
    assert counts.take_plan() == {}


def test_a_recount_drops_what_was_pending() -> None:
    counts = LiveCounts()
    counts.plan_recounted(1)
    counts.add([_event(1, 1)])
    counts.sessions_recounted(0)
    counts.add([_event(2, 1)])
    counts.plan_recounted(None)
    counts.sessions_recounted(2)
    assert not counts.counting_plan
    assert counts.take_plan() == {}
    assert counts.take_sessions() == {}
