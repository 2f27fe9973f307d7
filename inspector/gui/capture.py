"""Run the capture endpoint as a child process and follow what it stores.

The window used to run the endpoint on a thread of its own, which still shared the GIL with
painting: at 1,000 events/s the event loop stalled for up to ~200 ms. Now the endpoint is
exactly ``inspector serve`` in a child process (its own interpreter, its own GIL):

* start: ``python -m inspector serve --port P --db DB --session NAME --quiet --ready-json
  --exit-with-stdin`` (in a frozen build, which has no ``-m``: the executable itself with
  ``serve ...``); the first stdout line is JSON with the bound URL and session. If the
  child exits first (port in use: exit code 2 and one stderr line), that line is the error.
* live events: a :class:`~inspector.core.store.tail.StoreTail` worker polls the SQLite store
  by id every 50 ms and hands new events to the :class:`~inspector.gui.bridge.CaptureBridge`,
  the one hand-off to the GUI thread.
* control: the REST API under ``/inspector/api/`` (new session, plan, re-validate); the long
  call (re-validate) is a coroutine on the window's qasync loop (:class:`TaskRunner`). Plans
  are uploaded as content, never as a path for the child to open. Bound beyond loopback, the
  API needs a bearer token: this process generates it and hands it over in the child's
  environment (``--api-token-env``), never on its command line where ``ps`` shows it.
* lifetime: stop sends SIGTERM, then kills after a timeout; the child also stops when its
  stdin (a pipe held by this process) closes, so it never outlives the window, even one killed
  with SIGKILL. An unexpected exit is reported through :attr:`sig_crashed`.
"""

from __future__ import annotations

import collections
import json
import logging
import secrets
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal

from inspector.core.capture.addresses import host_name, is_loopback
from inspector.core.capture.service import CaptureConfig, CaptureError
from inspector.core.own_command import own_command
from inspector.core.plan import PlanError
from inspector.core.plan.reading import read_plan_file
from inspector.core.store import SessionInfo
from inspector.core.store.tail import StoreTail
from inspector.gui.bridge import CaptureBridge
from inspector.gui.tasks import TaskRunner, describe

__all__ = ["CaptureController", "CaptureError", "serve_command"]

log = logging.getLogger(__name__)

API = "/inspector/api"
#: The child's environment variable holding the REST API token (its name is on the command
#: line, the value is not).
TOKEN_ENV = "INSPECTOR_API_TOKEN"


def serve_command(executable: str | None = None) -> list[str]:
    """How to run ``inspector serve`` (:func:`~inspector.core.own_command.own_command`), or
    with another Python ``executable``, ``EXECUTABLE -m inspector serve``."""
    if executable is None:
        return own_command("serve")
    return [executable, "-m", "inspector", "serve"]


def _session_info(data: dict[str, Any]) -> SessionInfo:
    created = data.get("created_at")
    return SessionInfo(
        id=int(data["id"]), name=str(data["name"]),
        created_at=datetime.fromisoformat(created).timestamp() if created else 0.0,
        event_count=int(data.get("event_count") or 0),
    )


