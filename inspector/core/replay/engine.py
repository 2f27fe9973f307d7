"""The replay engine: ordered, rate-limited, retrying, resumable sends with pause and cancel.

Ordering: requests for different people may be in flight together, but a request waits for every
earlier request that concerns any of its people (userId, anonymousId, previousId), so one person's
calls always reach Customer.io in capture order. If a person's request gives up after retries,
that person's later requests are *held* (not sent) rather than sent out of order; "retry failed"
sends the failed and held ones again, still in order.

Retries: 429, 5xx and network errors, with exponential backoff and full jitter, or exactly the
``Retry-After`` the server asked for. Other 4xx answers are final. Every attempt, retries
included, takes a slot from the rate limiter: the configured rate is what Customer.io sees.

Qt-free: progress is reported through plain callbacks, and :class:`ReplayControl` is driven from
the same event loop (with qasync, the GUI's loop).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from inspector.core.replay.client import HttpResult, ReplayClient
from inspector.core.replay.destinations import Destination, Marking
from inspector.core.replay.mapping import mapper_for
from inspector.core.replay.mapping.base import Dropped, PlannedRequest, Rejected, ReplayItem
from inspector.core.replay.runs import ItemResult, ItemStatus, ReplayRunStore, RunState

__all__ = [
    "ProductionLockedError",
    "RateLimiter",
    "ReplayControl",
    "ReplayEngine",
    "ReplayOptions",
    "ReplayProgress",
    "ReplaySummary",
    "check_unlocked",
]


class ProductionLockedError(Exception):
    """Replay to a production-marked destination without typing its name for this run."""


def check_unlocked(destination: Destination, unlock: str | None) -> None:
    """Refuse a production destination unless ``unlock`` is exactly its name."""
    if destination.marking is Marking.PRODUCTION and unlock != destination.name:
        raise ProductionLockedError(
            f"{destination.name!r} is marked production; type its name to unlock this run"
        )


class ReplayOptions(BaseModel):
    """How fast and how stubbornly to send."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Requests per second. Segment advises 100-200 for Customer.io imports.
    rate: float = Field(default=100.0, gt=0)
    #: Requests in flight at once (different people only; see module docstring).
    concurrency: int = Field(default=8, ge=1, le=256)
    #: Attempts per request, the first included.
    max_attempts: int = Field(default=6, ge=1)
    backoff_base: float = Field(default=0.5, ge=0)
    backoff_max: float = Field(default=30.0, ge=0)
    #: Longest Retry-After honoured (customerio-node uses the same 300 s cap).
    retry_after_max: float = Field(default=300.0, ge=0)


