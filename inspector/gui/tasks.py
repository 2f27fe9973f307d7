"""The window's one way to run work off the GUI thread.

Two kinds of work leave the GUI thread, each with one mechanism:

* **SQL and CPU work** (opening a big session's counts, export, local re-validation, a filter's
  first page): :class:`TaskRunner`, a small thread pool. ``submit(fn, on_done)`` runs ``fn``
  on a worker; ``on_done(result)`` runs on the GUI thread through one queued signal. A worker
  never touches Qt.
* **I/O** (the capture child's REST API, outbound HTTP): coroutines on the qasync loop that
  :func:`inspector.gui.app.run` installs (the design card's package), started with
  :meth:`TaskRunner.run_async`, so they interleave with painting on the GUI thread itself.

Either way a failure is never lost on a thread: the task's ``on_error`` gets it, and without
one :attr:`TaskRunner.sig_failed` carries a one-line description that the window shows in its
banner. :attr:`TaskRunner.sig_busy` says whether anything is running, for a busy indicator.
:meth:`TaskRunner.shutdown` (the window's close) cancels what has not started and joins the
workers, so no thread outlives its window.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Qt, Signal

__all__ = ["TaskRunner", "describe"]

log = logging.getLogger(__name__)

T = TypeVar("T")

OnError = Callable[[BaseException], None]


def describe(error: BaseException) -> str:
    """A one-line description of ``error`` for the banner."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return text or type(error).__name__


class TaskRunner(QObject):
    """Runs SQL/CPU work on a small pool and coroutines on the qasync loop; results and
    failures come back on the GUI thread."""

    #: A task without its own error handler failed: ``(what, description)``.
    sig_failed = Signal(str, str)
    #: Whether any task is running (for a busy indicator).
    sig_busy = Signal(bool)
    #: A worker finished: ``(callback, outcome)``, delivered on the GUI thread (queued).
    _sig_done = Signal(object, object)

    def __init__(self, max_workers: int = 2, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._max_workers = max_workers
        self._pool: ThreadPoolExecutor | None = None
        self._active = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        # Queued even from the GUI thread: a task that finishes before add_done_callback is
        # attached runs its callback on the submitting thread, and an automatic connection
        # would then call on_done inside submit() (seen under load: an "opening" busy state
        # ended before open_session returned).
        self._sig_done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)

    @property
    def busy(self) -> bool:
        """Whether any task is running."""
        return self._active > 0

    # ---- SQL and CPU work, on the pool

    def submit(
        self, fn: Callable[[], T], on_done: Callable[[T], None], *,
        on_error: OnError | None = None, what: str = "A background task",
    ) -> Future[T] | None:
        """Run ``fn()`` on a worker; ``on_done(result)`` or ``on_error(error)`` on the GUI
        thread (without ``on_error``, :attr:`sig_failed`). ``None`` once shut down."""
        if self._closed:
            return None
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._max_workers, thread_name_prefix="inspector-task")
        self._started()

        def finished(future: Future[T]) -> None:  # on the worker (or at once if cancelled)
            if future.cancelled():
                return
            error = future.exception()
            outcome: tuple[bool, Any] = (False, error) if error is not None else (
                True, future.result())
            self._sig_done.emit((on_done, on_error, what), outcome)

        future = self._pool.submit(fn)
        future.add_done_callback(finished)
        return future

    def _on_done(self, callbacks: Any, outcome: tuple[bool, Any]) -> None:
        on_done, on_error, what = callbacks
        ok, value = outcome
        try:
            if ok:
                on_done(value)
            else:
                self._fail(what, value, on_error)
        finally:
            self._finished()

    # ---- I/O, on the qasync loop

    def run_async(
        self, coroutine: Coroutine[Any, Any, T], on_done: Callable[[T], None], *,
        on_error: OnError | None = None, what: str = "A background task",
    ) -> asyncio.Task[T] | None:
        """Run ``coroutine`` on the loop (the GUI thread's qasync loop); ``on_done(result)``
        or ``on_error(error)`` when it ends (without ``on_error``, :attr:`sig_failed`)."""
        if self._closed:
            coroutine.close()
            return None
        task = _event_loop().create_task(coroutine)
        self._tasks.add(task)
        self._started()

        def finished(done: asyncio.Task[T]) -> None:
            self._tasks.discard(done)
            try:
                if done.cancelled():
                    return
                error = done.exception()
                if error is None:
                    on_done(done.result())
                else:
                    self._fail(what, error, on_error)
            finally:
                self._finished()

        task.add_done_callback(finished)
        return task

    # ---- shared

    def _fail(self, what: str, error: BaseException, on_error: OnError | None) -> None:
        log.warning("%s failed: %s", what, error, exc_info=error)
        if on_error is not None:
            on_error(error)
        else:
            self.sig_failed.emit(what, describe(error))

    def _started(self) -> None:
        self._active += 1
        if self._active == 1:
            self.sig_busy.emit(True)

    def _finished(self) -> None:
        self._active -= 1
        if self._active == 0:
            self.sig_busy.emit(False)

    def cancel(self) -> None:
        """Cancel the running coroutines (their callbacks do not run); the runner stays
        usable."""
        for task in list(self._tasks):
            task.cancel()

    def shutdown(self) -> None:
        """Cancel what has not started, wait for the workers, cancel running coroutines.
        Results that arrive after this are dropped (their window is closing)."""
        if self._closed:
            return
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._sig_done.disconnect(self._on_done)


def _event_loop() -> asyncio.AbstractEventLoop:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        # Before the qasync loop runs (the window is built first): the loop it will run.
        return asyncio.get_event_loop_policy().get_event_loop()
