"""The window's audit: the findings of the session shown, kept current where the events are
captured, and delivered to the Audit and People panels and the detail pane.

While the window's capture child (``inspector serve``) runs, the child keeps the audit: it
already holds one :class:`SessionAudit` per session for its REST API. The window asks it, at
most once a second while events arrive, for what the panels show (``GET audit/overview``: per
check its counts, sparkline and first findings; the people listed), and on demand for a
check's events (a click) and the findings naming the selected event. In-process, the audit
had to share the window's GIL with painting: at 1,000 events/s that stalled the event loop
for 77-116 ms (bench/gui_live.py --mix retail). A window without a child audits in a worker
of its own with the same core code and the same overview.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import httpx
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QDockWidget

from inspector.core.audit import AuditConfig, Auditor, Finding
from inspector.core.audit.live import SessionAudit
from inspector.core.audit.overview import audit_overview
from inspector.core.audit.storage import load_stored_audit, store_audit
from inspector.core.store import CommittedEvent, EventStore
from inspector.gui.child_api import ChildApi, child_api
from inspector.gui.models.audit import build_overview_tree, shown_findings
from inspector.gui.tasks import TaskRunner
from inspector.gui.widgets.audit_panels import AuditPanel, PeoplePanel

if TYPE_CHECKING:
    from inspector.gui.capture import CaptureController

__all__ = ["AuditResults", "AuditView"]

#: How often a stale audit is refreshed while events arrive (milliseconds).
REFRESH_MS = 1000
#: Sessions whose audits a window without a capture child keeps in memory (the last shown).
RECENT_AUDITS = 3
#: Seconds between keeping a live session's findings with it (each keep writes them all).
KEEP_EVERY = 30.0
#: People listed in the panel at most (the most recently active): a production-sized capture
#: links tens of thousands, and a list that long is neither readable nor cheap to refresh.
PEOPLE_SHOWN = 2000
#: Findings listed under one check (the rest are one "… N more" row).
SHOWN_PER_CHECK = 200


@dataclass(frozen=True, slots=True)
class AuditResults:
    """One refresh's results, all built off the GUI thread."""

    session_id: int
    #: The overview (:func:`~inspector.core.audit.overview.audit_overview` plus people).
    overview: dict[str, Any]
    tree: list[Any]
    #: The findings the tree lists (each check's first few; the counts are the overview's).
    findings: list[Finding]
    people: list[dict[str, Any]]
    people_total: int
    #: How long the refresh took off the GUI thread: wall and thread CPU seconds (benchmarks).
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    #: When the findings were kept with the session, for results read back from it.
    stored_at: float | None = None
    #: The newest event these results are known to cover, and whether they were kept.
    through_event_id: int = 0
    kept: bool = False
    counts: dict[str, int] = field(default_factory=dict)


def _results(session_id: int, overview: dict[str, Any], started: tuple[float, float], *,
             stored_at: float | None = None, kept: bool = False) -> AuditResults:
    tree = build_overview_tree(overview)
    return AuditResults(
        session_id, overview, tree, shown_findings(tree), list(overview.get("people", [])),
        int(overview.get("people_total", 0)), time.perf_counter() - started[0],
        time.thread_time() - started[1], stored_at=stored_at,
        through_event_id=int(overview.get("through_event_id", 0)), kept=kept,
        counts=dict(overview["counts"]))


def stored_results(store: EventStore, session_id: int,
                   config: AuditConfig) -> AuditResults | None:
    """The findings kept with a session from its last audit, as results (worker thread)."""
    started = time.perf_counter(), time.thread_time()
    checks = Auditor(config).checks
    stored = load_stored_audit(store, session_id, config, [check.id for check in checks])
    if stored is None:
        return None
    overview = audit_overview(checks, stored.findings, per_check=SHOWN_PER_CHECK)
    overview.update(people=[], people_total=stored.people,
                    through_event_id=stored.through_event_id)
    return _results(session_id, overview, started, stored_at=stored.computed_at)


class _Source(Protocol):
    """Where the audit of a session is kept: this process, or the capture child."""

    def prepare(self, session_id: int) -> None:
        """The session is shown (GUI thread)."""

    def overview(self, session_id: int, *, keep: bool, people: bool) -> dict[str, Any]:
        """Catch the audit up; the panels' overview (worker thread)."""

    def event_ids(self, session_id: int, checks: Sequence[str], skip: int) -> list[int]:
        """The events of every finding of ``checks`` (worker thread)."""

    def event_findings(self, session_id: int, event_id: int) -> list[Finding]:
        """The findings naming ``event_id`` (worker thread)."""


