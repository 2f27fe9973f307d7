"""Flows over a stored session: the same evaluator, fed from the store."""

from __future__ import annotations

from collections.abc import Sequence

from inspector.core.audit.config import AuditConfig
from inspector.core.audit.live import observe_rows
from inspector.core.flows.evaluate import FlowResult, RunEvaluator
from inspector.core.flows.model import Flow
from inspector.core.gc_tuning import collector_paused
from inspector.core.store.reader import EventReader

__all__ = ["catch_up", "evaluate_session"]


def catch_up(evaluator: RunEvaluator, store: EventReader, session_id: int) -> None:
    """Feed ``evaluator`` what the session stored since it last read (blocking)."""
    names = store.write_key_names()
    rows = store.iter_call_rows(session_id, after_id=evaluator.last_id)
    with collector_paused():
        evaluator.feed(observe_rows(rows, names))


def evaluate_session(store: EventReader, session_id: int, flows: Sequence[Flow],
                     config: AuditConfig | None = None, *, after_id: int = 0,
                     until_id: int | None = None, since: float | None = None,
                     ended: bool = True) -> list[FlowResult]:
    """Evaluate ``flows`` over a stored session's calls in ``(after_id, until_id]`` received
    at or after ``since``."""
    evaluator = RunEvaluator(flows, config, after_id=after_id, until_id=until_id, since=since)
    catch_up(evaluator, store, session_id)
    return evaluator.results(ended=ended)
