"""The capture service: store, writer, ingestor and HTTP server, started and stopped as one.

``inspector serve`` runs a :class:`CaptureService` on the main asyncio loop; the window runs
``inspector serve`` as a child process (its own GIL) and tails the store. :class:`CaptureThread`
runs the service on a thread of its own, for tests and scripts that want it in-process.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from inspector.core.capture.api import add_api_routes
from inspector.core.capture.audit_api import add_audit_routes
from inspector.core.capture.bundle import add_bundle_routes
from inspector.core.capture.connections import (
    MAX_FIELD_SIZE,
    MAX_HEADERS,
    MAX_LINE_SIZE,
    ConnectionGate,
    GatedTCPSite,
    connection_limit,
    quiet_accept_errors,
    raise_fd_limit,
)
from inspector.core.capture.flows_api import add_flow_routes
from inspector.core.capture.forward import Forwarder
from inspector.core.capture.ingest import EventValidator, Ingestor
from inspector.core.capture.notes_api import add_notes_routes
from inspector.core.capture.routes import (
    HARD_BODY_CAP,
    add_tracking_routes,
    json_errors_middleware,
)
from inspector.core.capture.security import ApiAccessPolicy
from inspector.core.capture.tls_page import add_tls_routes
from inspector.core.capture.waiting import CommitWaiters
from inspector.core.paths import default_db_path
from inspector.core.store import (
    CommittedEvent,
    EventStore,
    GroupCommitWriter,
    PendingRequest,
    SessionInfo,
)

if TYPE_CHECKING:
    from inspector.core.audit.config import AuditConfig
    from inspector.core.audit.live import SessionAudit
    from inspector.core.plan import CompiledPlan, PlanError
    from inspector.core.plan.watch import PlanWatcher
    from inspector.core.tls import CertificateAuthority
    from inspector.core.verdict.revalidate import RevalidationReport

__all__ = ["CaptureConfig", "CaptureError", "CaptureService", "CaptureThread", "PortInUseError"]

log = logging.getLogger(__name__)


class CaptureError(Exception):
    """The capture endpoint could not start; ``message`` is one line for a human."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PortInUseError(CaptureError):
    """Another program is already listening on the requested port."""


class CaptureConfig(BaseModel):
    """How to run the capture endpoint."""

    model_config = ConfigDict(frozen=True)

    host: str = "127.0.0.1"
    #: 0 picks any free port (tests, benchmarks).
    port: int = 8787
    db_path: Path | None = None
    session_name: str | None = None
    forward_url: str | None = None
    #: At most this many requests wait in the forward queue (beyond: recorded as failed).
    forward_queue_limit: int = 50_000
    plan_path: Path | None = None
    #: fsync every commit (survives power loss, not just a crash of the process).
    durable: bool = False
    #: The audit configuration file (``None``: the bundled retention defaults).
    audit_path: Path | None = None
    #: Seconds before an idle connection (also one that never sends a request) is closed.
    idle_timeout: float = 30.0
    #: Seconds a request body may take to arrive before it is answered 408.
    body_timeout: float = 30.0
    #: Host names the REST API answers for besides loopback and ``host`` (``--allow-host``).
    allow_hosts: tuple[str, ...] = ()
    #: Browser origins allowed to call the REST API with CORS (``--api-allow-origin``).
    api_allow_origins: tuple[str, ...] = ()
    #: The bearer token the REST API requires; ``None``: one is generated when ``host`` is
    #: beyond loopback (read it from ``CaptureService.access.token``). Kept out of ``repr``.
    api_token: str | None = Field(default=None, repr=False)
    #: Also serve HTTPS, with a certificate from the local CA (:mod:`inspector.core.tls`).
    tls: bool = False
    #: The HTTPS port; ``None``: ``port + 1`` (any free port when ``port`` is 0).
    tls_port: int | None = None
    #: Where the CA and the server certificate live (default: ``<data dir>/tls``).
    tls_dir: Path | None = None
    #: The ``@segment/analytics-next`` package (or its ``dist/umd``) to serve analytics.js
    #: from (:mod:`inspector.core.capture.bundle`); default ``$INSPECTOR_ANALYTICS_JS``.
    analytics_js: Path | None = None