class _LocalSource:
    """Audits in this process, in a worker (a window with no capture child)."""

    def __init__(self, store: EventStore, config: AuditConfig) -> None:
        self.store = store
        self.config = config
        self._recent: dict[int, SessionAudit] = {}
        self._lock = threading.Lock()

    def audit(self, session_id: int) -> SessionAudit:
        """The session's audit, kept for the last few sessions shown (so going back to one
        is instant)."""
        with self._lock:
            audit = self._recent.pop(session_id, None)
            if audit is None:
                audit = SessionAudit(self.store, session_id, self.config)
            self._recent[session_id] = audit
            while len(self._recent) > RECENT_AUDITS:  # bound memory: forget the oldest
                self._recent.pop(next(iter(self._recent)))
            return audit

    def prepare(self, session_id: int) -> None:
        self.audit(session_id)

    def overview(self, session_id: int, *, keep: bool, people: bool) -> dict[str, Any]:
        audit = self.audit(session_id)
        last = self.store.session_last_event_id(session_id)
        findings = audit.refresh(ordered=False)  # the overview orders each check's own
        through = min(last, audit.last_id)
        if keep:
            # As of the newest event before the refresh began (one that arrived during it is
            # audited next time, never claimed now).
            store_audit(self.store, session_id, self.config,
                        [check.id for check in audit.auditor.checks], through,
                        audit.people_count, findings)
        time.sleep(0)  # let the GUI thread take the GIL between the steps
        data = audit.overview(per_check=SHOWN_PER_CHECK, people=PEOPLE_SHOWN if people else 0)
        data["through_event_id"] = through
        return data

    def event_ids(self, session_id: int, checks: Sequence[str], skip: int) -> list[int]:
        return self.audit(session_id).event_ids_of(checks, skip=skip)

    def event_findings(self, session_id: int, event_id: int) -> list[Finding]:
        return self.audit(session_id).findings_for_event(event_id)


class _RemoteSource:
    """Asks the capture child, which keeps the audit (``/inspector/api/audit/...``)."""

    def __init__(self, api: ChildApi) -> None:
        self.api = api

    def _get(self, path: str, **params: Any) -> dict[str, Any]:
        return self.api.get(path, **params)

    def prepare(self, session_id: int) -> None:
        pass

    def overview(self, session_id: int, *, keep: bool, people: bool) -> dict[str, Any]:
        return self._get("/audit/overview", session=str(session_id),
                         per_check=SHOWN_PER_CHECK, people=PEOPLE_SHOWN if people else 0,
                         keep=str(keep).lower())

    def event_ids(self, session_id: int, checks: Sequence[str], skip: int) -> list[int]:
        data = self._get("/audit/events", session=str(session_id), check=",".join(checks),
                         skip=skip)
        return [int(event_id) for event_id in data["event_ids"]]

    def event_findings(self, session_id: int, event_id: int) -> list[Finding]:
        data = self._get("/audit", session=str(session_id), event_id=event_id)
        return sorted((Finding.from_dict(item) for item in data["findings"]),
                      key=lambda finding: finding.order)


