"""Start and stop the capture endpoint from the window."""

from __future__ import annotations

from pathlib import Path

from inspector.core.capture.service import (
    CaptureConfig,
    CaptureError,
    CaptureService,
    CaptureThread,
)
from inspector.core.store import SessionInfo
from inspector.gui.bridge import CaptureBridge
from inspector.gui.plans import Validator

__all__ = ["CaptureController", "CaptureError"]


class CaptureController:
    """Owns the :class:`CaptureService` and its thread; restartable on another port."""

    def __init__(self, config: CaptureConfig, bridge: CaptureBridge) -> None:
        self.config = config
        self.bridge = bridge
        self.service: CaptureService | None = None
        self._thread: CaptureThread | None = None
        self._validator: Validator | None = None
        self._plan_path: Path | None = None

    @property
    def running(self) -> bool:
        """Whether the endpoint is listening."""
        return self._thread is not None

    @property
    def base_url(self) -> str | None:
        """Where clients should send events, while running."""
        return self.service.base_url if self.service is not None and self.running else None

    @property
    def session(self) -> SessionInfo | None:
        """The session new captures are filed under."""
        return self.service.session if self.service is not None else None

    def start(self, session_name: str | None = None) -> None:
        """Listen; raises :class:`CaptureError` (e.g. ``PortInUseError``) if impossible."""
        if self.running:
            return
        config = self.config.model_copy(
            update={"session_name": session_name or self.config.session_name, "plan_path": None}
        )
        service = CaptureService(config)
        service.add_listener(self.bridge.on_committed)
        if self._validator is not None:
            service.set_validator(self._validator, {"path": str(self._plan_path)})
        thread = CaptureThread(service)
        try:
            thread.start()
        except CaptureError:
            service.store.close()
            raise
        except OSError as error:  # e.g. the database folder is not writable
            raise CaptureError(f"cannot start capture: {error}") from error
        self.service, self._thread = service, thread

    def stop(self) -> None:
        """Stop listening (everything captured is already committed)."""
        if self._thread is not None:
            self._thread.stop()
        self._thread = None

    def set_port(self, port: int) -> None:
        """Use ``port`` from the next start."""
        self.config = self.config.model_copy(update={"port": port})

    def set_validator(self, validator: Validator | None, plan_path: Path | None) -> None:
        """Validate new captures with ``validator`` (kept across restarts)."""
        self._validator, self._plan_path = validator, plan_path
        if self.service is not None:
            self.service.set_validator(
                validator, {"path": str(plan_path)} if plan_path else None
            )

    def new_session(self, name: str | None = None) -> SessionInfo | None:
        """File new captures under a new session (``None`` while stopped)."""
        if self.service is None or not self.running:
            return None
        return self.service.new_session(name)