class CaptureService:
    """Everything behind the capture endpoint, with one lifecycle."""

    def __init__(self, config: CaptureConfig) -> None:
        from inspector.core.audit import load_audit_config

        self.config = config
        # First, so a bad audit file (AuditConfigError: file, line and column) leaves
        # nothing open behind it.
        self.audit_config = load_audit_config(config.audit_path)
        self._audits: dict[int, SessionAudit] = {}
        db_path = config.db_path or default_db_path()
        self.store = EventStore(db_path, durable=config.durable)
        self.writer = GroupCommitWriter(db_path, durable=config.durable)
        #: Requests long-polling the events API (``wait=``), woken after commits.
        self.waiters = CommitWaiters()
        self.writer.add_listener(self.waiters.on_commit)
        self.session: SessionInfo = self.store.open_session(config.session_name)
        self.ingestor = Ingestor(
            self.session.id, seen_message_ids=self.store.message_ids(self.session.id)
        )
        self.plan_description: dict[str, Any] | None = None
        #: Who may use the REST API (its token, when one is required).
        self.access = ApiAccessPolicy.from_config(config)
        self.port = config.port
        self.body_timeout = config.body_timeout
        self.base_url = f"http://{config.host}:{config.port}"
        #: Set once listening with TLS: the HTTPS port and URL, and the CA that signs them.
        self.tls_port: int | None = None
        self.tls_url: str | None = None
        self.tls_ca: CertificateAuthority | None = None
        self._runner: web.AppRunner | None = None
        self._gate: ConnectionGate | None = None
        self.forwarder = (
            Forwarder(config.forward_url, self.store, max_queued=config.forward_queue_limit)
            if config.forward_url else None)
        self._session_lock = threading.Lock()
        self._watcher: PlanWatcher | None = None
        #: Called on the capture loop after a plan (re)load, with the report of re-validating
        #: the current session (``None`` for the first load).
        self.plan_listeners: list[Callable[[dict[str, Any], RevalidationReport | None], None]] = []

    # ---- lifecycle

    def build_app(self) -> web.Application:
        """The aiohttp application with every route (also used by tests and benchmarks)."""
        app = web.Application(middlewares=[self.access.middleware, json_errors_middleware])
        add_tracking_routes(app, self)
        add_api_routes(app, self)
        add_audit_routes(app, self)
        add_flow_routes(app, self)
        add_notes_routes(app, self)
        add_tls_routes(app, self)
        add_bundle_routes(app, self)
        return app

    async def start(self) -> None:
        """Start the writer and listen; raises :class:`CaptureError` if that is impossible."""
        self.waiters.attach(asyncio.get_running_loop())
        self.writer.start()
        # auto_decompress=False: the ingestor inflates bodies itself, with a size bound.
        runner = web.AppRunner(
            self.build_app(), auto_decompress=False, access_log=None, handle_signals=False,
            keepalive_timeout=self.config.idle_timeout, max_headers=MAX_HEADERS,
            max_field_size=MAX_FIELD_SIZE, max_line_size=MAX_LINE_SIZE,
        )
        await runner.setup()
        assert runner.server is not None
        # One cap over every site (HTTP and HTTPS share the server and the descriptors).
        self._gate = ConnectionGate(runner.server, connection_limit(raise_fd_limit()))
        quiet_accept_errors(asyncio.get_running_loop(), self._gate.shed)
        try:
            self.port = await self._listen(runner, self.config.port, "--port")
            if self.config.tls:
                await self._listen_tls(runner)
        except CaptureError:
            await runner.cleanup()
            self.writer.stop()
            raise
        self._runner = runner
        if self.forwarder is not None:
            await self.forwarder.start()
        host = self.config.host if self.config.host not in ("0.0.0.0", "::") else "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{host}:{self.port}"
        if self.tls_port is not None:
            self.tls_url = f"https://{host}:{self.tls_port}"
        if self.config.plan_path is not None:
            try:
                plan = self.load_plan(self.config.plan_path)
            except Exception:
                await self.stop()
                raise
            self.watch_plan(self.config.plan_path, plan)

    async def _listen(self, runner: web.AppRunner, port: int, option: str,
                      ssl_context: ssl.SSLContext | None = None) -> int:
        """Listen on ``port`` (``option`` names the flag that sets it); the bound port."""
        host = self.config.host
        assert self._gate is not None
        site = GatedTCPSite(runner, host, port, gate=self._gate, backlog=1024,
                            ssl_context=ssl_context)
        try:
            await site.start()
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUseError(
                    f"port {port} on {host} is already in use; "
                    f"stop the other program or choose another port with {option}"
                ) from error
            raise CaptureError(f"cannot listen on {host}:{port}: {error.strerror}") from error
        return site.bound_port

    async def _listen_tls(self, runner: web.AppRunner) -> None:
        from inspector.core.tls import (
            TlsError,
            certificate_hosts,
            load_or_create_ca,
            server_ssl_context,
        )

        config = self.config
        port = config.tls_port
        if port is None:
            port = config.port + 1 if config.port else 0
        try:
            context = await asyncio.to_thread(
                server_ssl_context, certificate_hosts(config.host), config.tls_dir)
            self.tls_ca = load_or_create_ca(config.tls_dir)
        except TlsError as error:
            raise CaptureError(f"cannot serve HTTPS: {error}") from error
        self.tls_port = await self._listen(runner, port, "--tls-port", context)

    async def stop(self) -> None:
        """Stop listening, finish forwarding, and write everything still queued."""
        await self._stop_watching()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.forwarder is not None:
            await self.forwarder.close()
        self.writer.stop()
        self.store.close()

    @property
    def bound_netloc(self) -> str:
        """``host:port`` of :attr:`base_url` (a loopback address for a wildcard bind)."""
        return urlsplit(self.base_url).netloc

    # ---- hooks

    def add_listener(self, listener: Callable[[list[CommittedEvent]], None]) -> None:
        """Call ``listener`` (on the writer thread) with every committed group of events."""
        self.writer.add_listener(listener)

    def queue_forward(self, pending: PendingRequest, request: web.Request, body: bytes,
                      *, cut: bool = False) -> None:
        """With ``--forward``: give ``pending`` the queue row that sends ``request`` upstream
        (``body``: the bytes it carried; ``cut``: only a prefix was kept), to be committed with
        it."""
        if self.forwarder is None:
            return
        pending.forward = self.forwarder.job_for(
            request.method, request.path_qs, request.raw_headers, body, pending.remote_addr,
            pending.write_key, cut_at=HARD_BODY_CAP if cut else None)

    def after_capture(self, pending: PendingRequest, committed: bool) -> None:
        """Called by the handlers once ``pending`` is committed (or could not be): start
        forwarding it."""
        if self.forwarder is not None:
            if committed:
                self.forwarder.committed(pending)
            else:
                self.forwarder.not_committed(pending)

    def search_index_state(self) -> dict[str, object]:
        """How far the background search indexer has got (for ``health``)."""
        return {"enabled": self.writer.indexer is not None,
                **self.store.search_index_state()}

    def forward_counts(self) -> dict[str, object]:
        """The forward queue for ``health``: the upstream (``None`` without ``--forward``) and
        requests per state in the database."""
        if self.forwarder is not None:
            return self.forwarder.describe()
        return {"upstream": None, **self.store.forward_queue.counts()}

    # ---- audits

    def session_audit(self, session_id: int) -> SessionAudit:
        """The (incrementally kept) audit of a session; the current and recently asked ones
        are kept, so a CI script polling ``audit`` pays only for what arrived since."""
        from inspector.core.audit.live import SessionAudit

        config = self._session_audit_config()
        with self._session_lock:
            audit = self._audits.get(session_id)
            if audit is None or audit.config != config:
                self._audits.pop(session_id, None)
                if len(self._audits) >= 4:  # bound memory: drop the oldest asked
                    self._audits.pop(next(iter(self._audits)))
                audit = self._audits[session_id] = SessionAudit(self.store, session_id, config)
            return audit

    def kept_audit(self, session_id: int) -> SessionAudit | None:
        """The session's audit if one is kept under the current configuration (a flow run
        reads people from it), without starting one."""
        config = self._session_audit_config()
        with self._session_lock:
            audit = self._audits.get(session_id)
        return audit if audit is not None and audit.config == config else None

    def _session_audit_config(self) -> AuditConfig:
        from inspector.core.plan import PlanValidator

        validator = self.ingestor.validator
        # The loaded plan's event names: drift.event_name compares the session's with them
        # (another plan is another configuration: that session is audited again).
        planned = (tuple(validator.plan.track_keys())
                   if isinstance(validator, PlanValidator) else ())
        config = self.audit_config
        if planned:
            config = config.model_copy(update={"planned_events": list(
                dict.fromkeys([*config.planned_events, *planned]))})
        return config

    # ---- sessions and plans

    def new_session(self, name: str | None = None) -> SessionInfo:
        """Start filing captures under a new session (thread-safe)."""
        with self._session_lock:
            session = self.store.create_session(name)
            self.session = session
            self.ingestor.switch_session(session.id, set())
            return session

    def set_validator(
        self, validator: EventValidator | None, description: dict[str, Any] | None = None
    ) -> None:
        """Validate new captures with ``validator`` (``None``: stop validating)."""
        self.ingestor.validator = validator
        self.plan_description = description if validator is not None else None

    def load_plan(self, path: Path) -> CompiledPlan:
        """Load a tracking plan file and validate new captures against it.

        The file must be a regular file of at most
        :data:`~inspector.core.plan.reading.MAX_PLAN_BYTES`. Raises
        :class:`~inspector.core.plan.PlanError` naming the file, line and column (or the
        rule) that is wrong; the previous plan stays in force.
        """
        from inspector.core.plan import PlanValidator
        from inspector.core.plan.reading import load_plan_file

        plan = load_plan_file(path)
        self.set_validator(PlanValidator(plan), self._describe(plan, path))
        return plan

    def watch_plan(self, path: Path, plan: CompiledPlan) -> None:
        """Reload ``path`` when it changes on disk and re-validate the current session."""
        from inspector.core.plan.watch import PlanWatcher

        self._watcher = PlanWatcher(path, lambda new: self._on_plan_changed(path, new),
                                    on_error=self._on_plan_error, plan=plan)
        self._watcher.start()

    async def replace_plan(self, path: Path | None, *, watch: bool = False) -> None:
        """Validate new captures against ``path`` from now on (``None``: stop validating).

        Stops watching the previous plan file. Raises
        :class:`~inspector.core.plan.PlanError` (the previous plan stays in force): reading
        runs in a worker thread with a timeout, and compiling a big plan takes a while too.
        """
        if path is None:
            await self._stop_watching()
            self.set_validator(None)
            return
        from inspector.core.plan.reading import plan_from_bytes, read_plan_file_async

        raw = await read_plan_file_async(path)
        plan = await asyncio.to_thread(plan_from_bytes, raw, str(path))
        await self._use_plan(plan, self._describe(plan, path))
        if watch:
            self.watch_plan(path, plan)

    async def upload_plan(self, content: bytes, source: str) -> None:
        """Validate new captures against a plan's ``content`` (at most
        :data:`~inspector.core.plan.reading.MAX_PLAN_BYTES`), named ``source`` in messages.

        Stops watching any plan file; raises :class:`~inspector.core.plan.PlanError` (the
        previous plan stays in force).
        """
        from inspector.core.plan.reading import plan_from_bytes

        plan = await asyncio.to_thread(plan_from_bytes, content, source)
        await self._use_plan(plan, self._describe(plan, None, source))

    async def _use_plan(self, plan: CompiledPlan, description: dict[str, Any]) -> None:
        from inspector.core.plan import PlanValidator

        await self._stop_watching()
        self.set_validator(PlanValidator(plan), description)

    async def _stop_watching(self) -> None:
        if self._watcher is not None:
            await self._watcher.stop()
            self._watcher = None

    def revalidate(self, session_id: int | None = None) -> RevalidationReport:
        """Validate a session (default: the current one) again against the loaded plan
        (blocking: call it in a worker thread); without a plan, events go back to "not
        validated"."""
        from inspector.core.verdict.revalidate import revalidate_session

        return revalidate_session(
            self.store, self.session.id if session_id is None else session_id,
            self.ingestor.validator,
        )

    def _on_plan_changed(self, path: Path, plan: CompiledPlan) -> None:
        from inspector.core.plan import PlanValidator

        self.set_validator(PlanValidator(plan), self._describe(plan, path))
        log.info("plan %s reloaded (%d rules)", path, len(plan))
        task = asyncio.get_running_loop().create_task(asyncio.to_thread(self.revalidate))
        task.add_done_callback(self._after_revalidation)

    def _after_revalidation(self, task: asyncio.Task[RevalidationReport]) -> None:
        if task.cancelled() or task.exception() is not None:
            log.error("re-validation after a plan change failed: %s",
                      None if task.cancelled() else task.exception())
            return
        self.waiters.wake_all()
        for listener in list(self.plan_listeners):
            listener(self.plan_description or {}, task.result())

    def _on_plan_error(self, error: PlanError) -> None:
        log.error("plan not reloaded, keeping the previous one: %s", error)
        if self.plan_description is not None:
            self.plan_description = {**self.plan_description, "error": str(error)}

    @staticmethod
    def _describe(compiled: CompiledPlan, path: Path | None,
                  source: str | None = None) -> dict[str, Any]:
        plan = compiled.plan
        return {
            # path: the file served and watched; source: what messages call it (an upload's
            # name, or the path).
            "path": str(path) if path is not None else None,
            "source": source if source is not None else str(path),
            "name": plan.name,
            "format": plan.format,
            "rules": len(plan),
            "loaded_at": time.time(),
            "error": None,
        }


class CaptureThread:
    """Runs a :class:`CaptureService` on its own thread and asyncio loop (for the GUI)."""

    def __init__(self, service: CaptureService) -> None:
        self.service = service
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None

    def start(self) -> None:
        """Start the loop and the service; blocks until listening, raises :class:`CaptureError`."""
        self._thread = threading.Thread(target=self._run, name="inspector-capture", daemon=True)
        self._thread.start()
        self._started.wait()
        if self._error is not None:
            self._thread.join()
            raise self._error

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self.service.start())
        except BaseException as error:
            self._error = error
            self._started.set()
            loop.close()
            return
        self._started.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self.service.stop())
            loop.close()

    def stop(self) -> None:
        """Stop the service and the loop, writing everything queued first."""
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
        self._loop = None
