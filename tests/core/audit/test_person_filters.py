"""The event filters the Audit and People panels use: a finding's events, a person's events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from inspector.core.capture import CaptureService
from inspector.core.store import EventQuery
from tests.core.audit.test_customerio_holdings import fragmented_shopper

Audit = Callable[..., Any]


async def test_a_persons_events_and_a_findings_events(
    audit_traffic: Audit, capture: CaptureService,
) -> None:
    result = await audit_traffic(fragmented_shopper)
    jane = result.auditor.graph.find("8412")
    assert jane is not None
    ids = [*jane.user_ids, *jane.anonymous_ids]
    session = capture.session.id
    events = capture.store.query_events(EventQuery(session_id=session, person_ids=ids)).events
    assert len(events) == jane.event_count == 6
    assert all(e.user_id in ids or e.anonymous_id in ids for e in events)
    [finding] = [f for f in result.findings if f.check == "identity.multiple_user_ids"]
    chosen = capture.store.query_events(
        EventQuery(session_id=session, event_ids=list(finding.event_ids))).events
    assert [e.id for e in chosen] == list(finding.event_ids)
    # Beside other filters, and empty lists match nothing.
    identifies = capture.store.query_events(
        EventQuery(session_id=session, person_ids=ids, type="identify")).events
    assert len(identifies) == 3
    assert capture.store.query_events(EventQuery(session_id=session, event_ids=[])).total == 0
    assert capture.store.query_events(
        EventQuery(session_id=session, person_ids=[], q="jane")).total == 0


def test_id_lists_are_bounded() -> None:
    with pytest.raises(ValueError, match="at most 10000"):
        EventQuery(event_ids=list(range(10_001)))
