"""Keyset paging for table views: the row a table shows, and live events joining a view.

:meth:`EventReader.query_events` counts the whole match on every call, which is what an API page
needs but not what a scrolling view needs: a view fetching the next 500 rows of a million-event
session would re-count the million each time. So the reader's ``page_events`` and
``count_events`` are separate, pages are fetched by id (``since_id``), never by ``OFFSET``, and
rows carry only the columns a table shows (:class:`EventRow`, whose fields name them).
"""

from __future__ import annotations

from typing import NamedTuple

import orjson

from inspector.core.model import PROBLEM_STATUSES
from inspector.core.store.query import EventQuery
from inspector.core.store.writer import CommittedEvent

__all__ = ["EventRow", "matches"]


class EventRow(NamedTuple):
    """The columns the live-tail table shows, straight from SQL: each field is the ``events``
    column of that name (``source_name``: the write key's name)."""

    id: int
    received_at: float
    type: str | None
    name: str | None
    user_id: str | None
    anonymous_id: str | None
    write_key: str | None
    source_name: str | None
    status: str
    violation_count: int




def matches(query: EventQuery, event: CommittedEvent) -> bool:
    """Whether a just-committed event passes ``query``'s filters, decided without SQL.

    Mirrors :meth:`EventQuery.where_clause` so that live events join a filtered view exactly when
    a fresh query would have returned them.
    """
    pending = event.event
    if query.session_id is not None and event.session_id != query.session_id:
        return False
    for wanted, actual in (
        (query.type, pending.type),
        (query.event, pending.name),
        (query.user_id, pending.user_id),
        (query.anonymous_id, pending.anonymous_id),
        (query.write_key, pending.write_key),
    ):
        if wanted is not None and wanted != actual:
            return False
    if query.any_id is not None and query.any_id not in (pending.user_id, pending.anonymous_id):
        return False
    if query.problems:
        if pending.status not in (query.status or ()) and pending.status not in \
                PROBLEM_STATUSES and not pending.violation_count:
            return False
    elif query.status and pending.status not in query.status:
        return False
    if query.violation_kind is not None or query.severity:
        violations = orjson.loads(pending.violations_json)
        kind = (query.violation_kind or "").lower()
        if query.violation_kind is not None and kind not in {
                str(item.get("kind", "")).lower() for item in violations}:
            return False
        if query.severity and not {item.get("severity", "error") for item in violations} \
                & set(query.severity):
            return False
    if query.fields:
        payload = orjson.loads(pending.payload_json) if pending.payload_json else None
        if not all(field.matches(payload) for field in query.fields):
            return False
    if query.q and (
        pending.payload_json is None
        or query.q.casefold() not in pending.payload_json.casefold()
    ):
        return False
    if query.since is not None and pending.received_at < query.since:
        return False
    if query.until_id is not None and event.id >= query.until_id:
        return False
    return query.since_id is None or event.id > query.since_id
