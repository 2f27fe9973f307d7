"""Choosing what to replay and previewing the exact requests, before anything is sent."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from inspector.core.fixes.corrections import CorrectionStore
from inspector.core.replay.destinations import Destination
from inspector.core.replay.mapping import mapper_for
from inspector.core.replay.mapping.base import Dropped, PlannedRequest, Rejected, ReplayItem
from inspector.core.store.query import EventQuery

__all__ = ["collect_items", "preview_requests", "to_items"]


def collect_items(
    corrections: CorrectionStore, query: EventQuery
) -> list[tuple[int | None, dict[str, Any]]]:
    """``(event_id, payload)`` for every event matching ``query``, in capture order.

    The payload is the correction when the event has one: replay sends what the user fixed.
    """
    return [(record.id, payload) for record, payload in corrections.iter_effective(query)]


def to_items(pairs: Iterable[tuple[int | None, dict[str, Any]]]) -> list[ReplayItem]:
    """Number ``(event_id, payload)`` pairs in send order."""
    return [ReplayItem(seq, event_id, payload) for seq, (event_id, payload) in enumerate(pairs)]


def preview_requests(
    destination: Destination, items: Sequence[ReplayItem]
) -> list[PlannedRequest | Dropped | Rejected]:
    """The requests a replay would send (``.request.preview()`` redacts the secret), with the
    events it would drop or reject, in send order."""
    return mapper_for(destination).plan(items)