class RateLimiter:
    """Spaces acquisitions ``1/rate`` seconds apart (no bursts), across concurrent callers."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")

    async def acquire(self) -> None:
        """Wait for the next free slot."""
        now = self._clock()
        slot = max(now, self._next)
        # Reserve before sleeping, so concurrent callers queue up behind each other.
        self._next = slot + self.interval
        if slot > now:
            await self._sleep(slot - now)


class ReplayControl:
    """Pause, resume and cancel a running replay (call from the engine's event loop)."""

    def __init__(self) -> None:
        self._running = asyncio.Event()
        self._running.set()
        self._cancelled = asyncio.Event()

    def pause(self) -> None:
        """Stop starting new requests; those in flight finish."""
        self._running.clear()

    def resume(self) -> None:
        """Carry on after :meth:`pause`."""
        self._running.set()

    def cancel(self) -> None:
        """Stop: nothing new is sent, unsent events stay pending for a later resume."""
        self._cancelled.set()
        self._running.set()

    @property
    def paused(self) -> bool:
        """Whether the replay is paused."""
        return not self._running.is_set()

    @property
    def cancelled(self) -> bool:
        """Whether the replay was cancelled."""
        return self._cancelled.is_set()

    async def wait_runnable(self) -> None:
        """Return once not paused (or cancelled)."""
        await self._running.wait()

    async def sleep_unless_cancelled(self, delay: float) -> bool:
        """Sleep ``delay`` seconds; ``True`` if cancelled meanwhile (returns at once then)."""
        try:
            await asyncio.wait_for(self._cancelled.wait(), timeout=delay)
        except TimeoutError:
            return False
        return True


@dataclass(frozen=True, slots=True)
class ReplayProgress:
    """Counts for a progress bar (events, not requests: a batch carries many)."""

    run_id: int
    total: int
    sent: int
    failed: int
    dropped: int
    held: int
    pending: int
    requests: int
    retries: int
    elapsed: float
    paused: bool

    @property
    def done(self) -> int:
        """Events with a final outcome in this run."""
        return self.sent + self.failed + self.dropped + self.held


@dataclass(slots=True)
class ReplaySummary:
    """The end-of-run summary."""

    run_id: int
    state: RunState
    counts: dict[ItemStatus, int]
    requests: int
    retries: int
    elapsed: float
    backoffs: list[float] = field(default_factory=list)

    @property
    def requests_per_second(self) -> float:
        """Requests sent (retries included) per second of run time."""
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (CLI output, exports)."""
        return {
            "run_id": self.run_id,
            "state": str(self.state),
            "counts": {str(key): value for key, value in self.counts.items()},
            "requests": self.requests,
            "retries": self.retries,
            "elapsed": round(self.elapsed, 3),
            "requests_per_second": round(self.requests_per_second, 1),
        }


ProgressCallback = Callable[[ReplayProgress], None]
ResultsCallback = Callable[[list[ItemResult]], None]


class ReplayEngine:
    """Runs a planned replay against one destination."""

    def __init__(
        self,
        runs: ReplayRunStore,
        client: ReplayClient,
        *,
        options: ReplayOptions | None = None,
        control: ReplayControl | None = None,
        on_progress: ProgressCallback | None = None,
        on_results: ResultsCallback | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.runs = runs
        self.client = client
        self.options = options or ReplayOptions()
        self.control = control or ReplayControl()
        self.on_progress = on_progress
        self.on_results = on_results
        self.limiter = limiter or RateLimiter(self.options.rate)
        self._requests = 0
        self._retries = 0
        self._backoffs: list[float] = []
        self._counts: dict[ItemStatus, int] = {}
        self._total = 0
        self._started = 0.0
        self._run_id = 0

    async def run(
        self, run_id: int, *, retry_failed: bool = False, unlock: str | None = None
    ) -> ReplaySummary:
        """Send the run's pending events (and failed/held ones with ``retry_failed``).

        Raises :class:`ProductionLockedError` for a production destination not unlocked by name.
        Cancelling the task running this (quitting) leaves unsent events pending.
        """
        run = self.runs.get_run(run_id)
        if run is None:
            raise KeyError(f"no replay run {run_id}")
        check_unlocked(run.destination, unlock)
        if run.destination.name != self.client.destination.name:
            raise ValueError("the client is for another destination than the run's")
        statuses = [ItemStatus.PENDING]
        if retry_failed:
            statuses += [ItemStatus.FAILED, ItemStatus.HELD]
        items = self.runs.items(run_id, statuses)
        self._run_id = run_id
        self._requests = self._retries = 0
        self._backoffs = []
        self._started = time.monotonic()
        self._counts = self.runs.counts(run_id)
        self._total = sum(self._counts.values())
        if retry_failed:
            # Those are about to be sent again: count them as pending until they finish.
            moved = self._counts[ItemStatus.FAILED] + self._counts[ItemStatus.HELD]
            self._counts[ItemStatus.PENDING] += moved
            self._counts[ItemStatus.FAILED] = self._counts[ItemStatus.HELD] = 0
        self.runs.set_state(run_id, RunState.RUNNING)
        state = RunState.INTERRUPTED
        try:
            await self._send_all(run.destination, items)
            state = RunState.CANCELLED if self.control.cancelled else RunState.COMPLETED
        finally:
            self.runs.set_state(run_id, state)
        counts = self.runs.counts(run_id)
        return ReplaySummary(run_id, state, counts, self._requests, self._retries,
                             time.monotonic() - self._started, list(self._backoffs))

    # ---- scheduling

    async def _send_all(self, destination: Destination, items: Sequence[ReplayItem]) -> None:
        planned = mapper_for(destination).plan(items)
        immediate = [
            ItemResult(entry.seq, ItemStatus.DROPPED, error=entry.reason)
            if isinstance(entry, Dropped)
            else ItemResult(entry.seq, ItemStatus.FAILED, error=entry.reason)
            for entry in planned
            if isinstance(entry, Dropped | Rejected)
        ]
        if immediate:
            self._record(immediate)
        semaphore = asyncio.Semaphore(self.options.concurrency)
        blocked: set[str] = set()
        last: dict[str, asyncio.Task[None]] = {}
        tasks: list[asyncio.Task[None]] = []
        for entry in planned:
            if not isinstance(entry, PlannedRequest):
                continue
            deps = {last[person] for person in entry.persons if person in last}
            task = asyncio.create_task(self._dispatch(entry, deps, semaphore, blocked))
            for person in entry.persons:
                last[person] = task
            tasks.append(task)
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            # Let cancelled tasks unwind before the caller closes the client.
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _dispatch(
        self,
        planned: PlannedRequest,
        deps: set[asyncio.Task[None]],
        semaphore: asyncio.Semaphore,
        blocked: set[str],
    ) -> None:
        if deps:
            await asyncio.wait(deps)
        if self.control.cancelled:
            return
        if planned.persons & blocked:
            blocked.update(planned.persons)
            self._record([
                ItemResult(seq, ItemStatus.HELD,
                           error="held: an earlier event of the same person failed")
                for seq in planned.seqs
            ])
            return
        results, gave_up = await self._send_with_retries(planned, semaphore)
        if gave_up:
            blocked.update(planned.persons)
        if results:
            self._record(results)

    async def _send_with_retries(
        self, planned: PlannedRequest, semaphore: asyncio.Semaphore
    ) -> tuple[list[ItemResult], bool]:
        """Final results for the request's events (empty if cancelled) and whether it gave up."""
        attempt = 0
        while True:
            await self.control.wait_runnable()
            if self.control.cancelled:
                return self._still_pending(planned, attempt), False
            # The slot is held per attempt, not during backoff: a request waiting out a
            # Retry-After must not stop other people's requests from going.
            async with semaphore:
                # Paused or cancelled while queued for a slot: go back and wait.
                if self.control.paused or self.control.cancelled:
                    continue
                await self.limiter.acquire()
                if self.control.paused or self.control.cancelled:
                    continue
                attempt += 1
                self._requests += 1
                result = await self.client.send(planned.request)
            if result.ok:
                return self._successes(planned, result, attempt), False
            if not result.retryable or attempt >= self.options.max_attempts:
                return self._failures(planned, result, attempt), result.retryable
            delay = self._delay(result, attempt)
            self._retries += 1
            self._backoffs.append(delay)
            if await self.control.sleep_unless_cancelled(delay):
                return self._still_pending(planned, attempt), False

    def _delay(self, result: HttpResult, attempt: int) -> float:
        if result.retry_after is not None:
            return min(result.retry_after, self.options.retry_after_max)
        ceiling = min(self.options.backoff_max, self.options.backoff_base * 2 ** (attempt - 1))
        # Full jitter: retries from many requests failing together do not arrive together.
        return random.uniform(0, ceiling)

    # ---- outcomes

    @staticmethod
    def _still_pending(planned: PlannedRequest, attempts: int) -> list[ItemResult]:
        if attempts == 0:
            return []
        return [ItemResult(seq, ItemStatus.PENDING, attempts=attempts) for seq in planned.seqs]

    @staticmethod
    def _successes(
        planned: PlannedRequest, result: HttpResult, attempts: int
    ) -> list[ItemResult]:
        errors: dict[int, Any] = {}
        if result.status == 207:
            body = result.json()
            for error in (body or {}).get("errors", []) if isinstance(body, dict) else []:
                index = error.get("batch_index") if isinstance(error, dict) else None
                if isinstance(index, int) and 0 <= index < len(planned.seqs):
                    errors.setdefault(index, []).append(error)
        out = []
        for index, seq in enumerate(planned.seqs):
            if index in errors:
                message = "; ".join(
                    f"{e.get('field') or ''}: {e.get('message') or e.get('reason') or ''}".strip()
                    for e in errors[index]
                )
                out.append(ItemResult(seq, ItemStatus.FAILED, result.status, result.body,
                                      message, attempts))
            else:
                out.append(ItemResult(seq, ItemStatus.SENT, result.status, result.body,
                                      None, attempts))
        return out

    @staticmethod
    def _failures(
        planned: PlannedRequest, result: HttpResult, attempts: int
    ) -> list[ItemResult]:
        error = result.error or f"HTTP {result.status}"
        if result.retryable:
            error = f"gave up after {attempts} attempts: {error}"
        return [
            ItemResult(seq, ItemStatus.FAILED, result.status, result.body, error, attempts)
            for seq in planned.seqs
        ]

    def _record(self, results: list[ItemResult]) -> None:
        self.runs.record(self._run_id, results)
        for result in results:
            if result.status is not ItemStatus.PENDING:
                self._counts[ItemStatus.PENDING] -= 1
                self._counts[result.status] += 1
        if self.on_results is not None:
            self.on_results(results)
        if self.on_progress is not None:
            self.on_progress(self.progress())

    def progress(self) -> ReplayProgress:
        """Current counts."""
        counts = self._counts
        return ReplayProgress(
            run_id=self._run_id, total=self._total, sent=counts.get(ItemStatus.SENT, 0),
            failed=counts.get(ItemStatus.FAILED, 0), dropped=counts.get(ItemStatus.DROPPED, 0),
            held=counts.get(ItemStatus.HELD, 0), pending=counts.get(ItemStatus.PENDING, 0),
            requests=self._requests, retries=self._retries,
            elapsed=time.monotonic() - self._started, paused=self.control.paused,
        )