class AuditView(QObject):
    """Owns the Audit and People panels and the audit of the session they show."""

    #: New results are in the panels (for the detail pane and tests): the session id.
    sig_updated = Signal(int)
    #: The findings naming an event (asked for by :meth:`request_event_findings`): the
    #: event id and the findings.
    sig_event_findings = Signal(int, list)

    def __init__(self, store: EventStore, tasks: TaskRunner, *,
                 config: AuditConfig | None = None,
                 capture: CaptureController | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.tasks = tasks
        self.capture = capture
        self.config = config or AuditConfig()
        #: The configuration as the audit file gave it (before a plan's names are added).
        self._file_config = self.config
        self.audit_panel = AuditPanel()
        self.people_panel = PeoplePanel()
        self.audit_panel.sig_checks_chosen.connect(self._on_checks_chosen)
        self._local = _LocalSource(store, self.config)
        self._remote: _RemoteSource | None = None
        self._session_id: int | None = None
        self._stale = False
        self._running = False
        self._kept_at = 0.0
        self.results: AuditResults | None = None
        #: The last findings asked for one event: (event id, findings).
        self._event_findings: tuple[int, list[Finding]] | None = None
        #: (wall, CPU) seconds of each refresh off the GUI thread, for benchmarks.
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
        return self._session_id

    @property
    def remote(self) -> bool:
        """Whether the capture child keeps the audit (it runs), rather than this process."""
        return self._source() is not self._local

    def _source(self) -> _Source:
        api = child_api(self._remote.api if self._remote is not None else None, self.capture)
        if api is None:
            self._remote = None
            return self._local
        if self._remote is None or self._remote.api is not api:
            self._remote = _RemoteSource(api)
        return self._remote

    def show_session(self, session_id: int) -> None:
        """Show ``session_id``'s audit: at once what was kept with the session (read in the
        background) while it is brought up to date."""
        if self.session_id == session_id:
            return
        self._keep_unkept()
        self._session_id = session_id
        self._source().prepare(session_id)
        self.results = None
        self._event_findings = None
        self._shown_in = {"audit": None, "people": None}
        self.audit_panel.set_results([], [])
        self.audit_panel.summary.setText("Auditing…")
        self.people_panel.set_people([])
        self._stale = True
        self._kept_at = 0.0
        config, store = self.config, self.store
        # What the last audit of this session found, at once, while it is audited.
        self.tasks.submit(lambda: stored_results(store, session_id, config),
                          self._apply_stored, what="Reading the session's last audit")
        self._refresh_if_stale()

    def _keep_unkept(self) -> None:
        """Keep the shown session's latest findings with it if the last keep is older (when
        another session is chosen: reopened after a restart, it shows them at once)."""
        results = self.results
        if results is None or results.kept or results.stored_at is not None:
            return
        source, session_id = self._source(), results.session_id
        self.tasks.submit(lambda: source.overview(session_id, keep=True, people=False),
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
        """Audit with another configuration: the session is audited again from scratch
        (the capture child, given the same plan, re-audits its own)."""
        if from_file:
            self._file_config = config
        self.config = config
        self._local = _LocalSource(self.store, config)
        session_id = self._session_id
        self._session_id = None
        if session_id is not None:
            self.show_session(session_id)

    def on_events_committed(self, batch: Sequence[CommittedEvent]) -> None:
        """New events: the audit is stale if any belongs to the session shown."""
        session_id = self.session_id
        if session_id is not None and any(event.session_id == session_id for event in batch):
            self._stale = True

    def findings_for_event(self, event_id: int) -> list[Finding]:
        """The findings last delivered for ``event_id`` (see :meth:`request_event_findings`),
        else those the panel lists that name it."""
        if self._event_findings is not None and self._event_findings[0] == event_id:
            return list(self._event_findings[1])
        if self.results is None:
            return []
        return [finding for finding in self.results.findings if event_id in finding.event_ids]

    def request_event_findings(self, event_id: int) -> None:
        """Ask for every current finding naming ``event_id``; :attr:`sig_event_findings`
        brings them (the panel lists only each check's first few)."""
        session_id = self.session_id
        if session_id is None:
            return
        source = self._source()

        def delivered(findings: list[Finding]) -> None:
            if session_id == self.session_id:
                self._event_findings = (event_id, findings)
                self.sig_event_findings.emit(event_id, findings)

        self.tasks.submit(lambda: source.event_findings(session_id, event_id), delivered,
                          on_error=lambda _error: None, what="Reading an event's findings")

    def _on_checks_chosen(self, checks: list[str], skip: int) -> None:
        session_id = self.session_id
        if session_id is None or not checks:
            return
        source = self._source()

        def chosen(event_ids: list[int]) -> None:
            if session_id == self.session_id and event_ids:
                self.audit_panel.sig_events_chosen.emit(event_ids)

        self.tasks.submit(lambda: source.event_ids(session_id, checks, skip), chosen,
                          what="Reading the findings' events")

    def pause(self) -> None:
        """Stop refreshing (benchmarks compare the window with and without it)."""
        self._timer.stop()

    def refresh_now(self) -> None:
        """Refresh at once (tests, and after a plan or configuration change)."""
        self._stale = True
        self._refresh_if_stale()

    def _refresh_if_stale(self) -> None:
        session_id = self._session_id
        if session_id is None or not self._stale or self._running:
            return
        self._stale = False
        self._running = True
        # Kept with the session after its first full audit, then at most every KEEP_EVERY s.
        keep = time.monotonic() - self._kept_at >= KEEP_EVERY
        if keep:
            self._kept_at = time.monotonic()
        source, people = self._source(), self._on_screen["people"]

        def compute() -> AuditResults:
            started = time.perf_counter(), time.thread_time()
            overview = source.overview(session_id, keep=keep, people=people)
            return _results(session_id, overview, started, kept=keep)

        self.tasks.submit(compute, self._apply, on_error=self._failed,
                          what="Auditing the session")

    def _apply(self, results: AuditResults) -> None:
        self._running = False
        if results.session_id != self.session_id:
            self._refresh_if_stale()  # another session was chosen meanwhile
            return
        if not results.people and self.results is not None and results.people_total:
            # Asked while the People panel was hidden: keep the last list for it.
            results = _with_people(results, self.results.people)
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
            self.audit_panel.set_tree(results.tree, results.counts, results.people_total)
            self._shown_in["audit"] = results
        if self._on_screen["people"] and self._shown_in["people"] is not results:
            self.people_panel.set_people(results.people, total=results.people_total)
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
            if key == "people":
                self._stale = True  # its list is only fetched while it is shown
                self._refresh_if_stale()
            self._show_results()

    def _failed(self, error: BaseException) -> None:
        self._running = False
        if isinstance(error, httpx.TransportError) and not self.remote:
            # The capture child stopped while it was asked: audit here from the next tick.
            self._stale = True
            return
        self.audit_panel.summary.setText(f"The audit failed: {error}")
        self.tasks.sig_failed.emit("Auditing the session", str(error))


def _with_people(results: AuditResults, people: Iterable[dict[str, Any]]) -> AuditResults:
    from dataclasses import replace

    return replace(results, people=list(people))

