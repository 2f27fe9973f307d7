"""Run the asyncio replay engine off the GUI thread, and hand its results over in batches.

The engine runs as one task of a :class:`~inspector.gui.tasks.TaskRunner` (the window's one
mechanism for work off the GUI thread), with an event loop of its own on that worker: it
writes every result to SQLite as it goes, which on the GUI thread's qasync loop would be SQL
on the GUI thread. The summary or the failure comes back through the runner, on the GUI
thread. The engine's callbacks only append to a lock-protected
buffer; the first append after a drain emits :attr:`ReplayWorker.sig_batch_ready`, a queued
signal, and the GUI-thread slot takes everything buffered so far with :meth:`take`. However fast
answers arrive, the GUI sees at most one signal per turn of its event loop, and no Qt object is
touched off the GUI thread.

Pause, resume and cancel are forwarded into the worker's loop with ``call_soon_threadsafe``:
:class:`ReplayControl` wraps ``asyncio.Event`` objects, which are not thread-safe.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from inspector.core.replay import (
    Credentials,
    Destination,
    ItemResult,
    ProductionLockedError,
    ReplayClient,
    ReplayControl,
    ReplayEngine,
    ReplayOptions,
    ReplayProgress,
    ReplayRunStore,
)
from inspector.gui.tasks import TaskRunner

__all__ = ["ReplayWorker"]


class ReplayWorker(QObject):
    """One engine run (a new run, a resume or a retry of the failed events) on a worker."""

    #: Results or progress are waiting in :meth:`take` (emitted once per drain).
    sig_batch_ready = Signal()
    #: The run ended (``ReplaySummary``), after every batch was signalled.
    sig_finished = Signal(object)
    #: The run could not start or crashed: one line for a human.
    sig_failed = Signal(str)

    def __init__(
        self,
        runs: ReplayRunStore,
        destination: Destination,
        credentials: Credentials,
        run_id: int,
        *,
        retry_failed: bool = False,
        unlock: str | None = None,
        options: ReplayOptions | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.runs = runs
        self.destination = destination
        self._credentials = credentials
        self.run_id = run_id
        self.retry_failed = retry_failed
        self._unlock = unlock
        self.options = options or ReplayOptions()
        self.control = ReplayControl()
        self._lock = threading.Lock()
        self._results: list[ItemResult] = []
        self._progress: ReplayProgress | None = None
        self._scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks = TaskRunner(max_workers=1, parent=self)
        self._future: concurrent.futures.Future[object] | None = None

    # ---- GUI thread

    def start(self) -> None:
        """Start sending on the worker."""
        self._future = self._tasks.submit(self._run, self._on_done, on_error=self._on_error,
                                          what="Replay")

    @property
    def running(self) -> bool:
        """Whether the run is still going."""
        return self._future is not None and not self._future.done()

    def take(self) -> tuple[ReplayProgress | None, list[ItemResult]]:
        """The latest progress and every result buffered since the last call."""
        with self._lock:
            progress, results = self._progress, self._results
            self._results = []
            self._scheduled = False
        return progress, results

    def pause(self) -> None:
        """Stop starting requests (those in flight finish)."""
        self._in_loop(self.control.pause)

    def resume(self) -> None:
        """Carry on after :meth:`pause`."""
        self._in_loop(self.control.resume)

    def cancel(self) -> None:
        """Stop; unsent events stay pending for a later resume."""
        self._in_loop(self.control.cancel)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the run to end; ``True`` once it has, and its worker is stopped (a
        summary not delivered yet is then dropped: the dialog is closing)."""
        if self._future is None:
            return True
        concurrent.futures.wait([self._future], timeout)
        if not self._future.done():
            return False
        self._tasks.shutdown()
        return True

    def _on_done(self, summary: object) -> None:
        self.sig_finished.emit(summary)

    def _on_error(self, error: BaseException) -> None:
        if isinstance(error, ProductionLockedError):
            self.sig_failed.emit(str(error))
        else:  # reported in the dialog, never raised on a thread
            self.sig_failed.emit(f"replay stopped: {type(error).__name__}: {error}")

    def _in_loop(self, fn: Callable[[], None]) -> None:
        with self._lock:
            loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(fn)
                return
            except RuntimeError:  # the loop closed in between: nothing waits any more
                pass
        fn()

    # ---- worker thread (no Qt calls besides emitting signals)

    def _run(self) -> object:
        loop = asyncio.new_event_loop()
        with self._lock:
            self._loop = loop
        try:
            return loop.run_until_complete(self._main())
        finally:
            with self._lock:
                self._loop = None
            loop.close()

    async def _main(self) -> object:
        async with ReplayClient(self.destination, self._credentials) as client:
            engine = ReplayEngine(
                self.runs, client, options=self.options, control=self.control,
                on_progress=self._on_progress, on_results=self._on_results,
            )
            return await engine.run(
                self.run_id, retry_failed=self.retry_failed, unlock=self._unlock
            )

    def _on_results(self, results: list[ItemResult]) -> None:
        with self._lock:
            self._results.extend(results)
            self._schedule()

    def _on_progress(self, progress: ReplayProgress) -> None:
        with self._lock:
            self._progress = progress
            self._schedule()

    def _schedule(self) -> None:
        # Called with the lock held: one queued signal until the GUI drains.
        if not self._scheduled:
            self._scheduled = True
            self.sig_batch_ready.emit()