class CaptureController(QObject):
    """Owns the ``inspector serve`` child process, the store tail and the REST client."""

    #: The child exited without being asked to: a one-line description for the banner.
    sig_crashed = Signal(str)
    #: Following the store failed (e.g. a listener raised): a one-line description.
    sig_failed = Signal(str)

    def __init__(
        self,
        config: CaptureConfig,
        bridge: CaptureBridge,
        *,
        python: str | None = None,
        start_timeout_ms: int = 30_000,
        stop_timeout_ms: int = 5_000,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        if config.db_path is None:
            raise ValueError("the capture child and the window must share a database path")
        self.config = config
        self.bridge = bridge
        #: The child's command up to ``serve`` (``python`` overrides the interpreter).
        self._serve = serve_command(python)
        self._start_timeout_ms = start_timeout_ms
        self._stop_timeout_ms = stop_timeout_ms
        self._process: QProcess | None = None
        self._tail: StoreTail | None = None
        self._http: httpx.Client | None = None
        self._base_url: str | None = None
        self._tls_url: str | None = None
        self._session: SessionInfo | None = None
        #: The plan uploaded to every (re)started child: its name and text.
        self._plan: tuple[str, str] | None = None
        self._token: str | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=20)
        #: Runs the REST calls that take a while (re-validation) on the qasync loop.
        self.tasks = TaskRunner(parent=self)
        #: Why the last plan could not be applied to a (re)started child, if it could not.
        self.plan_error: str | None = None

    # ---- state

    @property
    def running(self) -> bool:
        """Whether the child is listening."""
        return self._process is not None

    @property
    def base_url(self) -> str | None:
        """Where clients should send events, while running."""
        return self._base_url if self.running else None

    @property
    def tls_url(self) -> str | None:
        """The HTTPS endpoint, while running with TLS."""
        return self._tls_url if self.running else None

    @property
    def session(self) -> SessionInfo | None:
        """The session new captures are filed under."""
        return self._session

    @property
    def pid(self) -> int | None:
        """The child's process id, while running."""
        return int(self._process.processId()) if self._process is not None else None

    @property
    def tail(self) -> StoreTail | None:
        """The store tail feeding the bridge, while running (benchmarks read its counters)."""
        return self._tail

    def api_endpoint(self) -> tuple[str, dict[str, str]] | None:
        """The child's REST API (its base URL and the headers it needs: the token, when it
        wants one), while running; ``None`` while stopped."""
        if not self.running or self._base_url is None:
            return None
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        return self._base_url + API, headers

    def command(self, session_name: str | None = None) -> list[str]:
        """The child's command line."""
        config = self.config
        args = [*self._serve, "--host", config.host,
                "--port", str(config.port), "--db", str(config.db_path), "--quiet",
                "--ready-json", "--exit-with-stdin"]
        if config.tls:
            args.append("--tls")
            if config.tls_port is not None:
                args += ["--tls-port", str(config.tls_port)]
        if config.audit_path is not None:
            args += ["--audit", str(config.audit_path)]
        if config.forward_url is not None:
            args += ["--forward", config.forward_url]
        name = session_name or config.session_name
        if name:
            args += ["--session", name]
        if self._token is not None:
            args += ["--api-token-env", TOKEN_ENV]
        return args

    def _new_token(self) -> str | None:
        # On loopback the child's Host and Origin checks guard its API and scripts may use it
        # without a token, as with `inspector serve`; beyond, the API needs one.
        if self.config.api_token:
            return self.config.api_token
        if is_loopback(host_name(self.config.host)):
            return None
        return secrets.token_urlsafe(32)

    # ---- lifecycle

    def start(self, session_name: str | None = None) -> None:
        """Start the child and wait until it listens; raises :class:`CaptureError` with the
        child's one-line reason (e.g. the port is in use) if it exits instead."""
        if self.running:
            return
        assert self.config.db_path is not None
        # Fix the tail's starting id before the child can commit anything: nothing is missed.
        tail = StoreTail(self.config.db_path)
        tail.add_listener(self.bridge.on_committed)
        tail.add_error_listener(self._on_tail_error)
        try:
            tail.open()
        except Exception as error:  # an unreadable database: say so, never crash
            tail.close()
            raise CaptureError(f"cannot read the capture database: {error}") from error
        process = QProcess(self)
        self._token = self._new_token()
        command = self.command(session_name)
        process.setProgram(command[0])
        process.setArguments(command[1:])
        environment = QProcessEnvironment.systemEnvironment()
        environment.insert("PYTHONUNBUFFERED", "1")
        environment.remove(TOKEN_ENV)
        if self._token is not None:
            environment.insert(TOKEN_ENV, self._token)
        process.setProcessEnvironment(environment)
        self._stderr.clear()
        process.start()
        try:
            ready = self._wait_ready(process)
        except CaptureError:
            tail.close()
            process.deleteLater()
            raise
        process.readyReadStandardOutput.connect(lambda: process.readAllStandardOutput())
        process.readyReadStandardError.connect(lambda: self._keep_stderr(process))
        process.finished.connect(self._on_finished)
        self._process = process
        self._base_url = str(ready["url"])
        self._tls_url = ready.get("tls_url")
        self._session = _session_info(ready["session"])
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        self._http = httpx.Client(base_url=self._base_url + API, timeout=30.0, headers=headers)
        self._tail = tail
        tail.start()
        self.plan_error = None
        if self._plan is not None:
            try:
                self._post_plan(self._plan)
            except CaptureError as error:
                self.plan_error = error.message

    def _on_tail_error(self, error: BaseException) -> None:
        # On the tail's thread: only a queued hand-off to the GUI thread.
        message = f"Following new events failed: {describe(error)}"
        self.bridge.call_on_main(lambda: self.sig_failed.emit(message))

    def _wait_ready(self, process: QProcess) -> dict[str, Any]:
        if not process.waitForStarted(self._start_timeout_ms):
            raise CaptureError(f"cannot run {self._serve[0]}: {process.errorString()}")
        # Blocks the GUI thread for the child's start-up (~0.5 s), like the in-process
        # endpoint's bind did; afterwards nothing here ever waits on the child.
        while not process.canReadLine():
            if process.state() == QProcess.ProcessState.NotRunning or not (
                process.waitForReadyRead(self._start_timeout_ms)
            ):
                break
        if process.canReadLine():
            line = bytes(process.readLine().data()).decode("utf-8", "replace")
            try:
                ready: dict[str, Any] = json.loads(line)
                return ready
            except ValueError:
                pass
        if process.state() != QProcess.ProcessState.NotRunning:
            process.kill()
        process.waitForFinished(self._stop_timeout_ms)
        self._keep_stderr(process)
        raise CaptureError(self._last_error_line() or "the capture process exited at start-up")

    def _keep_stderr(self, process: QProcess) -> None:
        text = bytes(process.readAllStandardError().data()).decode("utf-8", "replace")
        lines = [line for line in text.splitlines() if line.strip()]
        self._stderr.extend(lines)
        for line in lines:  # into the window's log file, for bug reports
            log.info("capture child: %s", line)

    def _last_error_line(self) -> str | None:
        lines = [line for line in self._stderr if line.strip() != "inspector: stopped"]
        if not lines:
            return None
        line = lines[-1].strip()
        return line.removeprefix("inspector: ")

    def stop(self) -> None:
        """Stop the child (SIGTERM, then SIGKILL after a timeout) and the tail."""
        process = self._process
        if process is None:
            return
        self._process = None  # from here on, its exit is expected
        process.finished.disconnect(self._on_finished)
        if process.state() != QProcess.ProcessState.NotRunning:
            process.terminate()
            if not process.waitForFinished(self._stop_timeout_ms):
                process.kill()
                process.waitForFinished(self._stop_timeout_ms)
        process.deleteLater()
        self._cleanup()

    def _cleanup(self) -> None:
        if self._tail is not None:
            self._tail.stop()  # after the child's exit: its last commits are delivered
            self._tail = None
        if self._http is not None:
            self._http.close()
            self._http = None

    def _on_finished(self, exit_code: int, exit_status: QProcess.ExitStatus) -> None:
        process = self._process
        if process is None:
            return
        self._keep_stderr(process)
        self._process = None
        process.deleteLater()
        self._cleanup()
        if exit_status == QProcess.ExitStatus.CrashExit:
            message = "The capture process crashed or was killed"
        else:
            message = f"The capture process exited with code {exit_code}"
        reason = self._last_error_line()
        self.sig_crashed.emit(f"{message}: {reason}" if reason else f"{message}.")

    def set_port(self, port: int) -> None:
        """Use ``port`` from the next start."""
        self.config = self.config.model_copy(update={"port": port})

    # ---- control, through the REST API

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        if self._http is None:
            raise CaptureError("capture is not running")
        try:
            response = self._http.request(method, path, json=body)
        except httpx.HTTPError as error:
            raise CaptureError(f"the capture process did not answer: {error}") from error
        data = response.json() if response.content else {}
        if response.status_code >= 400:
            raise CaptureError(str(data.get("message") or response.reason_phrase))
        return data

    def health(self) -> dict[str, Any]:
        """``GET /inspector/api/health``."""
        result: dict[str, Any] = self._call("GET", "/health")
        return result

    def new_session(self, name: str | None = None) -> SessionInfo | None:
        """File new captures under a new session (``None`` while stopped)."""
        if not self.running:
            return None
        data = self._call("POST", "/reset", {"name": name} if name else {})
        self._session = _session_info(data["session"])
        return self._session

    def set_plan(self, path: Path | None) -> None:
        """Validate new captures against ``path`` (kept across restarts; ``None``: stop).

        The file is read here (a regular file, bounded) and its content uploaded. Raises
        :class:`CaptureError` when it cannot be read or the child rejects the plan.
        """
        plan: tuple[str, str] | None = None
        if path is not None:
            try:
                text = read_plan_file(path).decode("utf-8-sig")
            except PlanError as error:
                raise CaptureError(str(error)) from error
            except UnicodeDecodeError as error:
                raise CaptureError(f"{path}: plan file is not UTF-8 text") from error
            plan = (str(path), text)
        self._plan = plan
        if self.running:
            self._post_plan(plan)

    def _post_plan(self, plan: tuple[str, str] | None) -> None:
        if plan is None:
            self._call("POST", "/plan", {"path": None})
        else:
            self._call("POST", "/plan", {"content": plan[1], "name": plan[0]})

    def revalidate(self, session_id: int,
                   on_done: Callable[[dict[str, Any] | CaptureError], None]) -> None:
        """Re-validate a session in the child against its plan, as a coroutine on the qasync
        loop (the GUI thread never waits); ``on_done`` gets the report or the error."""
        base_url = self._base_url
        if self._http is None or base_url is None:
            on_done(CaptureError("capture is not running"))
            return
        headers = self._http.headers  # the token, when the child needs one

        async def call() -> dict[str, Any] | CaptureError:
            try:
                async with httpx.AsyncClient(base_url=base_url + API, timeout=None,
                                             headers=headers) as http:
                    response = await http.post("/revalidate", json={"session": session_id})
                data: dict[str, Any] = response.json()
            except (httpx.HTTPError, ValueError) as error:
                return CaptureError(f"re-validation failed: {error}")
            if response.status_code >= 400:
                return CaptureError(str(data.get("message")))
            return data

        self.tasks.run_async(call(), on_done,
                             on_error=lambda error: on_done(CaptureError(describe(error))),
                             what="Re-validation")

    def shutdown(self) -> None:
        """Stop the child and cancel any REST call still running (the window is closing)."""
        self.stop()
        self.tasks.shutdown()
