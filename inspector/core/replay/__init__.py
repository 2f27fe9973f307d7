"""Replay of (corrected) events into a Customer.io workspace.

Layers, each usable alone: :mod:`.mapping` (Segment call → HTTP request, pure),
:mod:`.client` (httpx, credentials added at send time), :mod:`.runs` (stored runs and per-event
results), :mod:`.engine` (ordered, rate-limited, retrying, resumable sending).
"""

from inspector.core.replay.client import ConnectionCheck, HttpResult, ReplayClient
from inspector.core.replay.destinations import (
    Credentials,
    CredentialStore,
    Destination,
    DestinationStore,
    Marking,
    Mode,
    Region,
)
from inspector.core.replay.engine import (
    ProductionLockedError,
    RateLimiter,
    ReplayControl,
    ReplayEngine,
    ReplayOptions,
    ReplayProgress,
    ReplaySummary,
    check_unlocked,
)
from inspector.core.replay.environments import (
    CrossEnvironment,
    ReplayScope,
    cross_environment,
    replay_scope,
)
from inspector.core.replay.ids import stable_event_id
from inspector.core.replay.mapping import (
    Dropped,
    HttpRequest,
    PlannedRequest,
    Rejected,
    ReplayItem,
    mapper_for,
)
from inspector.core.replay.planning import collect_items, preview_requests, to_items
from inspector.core.replay.runs import (
    ItemResult,
    ItemStatus,
    ReplayRun,
    ReplayRunStore,
    ResultRow,
    RunState,
)

__all__ = [
    "ConnectionCheck",
    "CredentialStore",
    "Credentials",
    "CrossEnvironment",
    "Destination",
    "DestinationStore",
    "Dropped",
    "HttpRequest",
    "HttpResult",
    "ItemResult",
    "ItemStatus",
    "Marking",
    "Mode",
    "PlannedRequest",
    "ProductionLockedError",
    "RateLimiter",
    "Region",
    "Rejected",
    "ReplayClient",
    "ReplayControl",
    "ReplayEngine",
    "ReplayItem",
    "ReplayOptions",
    "ReplayProgress",
    "ReplayRun",
    "ReplayRunStore",
    "ReplayScope",
    "ReplaySummary",
    "ResultRow",
    "RunState",
    "check_unlocked",
    "collect_items",
    "cross_environment",
    "mapper_for",
    "preview_requests",
    "replay_scope",
    "stable_event_id",
    "to_items",
]
