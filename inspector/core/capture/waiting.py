"""Long polls (``wait=`` on the events API) woken by commits, never by a timer.

A waiting request registers its query; the writer's commit listener hands each committed group
to the capture loop, where every waiter whose query one of the new events passes
(:func:`~inspector.core.store.paging.matches`, the live views' own test) is woken to count
again. An idle waiter is an ``asyncio.Event`` and nothing else: no thread, no timer, no query.
The count that answers is always the store's, so a waiter woken for nothing only costs a query;
and after the first count a waiter counts only the events above the newest id it has counted
(ids grow with every commit of the one writer), so under sustained traffic a wake-up reads the
new events, not the session again. A re-validation (statuses changed in place) counts anew.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from inspector.core.store import CommittedEvent, EventQuery
from inspector.core.store.paging import matches

__all__ = ["CommitWaiters", "Waiter"]


class Waiter:
    """One waiting request: its query and the event set when something it may count arrived."""

    __slots__ = ("arrived", "query", "recount")

    def __init__(self, query: EventQuery) -> None:
        self.query = query
        self.arrived = asyncio.Event()
        #: Set when what was counted may have changed in place: count everything again.
        self.recount = False


class CommitWaiters:
    """The waiting requests of one capture service, woken after commits."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiters: set[Waiter] = set()
        self._registered: asyncio.Condition | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wake waiters on ``loop`` (the capture loop, where the API's handlers run)."""
        self._loop = loop

    def on_commit(self, committed: list[CommittedEvent]) -> None:
        """The writer's commit listener (writer thread): cheap when nobody waits."""
        loop = self._loop
        if self._waiters and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._dispatch, committed)

    def _dispatch(self, committed: list[CommittedEvent]) -> None:
        for waiter in list(self._waiters):
            if not waiter.arrived.is_set() and any(
                    matches(waiter.query, event) for event in committed):
                waiter.arrived.set()

    def wake_all(self) -> None:
        """Wake every waiter (statuses changed without a commit: a re-validation)."""
        for waiter in self._waiters:
            waiter.recount = True
            waiter.arrived.set()

    async def wait_for(self, query: EventQuery, minimum: int, seconds: float,
                       count: Callable[[EventQuery], Awaitable[int]],
                       newest: Callable[[], Awaitable[int]]) -> bool:
        """Hold until ``query`` matches at least ``minimum`` events (``True``) or ``seconds``
        pass (``False``, after counting once more). ``count`` counts a query in the store,
        ``newest`` is the store's newest event id."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        counted, through = 0, None
        with self.watching(query) as waiter:
            while True:
                # Cleared before counting: a commit during the count wakes the next wait.
                waiter.arrived.clear()
                if waiter.recount:
                    counted, through, waiter.recount = 0, None, False
                upto = await newest()
                bounds: dict[str, int] = {"until_id": upto + 1}
                if through is not None:
                    bounds["since_id"] = max(query.since_id or 0, through)
                counted += await count(query.model_copy(update=bounds))
                through = upto
                if counted >= minimum:
                    return True
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter.arrived.wait(), remaining)

    def __len__(self) -> int:
        return len(self._waiters)

    async def until_waiting(self, count: int = 1) -> None:
        """Return once at least ``count`` requests wait (for tests and scripts that must
        act only after a long poll has begun)."""
        if self._registered is None:
            self._registered = asyncio.Condition()
        async with self._registered:
            await self._registered.wait_for(lambda: len(self._waiters) >= count)

    async def _announce(self) -> None:
        if self._registered is not None:
            async with self._registered:
                self._registered.notify_all()

    @contextmanager
    def watching(self, query: EventQuery) -> Iterator[Waiter]:
        """A waiter for ``query`` for the length of the block (call on the capture loop)."""
        waiter = Waiter(query)
        self._waiters.add(waiter)
        if self._registered is not None:
            task = asyncio.get_running_loop().create_task(self._announce())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        try:
            yield waiter
        finally:
            self._waiters.discard(waiter)
