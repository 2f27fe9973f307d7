"""The window's audit: one :class:`SessionAudit` for the session shown, kept current off the
GUI thread, and delivered to the Audit and People panels and the detail pane.

New events only mark the audit stale; a timer (at most once a second) hands a refresh to the
window's :class:`~inspector.gui.tasks.TaskRunner`, which reads only what arrived since the last
one, runs the checks, and builds the panels' rows on the worker. The GUI thread just swaps the
results in, so a live session at 1,000 events/s costs it one model reset per second.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QDockWidget

from inspector.core.audit import AuditConfig, Auditor, Check, Finding
from inspector.core.audit.live import SessionAudit
from inspector.core.audit.storage import load_stored_audit, store_audit
from inspector.core.store import CommittedEvent, EventStore
from inspector.gui.models.audit import build_findings_tree
from inspector.gui.tasks import TaskRunner
from inspector.gui.widgets.audit_panels import AuditPanel, PeoplePanel

__all__ = ["AuditResults", "AuditView"]

#: How often a stale audit is refreshed while events arrive (milliseconds).
REFRESH_MS = 1000
#: Sessions whose audits the window keeps in memory (the last shown), so going back is instant.
RECENT_AUDITS = 3
#: Seconds between keeping a live session's findings with it (each keep writes them all).
KEEP_EVERY = 30.0
#: People listed in the panel at most (the most recently active): a production-sized capture
#: links tens of thousands, and a list that long is neither readable nor cheap to refresh.
PEOPLE_SHOWN = 2000


@dataclass(frozen=True, slots=True)
class AuditResults:
    """One refresh's results, all built on the worker."""

    session_id: int
    checks: Sequence[Check]
    findings: list[Finding]
    tree: list[Any]
    people: list[dict[str, Any]]
    people_total: int
    by_event: dict[int, list[Finding]]
    #: How long the refresh took on its worker: wall and thread CPU seconds (benchmarks).
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    #: When the findings were kept with the session, for results read back from it.
    stored_at: float | None = None
    #: The newest event these results are known to cover, and whether they were kept.
    through_event_id: int = 0
    kept: bool = False


def stored_results(store: EventStore, session_id: int,
                   config: AuditConfig) -> AuditResults | None:
    """The findings kept with a session from its last audit, as results (worker thread)."""
    checks = Auditor(config).checks
    stored = load_stored_audit(store, session_id, config, [check.id for check in checks])
    if stored is None:
        return None
    by_event: dict[int, list[Finding]] = {}
    for finding in stored.findings:
        for event_id in finding.event_ids:
            by_event.setdefault(event_id, []).append(finding)
    return AuditResults(session_id, checks, stored.findings,
                        build_findings_tree(checks, stored.findings), [], stored.people,
                        by_event, stored_at=stored.computed_at)


def compute_results(audit: SessionAudit, *, keep: bool = False) -> AuditResults:
    """Catch ``audit`` up and build everything the panels show (worker thread: no Qt);
    ``keep``: also keep the findings with the session (for the next time it is opened)."""
    started, cpu = time.perf_counter(), time.thread_time()
    last = audit.store.session_last_event_id(audit.session_id)
    findings = audit.refresh(ordered=False)  # the tree orders each check's own
    if keep:
        # As of the newest event before the refresh began (one that arrived during it is
        # audited next time, never claimed now).
        store_audit(audit.store, audit.session_id, audit.config,
                    [check.id for check in audit.auditor.checks], min(last, audit.last_id),
                    audit.people_count, findings)
    time.sleep(0)  # let the GUI thread take the GIL between the steps
    checks = audit.auditor.checks
    by_event: dict[int, list[Finding]] = {}
    for finding in findings:
        for event_id in finding.event_ids:
            by_event.setdefault(event_id, []).append(finding)
    return AuditResults(audit.session_id, checks, findings,
                        build_findings_tree(checks, findings),
                        audit.people_json(limit=PEOPLE_SHOWN), audit.people_count, by_event,
                        time.perf_counter() - started, time.thread_time() - cpu,
                        through_event_id=min(last, audit.last_id), kept=keep)


