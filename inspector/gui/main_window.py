"""The main window: live tail, filters, detail, plan and sessions panels, status bar."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelection, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from inspector.core.audit import AuditConfig
from inspector.core.demo import send_demo_traffic_async
from inspector.core.exchange import ExportSummary
from inspector.core.fixes import CorrectionStore
from inspector.core.flows.runs import PlanInfo, plan_info
from inspector.core.live_counts import LiveCounts, SessionCounts, read_session_counts
from inspector.core.notes import NoteStore
from inspector.core.store import CommittedEvent, EventQuery, EventStore
from inspector.core.store.connection import Database
from inspector.core.wording import count
from inspector.gui.audit_view import AuditView
from inspector.gui.bridge import CaptureBridge
from inspector.gui.capture import CaptureController, CaptureError
from inspector.gui.desktop import add_help_menu
from inspector.gui.exporting import FORMATS, curl_command, event_json, export_events
from inspector.gui.flows_view import FlowsView
from inspector.gui.models.event_table import EventTableModel
from inspector.gui.plans import LoadedPlan, PlanLoadError, load_plan, revalidate
from inspector.gui.state import UiState
from inspector.gui.tasks import TaskRunner
from inspector.gui.widgets._util import fit_to_screen, named
from inspector.gui.widgets.banner import ErrorBanner, SessionBanner, SubsetBanner
from inspector.gui.widgets.event_detail import EventDetail
from inspector.gui.widgets.event_editor import EventEditor
from inspector.gui.widgets.event_table_view import EventTableView
from inspector.gui.widgets.filter_bar import FilterBar, FilterState
from inspector.gui.widgets.panels import PlanPanel, SessionsPanel
from inspector.gui.widgets.status_bar import StatusBar

__all__ = ["MainWindow"]

PlanLoader = Callable[[Path], LoadedPlan]


class MainWindow(QMainWindow):
    """The inspector window over one database, with an optional capture endpoint."""

    #: Demo traffic finished: how many calls the endpoint accepted.
    sig_demo_finished = Signal(int)
    #: A plan was loaded (its path) or failed to (empty string).
    sig_plan_loaded = Signal(str)
    #: The table now shows this session.
    sig_session_changed = Signal(int)
    #: A re-validation finished: how many events changed (-1: it failed).
    sig_revalidated = Signal(int)
    #: A session's counts (status counters, sessions list, plan panel) were read again.
    sig_counted = Signal(int)
    #: An export finished: how many events (or HAR requests) it wrote (-1: it failed).
    sig_exported = Signal(int)
    #: A QA report was written: its path ("": it failed).
    sig_report_exported = Signal(str)

    def __init__(
        self,
        store: EventStore,
        *,
        capture: CaptureController | None = None,
        bridge: CaptureBridge | None = None,
        state: UiState | None = None,
        plan_loader: PlanLoader = load_plan,
        audit_config: AuditConfig | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("inspectorMainWindow")
        self.store = store
        self.capture = capture
        self.bridge = bridge or (capture.bridge if capture else CaptureBridge(parent=self))
        self.state = state or UiState()
        self._plan_loader = plan_loader
        self.plan: LoadedPlan | None = None
        self.session_id: int | None = None
        self._names: set[str] = set()
        self._sources: set[str] = set()
        #: Plan and sessions panel counts between SQL recounts (see core.live_counts).
        self.live_counts = LiveCounts()
        #: SQL and CPU work off the GUI thread; failures reach the banner.
        self.tasks = TaskRunner(parent=self)
        self.tasks.sig_failed.connect(lambda what, why: self.show_error(f"{what} failed: {why}"))
        self._busy: dict[str, str] = {}  # running background jobs: key -> what the bar says
        #: The session whose counts are being read in the background (``None``: none).
        self._opening: int | None = None

        self.model = EventTableModel(store, tasks=self.tasks, parent=self)
        self.table = EventTableView()
        self.table.setModel(self.model)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.model.sig_query_applied.connect(self._on_query_applied)
        self._selected_before_filter: int | None = None
        self.detail = EventDetail()
        #: The tester's notes, kept with the session in the same database.
        self.notes = NoteStore(store)
        self.detail.notes.attach(self.notes)
        self.corrections = CorrectionStore(store)
        #: Destinations and replay runs live in the same database file.
        self.replay_db = Database(store.path)
        self.editor = EventEditor(self.corrections)
        self.editor.sig_correction_changed.connect(self._on_correction_changed)
        self.detail.tabs.addTab(self.editor, "Edit")
        self._shown_request: dict[str, Any] | None = None
        self.filter_bar = FilterBar()
        self.filter_bar.set_saved_filters(self.state.saved_filters())
        self.filter_bar.sig_filter_changed.connect(self._on_filter_changed)
        self.filter_bar.sig_saved_filters_changed.connect(self.state.set_saved_filters)
        self.banner = ErrorBanner()
        self.session_banner = SessionBanner()
        self.subset_banner = SubsetBanner()

        split = named(QSplitter(Qt.Orientation.Horizontal), "mainSplitter")
        split.addWidget(self.table)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([660, 560])
        self.splitter = split
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.session_banner)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.subset_banner)
        layout.addWidget(split, 1)
        self.setCentralWidget(central)

        self.plan_panel = PlanPanel()
        self.plan_panel.sig_load_requested.connect(self.choose_plan)
        self.plan_panel.sig_revalidate_requested.connect(self.revalidate)
        self.plan_panel.sig_event_chosen.connect(
            lambda name: self.filter_bar.set_state({**self.filter_bar.state(), "event": name})
        )
        self.sessions_panel = SessionsPanel()
        self.sessions_panel.sig_open_requested.connect(self.open_session)
        self.sessions_panel.sig_rename_requested.connect(self.rename_session)
        self.sessions_panel.sig_delete_requested.connect(self.delete_session)
        self.sessions_panel.sig_export_requested.connect(
            lambda session_id: self.export_view(session_id=session_id)
        )
        self.plan_dock = self._dock("Tracking plan", "planDock", self.plan_panel,
                                    Qt.DockWidgetArea.LeftDockWidgetArea)
        self.sessions_dock = self._dock("Sessions", "sessionsDock", self.sessions_panel,
                                        Qt.DockWidgetArea.LeftDockWidgetArea)
        #: The retention audit of the session shown (core checks, refreshed off this thread).
        self.audit_view = AuditView(store, self.tasks, config=audit_config, capture=capture,
                                    parent=self)
        self.model.set_environments(self.audit_view.config.environment_map)
        self.audit_view.audit_panel.sig_events_chosen.connect(self.show_finding_events)
        self.audit_view.people_panel.sig_person_chosen.connect(self.show_person_events)
        self.audit_view.sig_updated.connect(self._on_audit_updated)
        self.audit_view.sig_event_findings.connect(self._on_event_findings)
        self.audit_dock = self._dock("Audit", "auditDock", self.audit_view.audit_panel,
                                     Qt.DockWidgetArea.LeftDockWidgetArea)
        self.people_dock = self._dock("People", "peopleDock", self.audit_view.people_panel,
                                      Qt.DockWidgetArea.LeftDockWidgetArea)
        #: Checkout flows: live checklists over the session shown (issue 14).
        self.flows_view = FlowsView(store, self.tasks, config=audit_config,
                                    plan=self._plan_info, capture=capture, parent=self)
        self.flows_view.panel.sig_event_chosen.connect(self.select_event)
        self.flows_view.panel.attach_notes(self.notes)
        self.flows_dock = self._dock("Flows", "flowsDock", self.flows_view.panel,
                                     Qt.DockWidgetArea.LeftDockWidgetArea)
        # One tab strip for plan, audit, flows and people: stacked docks would leave each a
        # sliver of a 720-pixel-high screen.
        self.tabifyDockWidget(self.plan_dock, self.audit_dock)
        self.tabifyDockWidget(self.audit_dock, self.flows_dock)
        self.tabifyDockWidget(self.flows_dock, self.people_dock)
        self.plan_dock.raise_()
        self.audit_view.attach_docks(self.audit_dock, self.people_dock)

        self.status = StatusBar()
        self.setStatusBar(self.status)
        self._build_actions()
        self.setAcceptDrops(True)
        self.bridge.sig_events_committed.connect(self._on_events_committed)
        if capture is not None:
            capture.sig_crashed.connect(self._on_capture_crashed)
            capture.sig_failed.connect(self.show_error)

        self._slow_timer = QTimer(self)  # plan and sessions counts: live batches, once a second
        self._slow_timer.setInterval(1000)
        self._slow_timer.timeout.connect(self._apply_live_counts)
        self._slow_timer.start()
        self.plan_dock.visibilityChanged.connect(self._on_plan_dock_visibility)
        self._fit_to_screen()
        self._fit_splitter_pending = False
        self._restore_state()
        self._update_capture_ui()

    # ---- construction helpers

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = named(QDockWidget(title, self), name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _action(
        self, text: str, slot: Callable[[], Any],
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
        name: str | None = None,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        if name:
            action.setObjectName(name)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        std = QKeySequence.StandardKey
        self.act_start = self._action("Start capture", self.start_capture, "Ctrl+R", "actStart")
        self.act_stop = self._action("Stop capture", self.stop_capture, "Ctrl+Shift+R", "actStop")
        self.act_port = self._action("Port…", self.choose_port, None, "actPort")
        self.act_new_session = self._action("New session", self.new_session, std.New,
                                            "actNewSession")
        self.act_load_plan = self._action("Load plan…", self.choose_plan, std.Open, "actLoadPlan")
        self.act_revalidate = self._action("Re-validate", self.revalidate, "F5", "actRevalidate")
        self.act_export = self._action("Export…", self.export_view, "Ctrl+E", "actExport")
        self.act_compare = self._action("Compare sessions…", self.open_compare, None,
                                        "actCompare")
        self.act_copy_json = self._action("Copy event as JSON", self.copy_json, std.Copy,
                                          "actCopyJson")
        self.act_copy_curl = self._action("Copy event as cURL", self.copy_curl, "Ctrl+Shift+C",
                                          "actCopyCurl")
        self.act_filter = self._action("Filter…", self.filter_bar.focus_text, std.Find,
                                       "actFilter")
        self.act_clear_filter = self._action("Clear filters", self.filter_bar.clear,
                                             "Ctrl+Shift+F", "actClearFilter")
        self.act_demo = self._action("Send demo traffic", self.send_demo, "Ctrl+D", "actDemo")
        # Ctrl+E is Export and Ctrl+Shift+R stops capture: F2 ("edit in place" everywhere) and
        # Ctrl+Alt+R keep both.
        self.act_edit = self._action("Edit event JSON", self.edit_event, "F2", "actEdit")
        self.act_bulk_fix = self._action("Bulk fixes…", self.open_bulk_fixes, "Ctrl+Shift+B",
                                         "actBulkFix")
        self.act_destinations = self._action("Destinations…", self.open_destinations, None,
                                             "actDestinations")
        self.act_replay = self._action("Replay…", self.open_replay, "Ctrl+Alt+R", "actReplay")
        self.act_quit = self._action("Quit", self.close, std.Quit, "actQuit")
        self.act_add_note = self._action("Add note…", self.add_note, "Ctrl+Shift+N",
                                         "actAddNote")
        self.act_export_report = self._action("Export report…", self.export_report, None,
                                              "actExportReport")
        # Right-click on a row (which selects it): annotate it.
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        for table_action in (self.act_add_note, self.act_copy_json, self.act_copy_curl):
            self.table.addAction(table_action)

        menubar = self.menuBar()
        file_menu = menubar.addMenu("&File")
        file_menu.addAction(self.act_new_session)
        file_menu.addAction(self.act_load_plan)
        self.recent_menu = QMenu("Recent plans", self)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.act_export)
        file_menu.addAction(self.act_export_report)
        file_menu.addAction(self.act_compare)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        edit_menu = menubar.addMenu("&Edit")
        edit_menu.addAction(self.act_copy_json)
        edit_menu.addAction(self.act_copy_curl)
        edit_menu.addSeparator()
        edit_menu.addAction(self.act_filter)
        edit_menu.addAction(self.act_clear_filter)
        edit_menu.addSeparator()
        edit_menu.addAction(self.act_edit)
        edit_menu.addAction(self.act_bulk_fix)
        edit_menu.addSeparator()
        edit_menu.addAction(self.act_add_note)
        capture_menu = menubar.addMenu("&Capture")
        for action in (self.act_start, self.act_stop, self.act_port, self.act_demo,
                       self.act_revalidate):
            capture_menu.addAction(action)
        replay_menu = menubar.addMenu("&Replay")
        replay_menu.addAction(self.act_replay)
        replay_menu.addAction(self.act_destinations)
        view_menu = menubar.addMenu("&View")
        view_menu.addAction(self.plan_dock.toggleViewAction())
        view_menu.addAction(self.sessions_dock.toggleViewAction())
        view_menu.addAction(self.audit_dock.toggleViewAction())
        view_menu.addAction(self.people_dock.toggleViewAction())
        view_menu.addAction(self.flows_dock.toggleViewAction())
        self.act_about, self.act_open_logs = add_help_menu(self)

        toolbar = named(QToolBar("Main"), "mainToolbar")
        toolbar.setMovable(False)
        groups = (
            (self.act_start, self.act_stop, self.act_port, self.act_new_session),
            (self.act_load_plan, self.act_revalidate),
            (self.act_export, self.act_copy_json, self.act_copy_curl),
            (self.act_edit, self.act_bulk_fix, self.act_replay),
            (self.act_demo,),
        )
        for position, group in enumerate(groups):
            if position:
                toolbar.addSeparator()
            for tool_action in group:
                toolbar.addAction(tool_action)
        self.addToolBar(toolbar)
        self._fill_recent_menu(self.state.recent_plans())

    # ---- capture

    def start_capture(self) -> bool:
        """Start the endpoint; a failure is shown in the window."""
        if self.capture is None:
            self.show_error("This window has no capture endpoint (opened read-only).")
            return False
        name = None
        if self.session_id is not None:
            session = self.store.session_by_id(self.session_id)
            name = session.name if session else None
        try:
            self.capture.start(name)
        except CaptureError as error:
            self.show_error(f"Capture could not start: {error.message}")
            self._update_capture_ui()
            return False
        self.banner.hide()
        if self.capture.plan_error:
            self.show_error(f"Plan not loaded into capture: {self.capture.plan_error}")
        session = self.capture.session
        if session is not None and session.id != self.session_id:
            self.open_session(session.id)
        self._update_capture_ui()
        return True

    def _on_capture_crashed(self, message: str) -> None:
        self.show_error(message, action=("Restart capture", self.start_capture))
        self._update_capture_ui()

    def stop_capture(self) -> None:
        """Stop listening."""
        if self.capture is not None:
            self.capture.stop()
        self._update_capture_ui()

    def choose_port(self) -> None:
        """Ask for a port and restart capture on it."""
        if self.capture is None:
            return
        port, ok = QInputDialog.getInt(self, "Capture port", "Listen on port (0 = any free):",
                                       self.capture.config.port, 0, 65535)
        if ok:
            self.set_port(port, start=True)

    def set_port(self, port: int, *, start: bool = False) -> None:
        """Listen on ``port`` from now on, restarting capture if it runs (``start``: starting
        it if it does not, as after a port-in-use failure: choosing a port means "listen")."""
        if self.capture is None:
            return
        was_running = self.capture.running
        self.capture.stop()
        self.capture.set_port(port)
        if was_running or start:
            self.start_capture()
        self._update_capture_ui()

    def _update_capture_ui(self) -> None:
        running = self.capture is not None and self.capture.running
        self.act_start.setEnabled(self.capture is not None and not running)
        self.act_stop.setEnabled(running)
        self.act_demo.setEnabled(running)
        url = self.capture.base_url if self.capture and running else None
        self.status.set_endpoint(url)
        tls_url = self.capture.tls_url if self.capture and running else None
        https = f"\nHTTPS: {tls_url} (to trust its CA, open {url}/inspector/tls)" if tls_url \
            else ""
        self.table.set_placeholder(
            f"No events yet.\n\nPoint your app's Segment client at {url}{https}\n"
            "(see “Point your client here” below), or choose Capture ▸ Send demo traffic."
            if url else "No events in this view."
        )
        self._update_title()

    def _session_name(self, session_id: int | None) -> str | None:
        if session_id is None:
            return None
        row = self.sessions_panel.model.row_of(session_id)
        if row is not None:
            return self.sessions_panel.model.session(row).name
        return self.store.session_name(session_id)

    def _update_title(self) -> None:
        name = self._session_name(self.session_id)
        capture_session = self.capture.session if self.capture and self.capture.running else None
        title = "inspector"
        elsewhere = capture_session is not None and capture_session.id != self.session_id
        if name is not None:
            title += f" — {name}"
            if capture_session is not None and elsewhere:
                title += f" (capturing into {capture_session.name})"
        self.setWindowTitle(title)
        # The title bar alone was too easy to miss: say it across the window too.
        if capture_session is not None and elsewhere:
            target = capture_session.id
            self.session_banner.show_message(
                f"Showing the older session {name!r}. New events go to "
                f"{capture_session.name!r} and are not shown here.",
                ("Show the capturing session", lambda: self.open_session(target)),
            )
        else:
            self.session_banner.hide()

    # ---- demo

    def send_demo(self) -> None:
        """Drive the demo checkout through the real endpoint (off the GUI thread)."""
        url = self.capture.base_url if self.capture else None
        if not url:
            self.show_error("Start capture first: demo traffic goes through the real endpoint.")
            return
        self.status.showMessage("Sending demo traffic…", 3000)
        # I/O: a coroutine on the qasync loop, never a thread of its own.
        self.tasks.run_async(send_demo_traffic_async(url), self._demo_done,
                             on_error=lambda error: self._demo_failed(
                                 f"Demo traffic failed: {error}"))

    def _demo_done(self, sent: int) -> None:
        self.status.showMessage(f"Sent {count(sent, 'demo call')}", 5000)
        self.bridge.drain()  # the last demo events are committed: show them and their counts
        self.refresh_plan_panel()
        self.refresh_sessions()
        self.sig_demo_finished.emit(sent)

    def _demo_failed(self, message: str) -> None:
        self.show_error(message)
        self.sig_demo_finished.emit(0)

    # ---- sessions

    def open_session(self, session_id: int) -> bool:
        """Show ``session_id`` in the table (capture keeps filing into its own session);
        ``False`` if the user kept an unsaved edit instead."""
        if not self._may_leave_event():
            return False
        self.session_id = session_id
        self._names, self._sources = set(), set()
        self.status.clearMessage()  # a count from the previous view would be wrong now
        self._show_environments()
        self.model.set_corrected(self.corrections.corrected_ids(session_id))
        self.model.set_query(FilterBar.to_query(self.filter_bar.state(), session_id))
        self.subset_banner.hide()
        self.clear_detail()
        self._update_title()
        self._count_session(session_id)
        self.audit_view.show_session(session_id)
        self.flows_view.show_session(session_id)
        self.sig_session_changed.emit(session_id)
        return True

    def _count_session(self, session_id: int, message: str | None = None) -> None:
        """Read the session's counts (status counters, sessions list, filter choices, plan
        panel): ~1.2 s of SQL on a million events, so on a worker, after the first rows."""
        store, with_plan = self.store, self.plan is not None and not self.plan_dock.isHidden()
        self._opening = session_id
        self._begin_busy("open", "Counting the session…")
        self.tasks.submit(lambda: read_session_counts(store, session_id, plan=with_plan),
                          lambda result: self._on_session_counted(session_id, result, message),
                          on_error=lambda error: self._on_session_count_failed(session_id, error),
                          what="Counting the session")

    def _on_session_counted(self, session_id: int, result: SessionCounts,
                            message: str | None = None) -> None:
        if self._opening == session_id:
            self._opening = None
            self._end_busy("open")
        if session_id != self.session_id:
            return  # another session was opened meanwhile
        statuses = result.statuses
        self.status.reset_counts(statuses)
        self.live_counts.sessions_recounted(result.through)
        self._set_sessions(result.sessions)
        self._names |= set(result.names)
        self._sources |= set(result.write_keys)
        self.filter_bar.set_event_names(sorted(self._names))
        self.filter_bar.set_sources(sorted(self._sources), self.store.write_key_names())
        self._show_environments()
        if result.plan is not None and self.plan is not None:
            self.live_counts.plan_recounted(session_id, result.through)
            self.plan_panel.model.set_rows(self.plan.events, result.plan)
        else:
            self.refresh_plan_panel()
        total = sum(statuses.values())
        name = self._session_name(session_id) or "Session"
        self.status.showMessage(message or f"{name}: {count(total, 'event')}", 4000)
        self.sig_counted.emit(session_id)

    def _on_session_count_failed(self, session_id: int, error: BaseException) -> None:
        if self._opening == session_id:
            self._opening = None
            self._end_busy("open")
        self.show_error(f"Counting the session failed: {error}")

    def new_session(self) -> None:
        """Start a new session and show it."""
        if not self._may_leave_event():
            return
        try:
            session = self.capture.new_session() if self.capture else None
        except CaptureError as error:
            self.show_error(f"No new session: {error.message}")
            return
        if session is None:
            session = self.store.create_session()
        self.open_session(session.id)
        self._update_title()

    def rename_session(self, session_id: int, name: str | None = None) -> None:
        """Rename a session (asks for the name when not given)."""
        session = self.store.session_by_id(session_id)
        if session is None:
            return
        if name is None:
            name, ok = QInputDialog.getText(self, "Rename session", "New name:", text=session.name)
            if not ok or not name.strip():
                return
        try:
            self.store.rename_session(session_id, name.strip())
        except ValueError as error:
            self.show_error(str(error))
        self.refresh_sessions()
        self._update_title()

    def delete_session(self, session_id: int, confirm: bool = True) -> None:
        """Delete a session (not the one capture is writing to)."""
        capture_session = self.capture.session if self.capture and self.capture.running else None
        if capture_session is not None and capture_session.id == session_id:
            self.show_error("That session is receiving captures; start a new session first.")
            return
        if confirm:
            session = self.store.session_by_id(session_id)
            if session is None:
                return
            answer = QMessageBox.question(
                self, "Delete session",
                f"Delete the session {session.name!r} and its "
                f"{count(session.event_count, 'event')}? This cannot be undone.")
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.store.delete_session(session_id)
        if session_id == self.session_id:
            latest = self.store.latest_session()
            if latest is not None:
                self.open_session(latest.id)
            else:
                self.session_id = None
                self.model.set_query(FilterBar.to_query({}, -1))
        self.refresh_sessions()
        self.refresh_plan_panel()  # ids of the deleted events may be reused: recount

    def refresh_sessions(self) -> None:
        """Re-read the sessions list."""
        through = self.store.max_event_id()
        self.live_counts.sessions_recounted(through)
        self._set_sessions(self.store.list_sessions(through_id=through))

    def _set_sessions(self, sessions: list[Any]) -> None:
        selected = self.sessions_panel.selected_session_id() or self.session_id
        self.sessions_panel.model.set_sessions(sessions, self.session_id)
        if selected is not None:  # a reset drops the selection: put it back
            self.sessions_panel.select_session(selected)

    # ---- plans

    def choose_plan(self) -> None:
        """Ask for a plan file."""
        path, _ = QFileDialog.getOpenFileName(self, "Load tracking plan", "",
                                              "Tracking plans (*.json);;All files (*)")
        if path:
            self.load_plan_file(Path(path))

    def load_plan_file(self, path: Path, *, revalidate_now: bool = True) -> bool:
        """Load a plan, validate new captures with it and re-validate this session."""
        try:
            plan = self._plan_loader(path)
        except PlanLoadError as error:
            self.show_error(f"Plan not loaded: {error.message}")
            self.sig_plan_loaded.emit("")
            return False
        if self.capture is not None:
            try:
                self.capture.set_plan(path)  # the child validates new captures with it
            except CaptureError as error:
                self.show_error(f"Plan not loaded: {error.message}")
                self.sig_plan_loaded.emit("")
                return False
        self.plan = plan
        self.editor.set_validator(plan.validator)  # live re-validation while editing
        self.audit_view.set_planned_events(plan.events)  # event-name drift against the plan
        self._fill_recent_menu(self.state.add_recent_plan(str(path)))
        self.plan_panel.set_plan_title(f"{path.name}: {count(len(plan.events), 'planned event')}")
        self.banner.hide()
        if revalidate_now:
            self.revalidate()
        else:
            self.refresh_plan_panel()
        self.sig_plan_loaded.emit(str(path))
        return True

    def revalidate(self) -> None:
        """Re-validate the shown session against the loaded plan."""
        if self.plan is None:
            self.show_error("Load a tracking plan first (File ▸ Load plan…).")
            return
        if self.session_id is None:
            return
        if self.capture is not None and self.capture.running:
            # The child holds the plan that validates captures: it re-validates, off this
            # process entirely; the answer comes back on the GUI thread.
            self._begin_busy("revalidate", "Re-validating…")
            self.capture.revalidate(self.session_id, self._on_revalidated)
            return
        # Stopped: re-validate here, on a worker (a big session takes seconds).
        store, session_id, validator = self.store, self.session_id, self.plan.validator
        self._begin_busy("revalidate", "Re-validating…")
        self.tasks.submit(
            lambda: {"changed": revalidate(store, session_id, validator)},
            self._on_revalidated,
            on_error=lambda error: self._on_revalidated(CaptureError(str(error))),
            what="Re-validation",
        )

    def _on_revalidated(self, result: dict[str, Any] | CaptureError) -> None:
        self._end_busy("revalidate")
        if isinstance(result, CaptureError):
            self.show_error(f"Re-validation failed: {result.message}")
            self.sig_revalidated.emit(-1)
            return
        changed = int(result.get("changed", 0))
        self.model.refresh()
        message = f"Re-validated: {count(changed, 'event')} changed"
        if self.session_id is not None:
            # The counts change with the statuses: read again, on a worker, like an open.
            self._count_session(self.session_id, message=message)
        else:
            self.refresh_plan_panel()
        self.status.showMessage(message, 4000)
        self.sig_revalidated.emit(changed)

    def refresh_plan_panel(self) -> None:
        """Recount the plan's events in this session (SQL; live events are added after)."""
        if self.plan is None or self.session_id is None or self.plan_dock.isHidden():
            self.live_counts.plan_recounted(None)
            self.plan_panel.model.set_rows([], {})
            return
        through = self.store.max_event_id()
        self.live_counts.plan_recounted(self.session_id, through)
        self.plan_panel.model.set_rows(
            self.plan.events, self.store.event_stats(self.session_id, through)
        )

    def _on_plan_dock_visibility(self, visible: bool) -> None:
        if visible != self.live_counts.counting_plan:
            self.refresh_plan_panel()

    def _apply_live_counts(self) -> None:
        sessions = self.live_counts.take_sessions()
        if sessions and not self.sessions_panel.model.add_counts(sessions):
            self.refresh_sessions()  # a session the list does not show yet
        stats = self.live_counts.take_plan()
        if stats and self.live_counts.counting_plan:
            self.plan_panel.model.add_stats(stats)

    def _fill_recent_menu(self, recent: list[str]) -> None:
        self.recent_menu.clear()
        for path in recent:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(
                lambda _checked=False, p=path: self.load_plan_file(Path(p))
            )
        self.recent_menu.setEnabled(bool(recent))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            self.load_plan_file(Path(urls[0].toLocalFile()))
            event.acceptProposedAction()

    # ---- export and copy

    def export_view(self, path: Path | None = None, fmt: str | None = None,
                    session_id: int | None = None) -> int:
        """Export the filtered view (or a whole session) to a file, on a worker; 1 if it
        started, 0 if not. :attr:`sig_exported` carries the count when it is written."""
        if path is None:
            filters = ";;".join(label for label, _ in FORMATS.values())
            chosen, selected = QFileDialog.getSaveFileName(self, "Export events", "", filters)
            if not chosen:
                return 0
            path = Path(chosen)
            fmt = next((name for name, (label, _) in FORMATS.items() if label == selected), None)
        if fmt is None:
            fmt = next((name for name, (_, ext) in FORMATS.items() if path.suffix == ext),
                       "ndjson")
        if path.suffix == "":
            path = path.with_suffix(FORMATS[fmt][1])
        query = (
            FilterBar.to_query({}, session_id)
            if session_id is not None and session_id != self.session_id
            else self.model.query
        )
        if "export" in self._busy:
            self.show_error("An export is already running.")
            return 0
        store, target, chosen_format = self.store, path, fmt
        # Writing a big session takes seconds: on a worker, the window stays usable.
        self._begin_busy("export", f"Exporting to {path.name}…")
        self.tasks.submit(
            lambda: export_events(store, query, target, chosen_format),
            lambda summary: self._on_exported(summary, target, chosen_format),
            on_error=self._on_export_failed, what="Export",
        )
        return 1

    def _on_exported(self, summary: ExportSummary, path: Path, fmt: str) -> None:
        self._end_busy("export")
        unit = "request" if fmt == "har" else "event"
        raw = f" ({summary.raw} malformed, as received)" if summary.raw else ""
        self.status.showMessage(f"Exported {count(summary.written, unit)}{raw} to {path}", 8000)
        self.sig_exported.emit(summary.written)

    def _on_export_failed(self, error: BaseException) -> None:
        self._end_busy("export")
        self.show_error(f"Export failed: {error}")
        self.sig_exported.emit(-1)

    def export_report(self, path: Path | None = None, fmt: str | None = None) -> int:
        """Write the QA report of the session shown (a save dialog without ``path``), on a
        worker; 1 if it started. :attr:`sig_report_exported` carries the path when written."""
        from inspector.core.report import REPORT_FORMATS
        from inspector.core.report.export import export_session_report

        if self.session_id is None:
            self.show_error("Open a session first: the report is of the session shown.")
            return 0
        if path is None:
            filters = ";;".join(label for label, _ in REPORT_FORMATS.values())
            chosen, selected = QFileDialog.getSaveFileName(self, "Export QA report", "",
                                                           filters)
            if not chosen:
                return 0
            path = Path(chosen)
            fmt = next((name for name, (label, _) in REPORT_FORMATS.items()
                        if label == selected), None)
        if fmt is None:
            fmt = next((name for name, (_, ext) in REPORT_FORMATS.items()
                        if path.suffix == ext), "html")
        if path.suffix == "":
            path = path.with_suffix(REPORT_FORMATS[fmt][1])
        if "report" in self._busy:
            self.show_error("A report is already being written.")
            return 0
        store, session_id, target, chosen_format = self.store, self.session_id, path, fmt
        plan_path = self.plan.path if self.plan is not None else None
        config = self.audit_view.config
        config_path = self.capture.config.audit_path if self.capture is not None else None
        self._begin_busy("report", f"Writing the report {path.name}…")
        self.tasks.submit(
            lambda: export_session_report(store, session_id, chosen_format, target,
                                          plan_path=plan_path, audit_config=config,
                                          audit_config_path=config_path),
            lambda _data: self._on_report_exported(target),
            on_error=self._on_report_failed, what="The report",
        )
        return 1

    def _on_report_exported(self, path: Path) -> None:
        self._end_busy("report")
        self.status.showMessage(f"Wrote the QA report to {path}", 8000)
        self.sig_report_exported.emit(str(path))

    def _on_report_failed(self, error: BaseException) -> None:
        self._end_busy("report")
        self.show_error(f"The report was not written: {error}")
        self.sig_report_exported.emit("")

    def add_note(self) -> None:
        """Annotate the selected event (the notes block's dialog)."""
        if self._selected_record() is not None:
            self.detail.notes.add_note()

    def _selected_record(self) -> Any:
        record = self.detail.record
        if record is None:
            self.status.showMessage("Select an event first", 3000)
        return record

    def copy_json(self) -> None:
        """Copy the selected event's payload as JSON."""
        record = self._selected_record()
        if record is not None:
            QGuiApplication.clipboard().setText(event_json(record))
            self.status.showMessage(f"Copied {record.name or record.type or 'the event'} as JSON",
                                    3000)

    def copy_curl(self) -> None:
        """Copy a cURL command that re-sends the selected event here."""
        record = self._selected_record()
        if record is not None:
            base = (self.capture.base_url if self.capture else None) or "http://127.0.0.1:8787"
            QGuiApplication.clipboard().setText(curl_command(record, base))
            self.status.showMessage(f"Copied a cURL command that re-sends it to {base}", 3000)

    # ---- errors

    def show_error(self, text: str, action: tuple[str, Callable[[], Any]] | None = None) -> None:
        """Show a clear one-line problem at the top of the window (with an optional fix)."""
        self.banner.show_message(text, action)

    # ---- background work: a busy indicator, and no conflicting action meanwhile

    def _begin_busy(self, key: str, text: str) -> None:
        self._busy[key] = text
        self._update_busy()

    def _end_busy(self, key: str) -> None:
        self._busy.pop(key, None)
        self._update_busy()

    @property
    def busy(self) -> bool:
        """Whether background work the window waits for is running."""
        return bool(self._busy)

    def _update_busy(self) -> None:
        self.status.set_busy(" · ".join(self._busy.values()) if self._busy else None)
        # Export and re-validation read or rewrite the whole session: one at a time, and
        # not while the session's counts are still being read.
        self.act_export.setEnabled("export" not in self._busy)
        self.act_export_report.setEnabled("report" not in self._busy)
        self.act_revalidate.setEnabled("revalidate" not in self._busy)
        self.act_load_plan.setEnabled("revalidate" not in self._busy)

    # ---- live events, filters, selection

    def _on_events_committed(self, batch: list[CommittedEvent]) -> None:
        self.model.append_committed(batch)
        self.live_counts.add(batch)
        self.audit_view.on_events_committed(batch)
        self.flows_view.on_events_committed(batch)
        mine = [event for event in batch if event.session_id == self.session_id]
        if not mine:
            return
        self.status.count([event.event.status for event in mine])
        names = {event.event.name for event in mine if event.event.name} - self._names
        keys = {event.event.write_key for event in mine if event.event.write_key} - self._sources
        if names or keys:
            self._names |= {name for name in names if name}
            self._sources |= {key for key in keys if key}
            self.filter_bar.set_event_names(sorted(self._names))
            self.filter_bar.set_sources(sorted(self._sources), self.store.write_key_names())
            if keys:
                self._show_environments()

    def _show_environments(self) -> None:
        """The status bar's environments: those of the session's write keys."""
        environments = self.model.environments
        found, unlisted = environments.of_keys(self._sources, self.store.write_key_names())
        colors = self.model.environment_colors
        self.status.set_environments([(env.name, colors[env.name]) for env in found],
                                     len(unlisted), configured=bool(environments))

    def _on_filter_changed(self, state: FilterState) -> None:
        # Answered on a worker thread: a free-text search over a huge session must not freeze
        # the window. _on_query_applied restores the selection and reports the count.
        self._selected_before_filter = self.detail.record.id if self.detail.record else None
        self.subset_banner.hide()
        self.model.set_query_async(FilterBar.to_query(state, self.session_id))
        self.status.showMessage("Filtering…")

    def _on_query_applied(self) -> None:
        if self.model.last_error is not None:
            self.show_error(f"The filter could not be applied: {self.model.last_error}")
            return
        selected = self._selected_before_filter
        if selected is not None:
            row = self.model.row_of(selected)
            if row is not None:
                self.table.selectRow(row)
            else:  # the filter hides it: the detail pane must not keep showing it
                self.clear_detail()
        more = "+" if self.model.canFetchMore(self.table.rootIndex()) else ""
        rows = self.model.rowCount()
        self.status.showMessage(
            f"{rows}{more} {'event matches' if rows == 1 and not more else 'events match'}",
            3000)

    def _on_selection(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        event_id = self.model.event_id(rows[0].row())
        shown = self.detail.record
        if shown is not None and shown.id != event_id and not self._may_leave_event():
            # Cancel: keep the edited event selected.
            selection = self.table.selectionModel()
            selection.blockSignals(True)
            try:
                selection.select(deselected, selection.SelectionFlag.ClearAndSelect)
                row = self.model.row_of(shown.id)
                if row is not None:
                    selection.setCurrentIndex(self.model.index(row, 0),
                                              selection.SelectionFlag.NoUpdate)
            finally:
                selection.blockSignals(False)
            self.table.viewport().update()
            return
        self.show_event(event_id)

    def _may_leave_event(self) -> bool:
        """Before another event is shown: ask about an unsaved edit (``False``: stay)."""
        if self.editor.confirm_leave():
            return True
        self.detail.tabs.setCurrentWidget(self.editor)
        return False

    def show_event(self, event_id: int) -> None:
        """Show one event in the detail pane."""
        record = self.store.get_event(event_id)
        if record is None:
            self.clear_detail()
            return
        request = self.store.get_request(record.request_id) if record.request_id else None
        self._shown_request = request
        self.editor.set_event(record)
        self.detail.show_event(record, request, corrected=self.editor.corrected,
                               findings=self.audit_view.findings_for_event(event_id))
        # Every finding naming it (the panel lists only each check's first few).
        self.audit_view.request_event_findings(event_id)
        self.detail.notes.show_event(record.session_id, record.id)

    # ---- audit

    def show_finding_events(self, event_ids: list[int]) -> None:
        """Show only ``event_ids`` (a finding's, a check's) in the table."""
        if self.session_id is None or not event_ids:
            return
        shown = event_ids[:10_000]
        more = f" (the first {len(shown):,})" if len(event_ids) > len(shown) else ""
        self._show_subset(
            EventQuery(session_id=self.session_id, event_ids=shown, limit=500),
            f"Showing the {len(event_ids):,} "
            f"{'event' if len(event_ids) == 1 else 'events'} of an audit finding{more}.")

    def select_event(self, event_id: int) -> None:
        """Select one event in the table (a flow step's call): in place when it is loaded,
        else shown on its own."""
        row = self.model.row_of(event_id)
        if row is not None:
            self.table.selectRow(row)
            self.table.scrollTo(self.model.index(row, 0))
            return
        if self.session_id is None:
            return
        self._show_subset(EventQuery(session_id=self.session_id, event_ids=[event_id], limit=1),
                          "Showing the call of a flow step.")
        self._selected_before_filter = event_id  # selected once the table has it

    def _plan_info(self) -> PlanInfo | None:
        """The loaded plan's name and hash, for a flow run to record."""
        validator = self.plan.validator if self.plan is not None else None
        return plan_info(getattr(validator, "plan", None))

    def show_person_events(self, person: dict[str, Any]) -> None:
        """Show only the events of one person (every userId and anonymousId of theirs)."""
        if self.session_id is None:
            return
        identifiers = [user["value"] for user in person["user_ids"]] + list(
            person["anonymous_ids"])
        self._show_subset(
            EventQuery(session_id=self.session_id, person_ids=identifiers[:10_000], limit=500),
            f"Showing the events of {person['label']} ({len(identifiers)} identifiers).")

    def _show_subset(self, query: EventQuery, text: str) -> None:
        if not self._may_leave_event():
            return
        self._selected_before_filter = None
        self.model.set_query_async(query)
        self.subset_banner.show_message(text, ("Show all", self._leave_subset))

    def _leave_subset(self) -> None:
        self.subset_banner.hide()
        self.model.set_query_async(FilterBar.to_query(self.filter_bar.state(), self.session_id))

    def _on_audit_updated(self, session_id: int) -> None:
        record = self.detail.record
        if record is not None and session_id == self.session_id:
            self.audit_view.request_event_findings(record.id)

    def _on_event_findings(self, event_id: int, findings: list[Any]) -> None:
        record = self.detail.record
        if record is not None and record.id == event_id:
            self.detail.show_findings(findings)

    def clear_detail(self) -> None:
        """Show no event in the detail pane and the editor."""
        self.detail.clear()
        self.editor.set_event(None)
        self._shown_request = None

    # ---- fix and replay

    def edit_event(self) -> None:
        """Open the selected event in the Edit tab."""
        if self._selected_record() is None:
            return
        self.detail.tabs.setCurrentWidget(self.editor)
        self.editor.text.setFocus()

    def _on_correction_changed(self, event_id: int, corrected: bool) -> None:
        self.model.mark_corrected(event_id, corrected)
        record = self.detail.record
        if record is not None and record.id == event_id:
            self.detail.show_event(record, self._shown_request, corrected=corrected)
        self.status.showMessage(
            "Correction saved (the original is kept)" if corrected else "Reverted to the original",
            4000,
        )

    def selected_event_ids(self) -> list[int]:
        """Ids of the selected rows, in table order."""
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        return [self.model.event_id(row) for row in rows]

    def open_bulk_fixes(self) -> None:
        """The bulk fixes dialog over the selection or the current filter."""
        from inspector.gui.widgets.bulk_fix_dialog import BulkFixDialog

        dialog = BulkFixDialog(self.corrections, self.model.query, self.selected_event_ids(),
                               parent=self)
        if self.detail.record is not None:
            dialog.prefill(self.detail.record)
        dialog.sig_applied.connect(self._on_bulk_applied)
        self.bulk_fix_dialog = dialog
        dialog.open()

    def _on_bulk_applied(self, changed: int) -> None:
        if self.session_id is not None:
            self.model.set_corrected(self.corrections.corrected_ids(self.session_id))
        if self.detail.record is not None:
            self.show_event(self.detail.record.id)
        self.status.showMessage(f"Bulk fix changed {changed} events", 5000)

    def open_compare(self) -> None:
        """The side-by-side comparison of two sessions."""
        from inspector.gui.widgets.compare_dialog import CompareDialog

        dialog = CompareDialog(self.store, self.tasks, parent=self)
        self.compare_dialog = dialog
        dialog.show()

    def open_destinations(self) -> None:
        """The replay destinations dialog."""
        from inspector.gui.widgets.destinations_dialog import DestinationsDialog

        dialog = DestinationsDialog(self.replay_db, parent=self)
        self.destinations_dialog = dialog
        dialog.open()

    def open_replay(self) -> None:
        """The replay dialog over the selection, the current filter or the session."""
        from inspector.gui.widgets.replay_dialog import ReplayDialog

        dialog = ReplayDialog(
            self.corrections, self.replay_db, query=self.model.query,
            selection=self.selected_event_ids(), session_id=self.session_id,
            environments=self.audit_view.config.environment_map, parent=self,
        )
        self.replay_dialog = dialog
        dialog.open()

    # ---- state

    def _restore_state(self) -> None:
        geometry = self.state.blob("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
            self._ensure_on_screen()
        window_state = self.state.blob("window/state")
        if window_state is not None:
            self.restoreState(window_state)
        else:  # first run: a narrow side bar, sized once the window has its real geometry
            QTimer.singleShot(0, lambda: self.resizeDocks(
                [self.plan_dock], [280], Qt.Orientation.Horizontal))
        header = self.state.blob("table/header")
        if header is not None:
            self.table.horizontalHeader().restoreState(header)
        splitter = self.state.blob("window/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)
        else:  # first run: every table column visible, the detail pane gets the rest
            self._fit_splitter_pending = True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._fit_splitter_pending:
            self._fit_splitter_pending = False
            # After the docks took their first-run width (queued before this).
            QTimer.singleShot(0, self.fit_table_columns)

    def fit_table_columns(self) -> None:
        """Share the splitter so that the table shows all its columns (the detail pane keeps
        at least 360 px and the table at least half)."""
        total = sum(self.splitter.sizes())
        if total <= 0:
            return
        table = max(min(self.table.columns_width(), total - 360), total // 2)
        self.splitter.setSizes([table, total - table])

    #: The first-run size on a big screen; a smaller one gets its available geometry.
    DEFAULT_SIZE = (1400, 860)

    def _fit_to_screen(self) -> None:
        fit_to_screen(self, *self.DEFAULT_SIZE)

    def _ensure_on_screen(self) -> None:
        screen = QGuiApplication.screenAt(self.frameGeometry().center())
        if screen is None:
            primary = QGuiApplication.primaryScreen()
            if primary is not None:
                self.move(primary.availableGeometry().topLeft())

    def save_state(self) -> None:
        """Persist geometry, docks, columns and splitter."""
        self.state.set_blob("window/geometry", self.saveGeometry())
        self.state.set_blob("window/state", self.saveState())
        self.state.set_blob("table/header", self.table.horizontalHeader().saveState())
        self.state.set_blob("window/splitter", self.splitter.saveState())
        self.state.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._may_leave_event():
            event.ignore()
            return
        self.save_state()
        self._slow_timer.stop()
        if self.capture is not None:
            self.capture.shutdown()
        self.bridge.stop()
        # After the capture: no thread or coroutine started by this window outlives it.
        self.tasks.shutdown()
        super().closeEvent(event)
