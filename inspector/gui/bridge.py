"""The one hand-off from the core's threads to Qt.

The capture child (``inspector serve``) commits events to SQLite; a
:class:`~inspector.core.store.tail.StoreTail` worker thread reads them back by id and calls its
listeners there (so does a :class:`GroupCommitWriter` in tests). A listener must not touch Qt
objects, so :meth:`CaptureBridge.on_committed` only appends to a lock-protected list. A
:class:`QTimer` on the GUI thread drains that list every ``interval_ms``
and emits one :attr:`sig_events_committed` per drain, which models turn into one
``beginInsertRows`` per batch instead of 1,000 queued signals a second.

Every non-empty drain costs the window a table repaint, so while events keep coming the timer
slows to ``busy_interval_ms`` (default: twice ``interval_ms``, i.e. 100 ms, 10 repaints a
second under load); the first drain after a quiet one goes back to ``interval_ms``, so a lone
event still shows within 50 ms.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from inspector.core.store import CommittedEvent

__all__ = ["CaptureBridge"]


class CaptureBridge(QObject):
    """Collects committed events from any thread; re-emits them in batches on the GUI thread."""

    #: A batch of committed events, in commit order (``list[CommittedEvent]``).
    sig_events_committed = Signal(list)
    #: A callable queued by :meth:`call_on_main` from a worker thread.
    _sig_call = Signal(object)

    def __init__(
        self, interval_ms: int = 50, parent: QObject | None = None, *,
        busy_interval_ms: int | None = None,
    ) -> None:
        super().__init__(parent)
        self._interval = interval_ms
        self._busy_interval = busy_interval_ms if busy_interval_ms is not None else 2 * interval_ms
        self._lock = threading.Lock()
        self._pending: list[CommittedEvent] = []
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.drain)
        self._timer.start()
        self._sig_call.connect(self._on_call)
        self.delivered = 0
        self.last_drain = time.perf_counter()

    def on_committed(self, events: list[CommittedEvent]) -> None:
        """Worker-thread listener: queue ``events`` for the next drain. No Qt calls here."""
        with self._lock:
            self._pending.extend(events)

    def call_on_main(self, fn: Callable[[], Any]) -> None:
        """Run ``fn`` on the GUI thread soon (safe from any thread)."""
        self._sig_call.emit(fn)

    def drain(self) -> None:
        """Emit everything queued so far as one batch (GUI thread)."""
        with self._lock:
            batch, self._pending = self._pending, []
        self.last_drain = time.perf_counter()
        interval = self._busy_interval if batch else self._interval
        if self._timer.interval() != interval:
            self._timer.setInterval(interval)
        if batch:
            self.delivered += len(batch)
            self.sig_events_committed.emit(batch)

    def stop(self) -> None:
        """Stop draining (the window is closing)."""
        self._timer.stop()

    def _on_call(self, fn: Callable[[], Any]) -> None:
        fn()
