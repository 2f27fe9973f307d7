"""Flows followed over one stored session: caught up on each reading, on the session audit's
identity graph while one is kept that links people the same way, else on their own.

A live run (:class:`~inspector.core.flows.runs.LiveRun`) and ``serve``'s repeated checks
(``inspector check --url --wait`` asks several times a second) both follow flows this way,
so each reading costs what was stored since the last.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from inspector.core.audit.config import AuditConfig
from inspector.core.flows.evaluate import FlowResult, RunEvaluator
from inspector.core.flows.model import Flow
from inspector.core.flows.session import catch_up, shares_people
from inspector.core.gc_tuning import collector_paused
from inspector.core.store.reader import EventReader

if TYPE_CHECKING:
    from inspector.core.audit.live import SessionAudit

__all__ = ["AuditSource", "FollowedFlows"]

#: What gives followed flows the audit of their session, when one is kept (``None``: none).
AuditSource = Callable[[int], "SessionAudit | None"]


class FollowedFlows:
    """``flows`` over session ``session_id``'s calls in ``(after_id, until_id]`` received at
    or after ``since``, read again by :meth:`read` (thread-safe).

    ``audits``: where the caller keeps its sessions' audits (``serve``). While the session has
    one that links people as ``config`` does, people are read from its identity graph
    (brought up to date first) and only candidate calls are fed; else the session's calls are
    linked here. When that audit appears, goes or is rebuilt, the flows are fed again for the
    new graph.
    """

    def __init__(self, store: EventReader, session_id: int, flows: Sequence[Flow],
                 config: AuditConfig, *, after_id: int = 0, until_id: int | None = None,
                 since: float | None = None, audits: AuditSource | None = None) -> None:
        self.store = store
        self.session_id = session_id
        self.flows = list(flows)
        self.config = config
        self.after_id = after_id
        self.until_id = until_id
        self.since = since
        self._audits = audits
        #: The audit whose graph the evaluator reads (``None``: its own graph).
        self._audit: SessionAudit | None = None
        self._evaluator = self._new_evaluator(None)
        self._lock = threading.Lock()

    def _new_evaluator(self, audit: SessionAudit | None) -> RunEvaluator:
        return RunEvaluator(self.flows, self.config, after_id=self.after_id,
                            until_id=self.until_id, since=self.since,
                            graph=audit.auditor.graph if audit is not None else None)

    @property
    def shares_audit(self) -> bool:
        """Whether the last reading read people from the session's audit."""
        return self._audit is not None

    @property
    def last_id(self) -> int:
        """The last call read."""
        return self._evaluator.last_id

    def read(self, *, ended: bool, stopping: bool = False) -> list[FlowResult]:
        """Catch up with the session and evaluate (``ended``: optional steps not seen are
        skipped); ``stopping``: the window ends at the last call read (:attr:`until_id`)."""
        with self._lock:
            audit = self._shared_audit()
            if audit is not self._audit:
                # Another graph: the candidates so far were fed for the old one.
                self._audit, self._evaluator = audit, self._new_evaluator(audit)
            evaluator = self._evaluator
            with collector_paused():
                if audit is None:
                    catch_up(evaluator, self.store, self.session_id)
                    return self._results(evaluator, ended, stopping)
                # The candidates are read while the audit goes on (a long catch-up would
                # hold up the audit's panels); the graph may have seen a few calls more by
                # the time it is read, as it will have when the run is re-evaluated.
                catch_up(evaluator, self.store, self.session_id, through=audit.catch_up())
                with audit.held():
                    return self._results(evaluator, ended, stopping)

    def _results(self, evaluator: RunEvaluator, ended: bool,
                 stopping: bool) -> list[FlowResult]:
        if stopping:
            self.until_id = evaluator.until_id = evaluator.last_id
        return evaluator.results(ended=ended)

    def _shared_audit(self) -> SessionAudit | None:
        if self._audits is None:
            return None
        audit = self._audits(self.session_id)
        if audit is None or not shares_people(audit.config, self.config):
            return None
        return audit