class AuditView(QObject):
    """Owns the Audit and People panels and the audit of the session they show."""

    #: New results are in the panels (for the detail pane and tests): the session id.
    sig_updated = Signal(int)

    def __init__(self, store: EventStore, tasks: TaskRunner, *,
                 config: AuditConfig | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.tasks = tasks
        self.config = config or AuditConfig()
        #: The configuration as the audit file gave it (before a plan's names are added).
        self._file_config = self.config
        self.audit_panel = AuditPanel()
        self.people_panel = PeoplePanel()
        self._audit: SessionAudit | None = None
        self._recent: dict[int, SessionAudit] = {}
        self._stale = False
        self._running = False
        self._kept_at = 0.0
        self.results: AuditResults | None = None
        #: (wall, CPU) seconds of each refresh on its worker, for benchmarks.
        self.refresh_times: list[tuple[float, float]] = []
        #: The results each panel shows (they lag behind while hidden).
        self._shown_in: dict[str, AuditResults | None] = {"audit": None, "people": None}
        #: Whether each panel is on screen (always, until docks are attached).
        self._on_screen = {"audit": True, "people": True}
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._refresh_if_stale)
        self._timer.start()

    @property
    def session_id(self) -> int | None:
        """The session audited."""
        return self._audit.session_id if self._audit is not None else None

    def show_session(self, session_id: int) -> None:
        """Show ``session_id``'s audit: the one this window kept up to date when it was shown
        lately, else what was kept with the session at once while it is audited from scratch
        (in the background)."""
        if self.session_id == session_id:
            return
        self._keep_unkept()
        audit = self._recent.pop(session_id, None)
        if audit is None:
            audit = SessionAudit(self.store, session_id, self.config)
        self._recent[session_id] = audit
        while len(self._recent) > RECENT_AUDITS:  # bound memory: forget the oldest shown
            self._recent.pop(next(iter(self._recent)))
        self._audit = audit
        self.results = None
        self._shown_in = {"audit": None, "people": None}
        self.audit_panel.set_results([], [])
        self.audit_panel.summary.setText("Auditing…")
        self.people_panel.set_people([], [])
        self._stale = True
        self._kept_at = 0.0
        if audit.last_id == 0:
            config, store = self.config, self.store
            # What the last audit of this session found, at once, while it is audited.
            self.tasks.submit(lambda: stored_results(store, session_id, config),
                              self._apply_stored, what="Reading the session's last audit")
        self._refresh_if_stale()

    def _keep_unkept(self) -> None:
        """Keep the shown session's latest findings with it if the last keep is older (when
        another session is chosen: reopened after a restart, it shows them at once)."""
        results, audit = self.results, self._audit
        if results is None or audit is None or results.kept or results.stored_at is not None:
            return
        store, config = self.store, self.config
        checks = [check.id for check in results.checks]
        self.tasks.submit(
            lambda: store_audit(store, results.session_id, config, checks,
                                results.through_event_id, results.people_total,
                                results.findings),
            lambda _kept: None, what="Keeping the session's audit")

    def _apply_stored(self, results: AuditResults | None) -> None:
        if results is None or results.session_id != self.session_id or self.results is not None:
            return  # nothing kept, another session chosen, or the fresh audit came first
        self.results = results
        self._show_results()
        when = datetime.fromtimestamp(results.stored_at or 0).strftime("%Y-%m-%d %H:%M")
        self.audit_panel.summary.setText(
            f"{self.audit_panel.summary.text()} (as audited {when}; updating…)")

    def set_planned_events(self, names: Sequence[str]) -> None:
        """The loaded tracking plan's event names (``drift.event_name`` compares the session's
        names with them), added to the audit file's own; the session is audited again."""
        self.set_config(self._file_config.model_copy(update={"planned_events": list(
            dict.fromkeys([*self._file_config.planned_events, *names]))}), from_file=False)

    def set_config(self, config: AuditConfig, *, from_file: bool = True) -> None:
        """Audit with another configuration: the session is audited again from scratch."""
        if from_file:
            self._file_config = config
        self.config = config
        session_id = self.session_id
        self._audit = None
        self._recent.clear()
        if session_id is not None:
            self.show_session(session_id)

    def on_events_committed(self, batch: Sequence[CommittedEvent]) -> None:
        """New events: the audit is stale if any belongs to the session shown."""
        session_id = self.session_id
        if session_id is not None and any(event.session_id == session_id for event in batch):
            self._stale = True

    def findings_for_event(self, event_id: int) -> list[Finding]:
        """The current findings that name ``event_id``."""
        if self.results is None:
            return []
        return list(self.results.by_event.get(event_id, []))

    def pause(self) -> None:
        """Stop refreshing (benchmarks compare the window with and without it)."""
        self._timer.stop()

    def refresh_now(self) -> None:
        """Refresh at once (tests, and after a plan or configuration change)."""
        self._stale = True
        self._refresh_if_stale()

    def _refresh_if_stale(self) -> None:
        audit = self._audit
        if audit is None or not self._stale or self._running:
            return
        self._stale = False
        self._running = True
        # Kept with the session after its first full audit, then at most every KEEP_EVERY s.
        keep = time.monotonic() - self._kept_at >= KEEP_EVERY
        if keep:
            self._kept_at = time.monotonic()
        self.tasks.submit(lambda: compute_results(audit, keep=keep), self._apply,
                          on_error=self._failed, what="Auditing the session")

    def _apply(self, results: AuditResults) -> None:
        self._running = False
        if results.session_id != self.session_id:
            self._refresh_if_stale()  # another session was chosen meanwhile
            return
        self.results = results
        self.refresh_times.append((results.wall_seconds, results.cpu_seconds))
        self._show_results()
        self.sig_updated.emit(results.session_id)

    def _show_results(self) -> None:
        """Put the latest results in the panels that are on screen; a panel behind another
        tab gets them when it is shown (no model resets for what nobody sees)."""
        results = self.results
        if results is None:
            return
        if self._on_screen["audit"] and self._shown_in["audit"] is not results:
            self.audit_panel.set_tree(results.tree, results.findings, results.people_total)
            self._shown_in["audit"] = results
        if self._on_screen["people"] and self._shown_in["people"] is not results:
            self.people_panel.set_people(results.people, results.findings,
                                         total=results.people_total)
            self._shown_in["people"] = results

    def attach_docks(self, audit_dock: QDockWidget, people_dock: QDockWidget) -> None:
        """Follow which panel is on screen: a dock behind another tab is not, although Qt
        still calls it visible."""
        for key, dock in (("audit", audit_dock), ("people", people_dock)):
            self._on_screen[key] = False
            dock.visibilityChanged.connect(
                lambda visible, key=key: self._on_visibility(key, visible))

    def _on_visibility(self, key: str, visible: bool) -> None:
        self._on_screen[key] = visible
        if visible:
            self._show_results()

    def _failed(self, error: BaseException) -> None:
        self._running = False
        self.audit_panel.summary.setText(f"The audit failed: {error}")
        self.tasks.sig_failed.emit("Auditing the session", str(error))
