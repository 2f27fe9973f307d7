"""Compare two captures: profile each side, then diff the profiles.

A side is a stored session (any store: a file given on the command line is imported into a
temporary one, see :mod:`inspector.core.compare.sides`), optionally narrowed to some of its
events (``event_ids``: a flow run's calls, when flows exist). A whole session's profile is
mostly read from the one kept with it (:mod:`inspector.core.compare.stored`); what is left to
do per side is the people pass (SQLite sorting the calls by person, which releases the GIL:
both sides' run on threads side by side) and profiling the events the stored profile does not
cover yet. When both sides have many of those, the baseline is profiled in a second process
while this one profiles the candidate: that pass is CPU-bound Python, and two cores halve its
wall time.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Collection
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.core.compare.diff import diff_profiles, sort_differences, step_order
from inspector.core.compare.model import Comparison, SideInfo
from inspector.core.compare.options import CompareOptions
from inspector.core.compare.people import PeopleProfile, build_people
from inspector.core.compare.profile import SessionProfile, build_profile
from inspector.core.compare.stored import events_to_profile
from inspector.core.store.reader import EventReader

if TYPE_CHECKING:
    from inspector.core.compare.flow_side import FlowSteps

__all__ = ["PARALLEL_MIN_EVENTS", "Side", "compare"]

#: Both sides with at least this many events to profile (not in their stored profiles): the
#: baseline is profiled in a second process (below it, a process's start-up costs more than
#: it saves).
PARALLEL_MIN_EVENTS = 50_000


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a comparison: a session of a store, maybe narrowed to some events."""

    reader: EventReader
    info: SideInfo
    #: The database file (for the second process); ``None``: profile in this process.
    db_path: Path | None = None
    event_ids: Collection[int] | None = None
    #: Narrowed to a flow's run: its steps' order, which ``sequence_changed`` then compares
    #: instead of each person's calls (:mod:`inspector.core.compare.flow_side`).
    flow_steps: FlowSteps | None = None


def profile_side(reader: EventReader, session_id: int, options: CompareOptions,
                 event_ids: Collection[int] | None = None
                 ) -> tuple[SessionProfile, PeopleProfile]:
    """Both profiles of one side. The people pass is mostly SQLite sorting (which releases
    the GIL), so it runs on a thread beside the Python-bound profile pass."""
    with ThreadPoolExecutor(1, thread_name_prefix="inspector-compare") as pool:
        people = pool.submit(build_people, reader, session_id, event_ids=event_ids)
        profile = build_profile(reader, session_id, options, event_ids=event_ids)
        return profile, people.result()


def _to_profile(side: Side) -> int:
    """How many events profiling ``side`` would read (the rest is in its stored profile)."""
    if side.event_ids is not None:
        return len(side.event_ids)
    return events_to_profile(side.reader, side.info.session_id)


def _profile_in_child(db_path: str, session_id: int, options: CompareOptions,
                      event_ids: list[int] | None) -> tuple[SessionProfile, PeopleProfile]:
    from inspector.core.store import EventStore

    store = EventStore(db_path)
    try:
        return profile_side(store, session_id, options, event_ids)
    finally:
        store.close()


def compare(baseline: Side, candidate: Side,
            options: CompareOptions | None = None) -> Comparison:
    """Every difference between ``baseline`` and ``candidate``."""
    options = options or CompareOptions()
    # Not in a frozen app: there a spawned child would start the app itself again.
    parallel = (baseline.db_path is not None and not getattr(sys, "frozen", False)
                and min(_to_profile(baseline), _to_profile(candidate)) >= PARALLEL_MIN_EVENTS)
    if parallel:
        assert baseline.db_path is not None
        # spawn, not fork: the window calls this from a worker thread of a Qt process.
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            future = pool.submit(
                _profile_in_child, str(baseline.db_path), baseline.info.session_id, options,
                None if baseline.event_ids is None else list(baseline.event_ids))
            new, new_people = profile_side(candidate.reader, candidate.info.session_id,
                                           options, candidate.event_ids)
            old, old_people = future.result()
    else:
        with ThreadPoolExecutor(2, thread_name_prefix="inspector-compare") as pool:
            people = [pool.submit(build_people, side.reader, side.info.session_id,
                                  event_ids=side.event_ids) for side in (baseline, candidate)]
            old, new = (build_profile(side.reader, side.info.session_id, options,
                                      event_ids=side.event_ids)
                        for side in (baseline, candidate))
            old_people, new_people = (future.result() for future in people)
    steps = (baseline.flow_steps, candidate.flow_steps)
    if steps[0] is not None and steps[1] is not None:
        differences = diff_profiles(old, new, old_people, new_people, options,
                                    sequences=False)
        differences = sort_differences([*differences, *step_order(steps[0], steps[1])])
    else:
        differences = diff_profiles(old, new, old_people, new_people, options)
    return Comparison(baseline.info, candidate.info, tuple(differences))
