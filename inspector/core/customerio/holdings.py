"""What Customer.io will hold for a session, per destination mode.

The session's (corrected) events go through the replay's own mapping for the mode, and the
requests it would send are applied to a :class:`WorkspaceModel`. Nothing is sent anywhere.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from inspector.core.customerio.workspace import WorkspaceModel
from inspector.core.replay.destinations import Destination, Mode
from inspector.core.replay.mapping import mapper_for
from inspector.core.replay.mapping.base import (
    Dropped,
    PlannedRequest,
    Rejected,
    ReplayItem,
    event_time,
)

__all__ = ["TRIGGER_WINDOW_SECONDS", "Holdings", "customerio_holdings"]

#: Customer.io: "Events whose timestamp is within the past 72 h can trigger campaigns".
TRIGGER_WINDOW_SECONDS = 72 * 3600


@dataclass(frozen=True, slots=True)
class Holdings:
    """The people and events one mode would leave in a workspace."""

    mode: Mode
    workspace: WorkspaceModel
    dropped: list[tuple[int | None, str]]
    too_old: list[int | None]
    shoppers: int | None

    @property
    def headline(self) -> str:
        """"this session creates 3 Customer.io people for what the traffic links as 1 shopper"."""
        people = len(self.workspace.profiles())
        made = f"{people} Customer.io {'person' if people == 1 else 'people'}"
        if self.shoppers is None:
            return f"In {self.mode.value} mode this session creates {made}"
        linked = f"{self.shoppers} {'shopper' if self.shoppers == 1 else 'shoppers'}"
        return (f"In {self.mode.value} mode this session creates {made} for what the "
                f"traffic links as {linked}")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of ``inspector people --mode``."""
        return {
            "mode": self.mode.value,
            "headline": self.headline,
            "profiles": [profile.to_dict() for profile in self.workspace.profiles()],
            "anonymous_unmerged": {anonymous: [name for name, _ in events]
                                   for anonymous, events in self.workspace.anonymous.items()},
            "dropped": [{"event_id": event_id, "reason": reason}
                        for event_id, reason in self.dropped],
            "outside_trigger_window": self.too_old,
            "attribute_conflicts": list(self.workspace.attribute_conflicts),
        }


def customerio_holdings(items: Sequence[ReplayItem], mode: Mode, *,
                        shoppers: int | None = None, now: float | None = None) -> Holdings:
    """Map ``items`` the way a replay in ``mode`` would and apply them to a model workspace.

    ``shoppers``: how many people the traffic links (the identity graph), for the headline.
    """
    destination = Destination(name=f"model {mode.value}", mode=mode)
    planned = mapper_for(destination).plan(items)
    event_ids = {item.seq: item.event_id for item in items}
    workspace = WorkspaceModel(event_ids)
    workspace.apply(entry for entry in planned if isinstance(entry, PlannedRequest))
    dropped = [(event_ids.get(entry.seq), entry.reason) for entry in planned
               if isinstance(entry, Dropped | Rejected)]
    moment = time.time() if now is None else now
    too_old = [
        item.event_id for item in items
        if (seconds := event_time(item.payload)) is not None
        and moment - seconds > TRIGGER_WINDOW_SECONDS
    ]
    return Holdings(mode, workspace, dropped, too_old, shoppers)
