"""Pass-through: send each captured request on to a real upstream (``--forward URL``).

What users can rely on:

* **Durable.** A request's :class:`~inspector.core.store.forward_queue.ForwardJob` is written
  in the same SQLite transaction as the request, before the client gets its ``200``; the
  forwarder sends from that table, so an upstream outage, a crash or a restart loses nothing:
  the next run carries on where this one stopped (at least once: a request in flight when the
  process died is sent again; Segment drops repeats by ``messageId``).
* **In order per write key.** Each write key (a *lane*) has one request in flight at a time, in
  the order captured; lanes run side by side. A lane waits while its oldest request is being
  retried, so nothing overtakes it.
* **Retried when the upstream did not take it:** connection errors, timeouts, 5xx and 429, with
  exponential backoff (:attr:`Forwarder.backoff_base` doubling up to
  :attr:`Forwarder.backoff_cap`), or after ``Retry-After`` (seconds or an HTTP date, at most
  :data:`MAX_RETRY_AFTER`) when the answer gives one. Any other answer settles the request:
  2xx ``delivered``, anything else (4xx but 429, 3xx) ``failed``, with the answer recorded.
* **Bounded.** At most ``max_queued`` requests (and ``max_queued_bytes`` of bodies) wait. A
  request captured while the queue is full is not queued: it is recorded ``failed`` ("forward
  queue full") at once, so what is queued keeps its order; this is logged once each time the
  queue fills.
* **Byte for byte.** The method, path and query, and body exactly as received (a pixel ``GET``
  stays a ``GET`` without a body; a gzip body stays gzip), every header as received in its
  order (``Origin``, custom headers, ``Accept-Encoding``...) except ``Host``,
  ``Content-Length`` (recomputed from the same bytes) and the hop-by-hop ones, plus
  ``X-Forwarded-For`` with the client's address appended. httpx adds nothing of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC
from typing import TYPE_CHECKING

import httpx

from inspector.core.store.forward_queue import (
    ForwardAttempt,
    ForwardJob,
    ForwardState,
    QueuedForward,
)

if TYPE_CHECKING:
    from inspector.core.store import EventStore, PendingRequest

__all__ = ["MAX_RETRY_AFTER", "Forwarder", "forwarded_headers", "retry_after_seconds"]

log = logging.getLogger(__name__)

#: Headers that belong to one connection, not to the request (RFC 9110 section 7.6.1), plus the
#: two the outgoing connection sets itself.
_NOT_FORWARDED = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length",
})
#: A ``Retry-After`` longer than this is taken as this (seconds).
MAX_RETRY_AFTER = 600.0
#: Queued rows read from the database per lane at a time.
_BATCH = 64
#: How long :meth:`Forwarder.close` lets requests in flight finish before cancelling them.
_CLOSE_GRACE = 3.0


def forwarded_headers(raw_headers: Iterable[tuple[bytes, bytes]],
                      remote_addr: str | None) -> list[tuple[str, str]]:
    """The headers to send upstream: as received (names and values byte for byte, as Latin-1
    text, in order), less hop-by-hop ones and those the ``Connection`` header names, with the
    client's address appended to ``X-Forwarded-For``."""
    pairs = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw_headers]
    dropped = set(_NOT_FORWARDED)
    for name, value in pairs:
        if name.lower() == "connection":
            dropped.update(token.strip().lower() for token in value.split(",") if token.strip())
    kept: list[tuple[str, str]] = []
    chain: list[str] = []
    position: int | None = None
    for name, value in pairs:
        lowered = name.lower()
        if lowered in dropped:
            continue
        if lowered == "x-forwarded-for":
            position = len(kept) if position is None else position
            chain.append(value)
            continue
        kept.append((name, value))
    if remote_addr:
        chain.append(remote_addr)
    if chain:
        kept.insert(len(kept) if position is None else position,
                    ("X-Forwarded-For", ", ".join(chain)))
    return kept


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds from ``now`` (delay-seconds or an HTTP date), at most
    :data:`MAX_RETRY_AFTER`; ``None`` when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:  # an HTTP date is always GMT
            moment = moment.replace(tzinfo=UTC)
        seconds = moment.timestamp() - now
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class Forwarder:
    """Sends the durable queue's requests to ``upstream``, lane by lane, and settles them."""

    def __init__(self, upstream: str, store: EventStore, *, timeout: float = 15.0,
                 max_queued: int = 50_000, max_queued_bytes: int = 256 * 1024 * 1024) -> None:
        self.upstream = upstream.rstrip("/")
        self._store = store
        self._queue = store.forward_queue
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None
        self.max_queued = max_queued
        self.max_queued_bytes = max_queued_bytes
        #: First retry after this many seconds, doubling per attempt up to ``backoff_cap``.
        self.backoff_base = 1.0
        self.backoff_cap = 60.0
        #: Requests per state in the whole database, kept current by this forwarder.
        self.counts: dict[str, int] = {"queued": 0, "delivered": 0, "failed": 0}
        self._queued_bytes = 0
        #: Requests that were queued when this forwarder started (from an earlier run).
        self.resumed = 0
        self._full = False
        self._lanes: dict[str, asyncio.Event] = {}
        self._lane_tasks: dict[str, asyncio.Task[None]] = {}
        self._closing = asyncio.Event()
        self._unwritten: list[ForwardAttempt] = []
        self._flushing: asyncio.Task[None] | None = None
        #: Called on the loop once each attempt's outcome is written to the store.
        self.listeners: list[Callable[[ForwardAttempt], None]] = []

    # ---- lifecycle

    async def start(self) -> None:
        """Read what is queued from earlier runs and start sending it."""
        client = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)
        # httpx would add Accept, Accept-Encoding, Connection and User-Agent of its own: a
        # forwarded request carries the client's headers only.
        for name in list(client.headers.keys()):
            del client.headers[name]
        self._client = client
        self.counts = await asyncio.to_thread(self._queue.counts)
        self.resumed, self._queued_bytes = await asyncio.to_thread(self._queue.queued_totals)
        for lane in await asyncio.to_thread(self._queue.lanes):
            self.notify(lane)

    async def close(self) -> None:
        """Stop sending: let requests in flight finish briefly (the rest stay queued for the
        next run), write every outcome, close the client."""
        self._closing.set()
        for event in self._lanes.values():
            event.set()
        tasks = list(self._lane_tasks.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=_CLOSE_GRACE)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._flushing is not None:
            await self._flushing  # one write at a time: a row's outcomes land in order
        await self._flush()
        if self._client is not None:
            await self._client.aclose()

    def describe(self) -> dict[str, object]:
        """Where requests go and how many are in each state (for ``health``)."""
        return {"upstream": self.upstream, **self.counts, "queue_limit": self.max_queued}

    # ---- capture side

    def job_for(self, method: str, target: str, raw_headers: Iterable[tuple[bytes, bytes]],
                body: bytes, remote_addr: str | None, write_key: str | None, *,
                cut_at: int | None = None) -> ForwardJob:
        """The queue row for a request just captured (called before it is committed).

        ``cut_at``: only a prefix of the body was kept (it was longer than this), so it cannot
        be forwarded: the row is ``failed`` at once. So is a request met with a full queue.
        """
        job = ForwardJob(lane=write_key or "", method=method, target=target,
                         headers=forwarded_headers(raw_headers, remote_addr), body=body)
        if cut_at is not None:
            job.state, job.error = "failed", (
                f"not forwarded: the body was longer than {cut_at:,} bytes, so only a prefix "
                "was kept")
        elif (self.counts["queued"] >= self.max_queued
              or self._queued_bytes + len(body) > self.max_queued_bytes):
            job.state, job.error = "failed", (
                f"not forwarded: the forward queue is full ({self.counts['queued']:,} requests, "
                f"{self._queued_bytes / 1e6:,.1f} MB waiting for {self.upstream})")
            if not self._full:
                self._full = True
                log.error("the forward queue is full (%d requests); new requests are recorded "
                          "as failed, not forwarded, until it drains", self.counts["queued"])
        self._count(job, +1)
        return job

    def committed(self, request: PendingRequest) -> None:
        """``request`` (with its job) is committed: wake its lane."""
        if request.forward is not None and request.forward.state == "queued":
            self.notify(request.forward.lane)

    def not_committed(self, request: PendingRequest) -> None:
        """``request`` could not be stored (its client retries): forget its job."""
        if request.forward is not None:
            self._count(request.forward, -1)

    def _count(self, job: ForwardJob, sign: int) -> None:
        self.counts[job.state] += sign
        if job.state == "queued":
            self._queued_bytes += sign * len(job.body)

    # ---- lanes

    def notify(self, lane: str) -> None:
        """There is (or may be) queued work in ``lane``."""
        if self._closing.is_set():
            return
        event = self._lanes.get(lane)
        if event is None:
            event = self._lanes[lane] = asyncio.Event()
            self._lane_tasks[lane] = asyncio.get_running_loop().create_task(
                self._run_lane(lane, event), name=f"forward lane {lane!r}")
        event.set()

    async def _run_lane(self, lane: str, wake: asyncio.Event) -> None:
        after_id = 0
        try:
            while not self._closing.is_set():
                wake.clear()
                batch = await asyncio.to_thread(self._queue.next_batch, lane, after_id, _BATCH)
                if not batch:
                    await wake.wait()
                    continue
                for row in batch:
                    if not await self._deliver(row):
                        return  # closing: the row stays queued for the next run
                    after_id = row.id
        except Exception:
            # Unexpected (a database error): the rows stay queued; the next run resumes them.
            log.exception("forwarding lane %r stopped", lane)

    async def _deliver(self, row: QueuedForward) -> bool:
        """Send ``row`` until it settles; ``False`` if closing first."""
        attempts, due = row.attempts, row.next_attempt_at
        while True:
            wait = due - time.time()
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), wait)
            if self._closing.is_set():
                return False
            attempts += 1
            status, error, retry_after = await self._send(row)
            if status is not None and 200 <= status < 300:
                self._record(row, "delivered", attempts, status, None)
                return True
            if status is not None and status != 429 and status < 500:
                self._record(row, "failed", attempts, status, error)
                return True
            delay = retry_after if retry_after is not None else min(
                self.backoff_cap, self.backoff_base * 2 ** (attempts - 1))
            due = time.time() + delay
            log.warning("forwarding request %s to %s: %s; attempt %d, retrying in %.1f s",
                        row.request_id, self.upstream, error, attempts, delay)
            self._record(row, "queued", attempts, status, error, due)

    async def _send(self, row: QueuedForward) -> tuple[int | None, str | None, float | None]:
        """One attempt: the status (``None``: no answer), an error text, ``Retry-After``."""
        assert self._client is not None
        headers = [(name.encode("latin-1"), value.encode("latin-1"))
                   for name, value in row.headers]
        try:
            response = await self._client.request(
                row.method, self.upstream + row.target, headers=headers,
                content=row.body if row.body or row.method not in ("GET", "HEAD") else None)
        except httpx.TransportError as failure:
            return None, f"{type(failure).__name__}: {failure or 'no answer'}", None
        status = response.status_code
        if 200 <= status < 300:
            return status, None, None
        error = f"HTTP {status}: {response.text[:500]}"
        return status, error, retry_after_seconds(response.headers.get("Retry-After"),
                                                  time.time())

    def _record(self, row: QueuedForward, state: ForwardState, attempts: int,
                status: int | None, error: str | None, next_attempt_at: float = 0.0) -> None:
        if state != "queued":
            self.counts["queued"] -= 1
            self.counts[state] += 1
            self._queued_bytes -= len(row.body)
            if self._full and self.counts["queued"] < self.max_queued * 0.9:
                self._full = False
                log.warning("the forward queue has room again (%d requests waiting)",
                            self.counts["queued"])
        self._unwritten.append(ForwardAttempt(row.id, row.request_id, state, attempts, status,
                                              error, next_attempt_at))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        """Write every recorded outcome (those recorded meanwhile go in the next write)."""
        while self._unwritten:
            attempts, self._unwritten = self._unwritten, []
            try:
                await asyncio.to_thread(self._queue.settle, attempts)
            except Exception:
                # Not written: the rows stay as they were and are sent again next run.
                log.exception("could not record %d forward outcomes", len(attempts))
                continue
            for attempt in attempts:
                for listener in list(self.listeners):
                    listener(attempt)
