"""Shared set-up for replay tests: a session in a store, a planned run, an engine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from inspector.core.fixes import CorrectionStore
from inspector.core.replay import (
    Credentials,
    Destination,
    Mode,
    ReplayClient,
    ReplayControl,
    ReplayEngine,
    ReplayOptions,
    ReplayRun,
    ReplayRunStore,
    collect_items,
)
from inspector.core.store import EventQuery
from inspector.core.store.connection import Database
from tests.support.customerio_standin import CustomerIOStandIn
from tests.support.events import add_events

#: Fast but realistic: no waiting between requests beyond what the test is about.
FAST = ReplayOptions(rate=10_000, backoff_base=0.001, backoff_max=0.01, max_attempts=8)


@dataclass
class Setup:
    """A stored session planned as a replay run to the stand-in."""

    runs: ReplayRunStore
    run: ReplayRun
    destination: Destination
    credentials: Credentials
    event_ids: list[int]
    corrections: CorrectionStore

    def engine(
        self, options: ReplayOptions = FAST, **kwargs: Any
    ) -> tuple[ReplayEngine, ReplayClient]:
        """A fresh engine and client for this run (the caller closes the client)."""
        client = ReplayClient(self.destination, self.credentials)
        control = kwargs.pop("control", None) or ReplayControl()
        return ReplayEngine(self.runs, client, options=options, control=control, **kwargs), client


def credentials_for(standin: CustomerIOStandIn, mode: Mode) -> Credentials:
    if mode is Mode.PIPELINES:
        return Credentials(api_key=SecretStr(standin.cdp_key))
    return Credentials(site_id=standin.site_id, api_key=SecretStr(standin.api_key))


def plan(
    tmp_path: Path, standin: CustomerIOStandIn, events: list[dict[str, Any]],
    mode: Mode = Mode.CLASSIC, **destination_fields: Any,
) -> Setup:
    db_path = tmp_path / "inspector.sqlite"
    store, session_id, ids = add_events(db_path, events)
    corrections = CorrectionStore(store)
    destination = Destination(name="staging", mode=mode, track_host=standin.base_url,
                              **destination_fields)
    runs = ReplayRunStore(Database(db_path))
    items = collect_items(corrections, EventQuery(session_id=session_id))
    run = runs.create_run(destination, items, session_id=session_id)
    return Setup(runs, run, destination, credentials_for(standin, mode), ids, corrections)
