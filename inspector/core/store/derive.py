"""The derived structures' workers, run in a process of their own beside the capture process.

The secondary-index builder, the search indexer, the comparison-profile builder and the
summary counter (:class:`~.background.CatchUpWorker`\\ s) used to run as threads of the capture
process. There they shared its GIL with the event loop, the writer and the threads answering
the REST API: in a soak at 2,000 events/s the search indexer alone needed ~0.4 of a core
(~200 µs per event) and the whole process stayed at about one core, so whatever it took,
capture and ``q`` lost. In a child process they have an interpreter of their own
(bench/soak.py ``--threads`` shows the split; docs/benchmarks.md).

Nothing depends on the child for correctness: reads union what it has done with the tail it
has not reached, and its watermarks are in SQLite, committed with the rows they describe. So
a crash loses nothing: the parent logs it and starts another child, which carries on from the
watermarks.

The two processes talk over the child's standard streams, which is all a frozen (PyInstaller)
build can offer too:

* parent -> child, stdin: one byte per commit (new events); end of file means "stop after the
  current batch". The pipe closes when the parent dies, however it dies, so the child never
  outlives it.
* child -> parent, stdout: ``<worker> <id>`` per batch, the id the worker has reached (what
  :meth:`RemoteProgress.wait_until_indexed` waits on).

Commits take turns at SQLite's write lock across the two processes through an ``flock`` on
``<database>-turn`` (:class:`~.background.WriteTurn`): SQLite's own busy handler, tried first,
sleeps while it waits and stalled capture (request latency p50 4 ms -> 137 ms, max 2.3 s).

``INSPECTOR_BACKGROUND=thread`` keeps the workers on threads of the writer's process (the
test suite's default, where a process per writer would cost more than it saves).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Literal, Protocol

from inspector.core.own_command import own_command
from inspector.core.store.background import CROSS_PROCESS_TURNS, CatchUpWorker, WriteTurn, turn_path
from inspector.core.store.counts import SummaryCounter
from inspector.core.store.indexing import IndexBuilder
from inspector.core.store.search import SearchIndexer

__all__ = [
    "BACKGROUND_ENV",
    "COMMAND",
    "DeriveProcess",
    "IndexProgress",
    "RemoteProgress",
    "WorkerThreads",
    "background_mode",
    "derive_command",
    "derived_workers",
    "main",
]

log = logging.getLogger(__name__)

#: The environment variable choosing where the workers run: ``process`` (default) or ``thread``.
BACKGROUND_ENV = "INSPECTOR_BACKGROUND"
#: The (unlisted) ``inspector`` subcommand that runs the child.
COMMAND = "_derive"

BackgroundMode = Literal["process", "thread"]

#: The most of a busy capture's time a worker's batches may take, far behind, in the child.
OWN_PROCESS_MAX_BUSY_SHARE = 0.9


def background_mode(mode: str | None = None) -> BackgroundMode:
    """``mode``, or ``$INSPECTOR_BACKGROUND``, or ``process``; an unknown value is logged and
    taken as ``process``. Where processes cannot take turns at writing (no ``flock``: Windows),
    always ``thread``."""
    value = (os.environ.get(BACKGROUND_ENV) or "process") if mode is None else mode
    if value == "thread" or not CROSS_PROCESS_TURNS:
        return "thread"
    if value != "process":
        log.warning("%s=%r is not 'process' or 'thread': using 'process'", BACKGROUND_ENV, value)
    return "process"


def derived_workers(
    path: Path, *, write_turn: WriteTurn, search_index: bool
) -> dict[str, CatchUpWorker]:
    """The workers that keep the derived structures up to date, by the name they report as."""
    # Imported here: the comparisons package imports the store.
    from inspector.core.compare.stored import ProfileBuilder

    workers: dict[str, CatchUpWorker] = {"index": IndexBuilder(path, write_turn=write_turn),
                                         "profile": ProfileBuilder(path, write_turn=write_turn),
                                         "summary": SummaryCounter(path, write_turn=write_turn)}
    if search_index:
        workers["search"] = SearchIndexer(path, write_turn=write_turn)
    return workers


class IndexProgress(Protocol):
    """How far one worker has got, wherever it runs."""

    def wait_until_indexed(self, event_id: int, timeout: float) -> bool:
        """Block until every event up to ``event_id`` is done; ``False`` on timeout."""
        ...


class WorkerThreads:
    """The workers on threads of this process (``INSPECTOR_BACKGROUND=thread``)."""

    def __init__(self, workers: dict[str, CatchUpWorker]) -> None:
        self.progress: dict[str, CatchUpWorker] = workers

    def start(self) -> None:
        """Start every worker; each first catches up with what is waiting."""
        for worker in self.progress.values():
            worker.start()

    def nudge(self) -> None:
        """New events were committed."""
        for worker in self.progress.values():
            worker.nudge()

    def stop(self) -> None:
        """Stop every worker after its current batch."""
        for worker in self.progress.values():
            worker.stop()


class RemoteProgress:
    """How far a worker in the child has got, as the child reports it."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._upto = 0
        self._closed = False

    @property
    def upto(self) -> int:
        """The id last reported."""
        return self._upto

    def advance(self, upto: int) -> None:
        """The child reported ``upto``."""
        with self._condition:
            self._upto = upto
            self._condition.notify_all()

    def close(self) -> None:
        """No more reports will come (stopped, or given up on the child)."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    def wait_until_indexed(self, event_id: int, timeout: float) -> bool:
        """Block until the child reports ``event_id`` done; ``False`` on timeout or once
        closed."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while self._upto < event_id:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    return False
                self._condition.wait(remaining)
            return True


def derive_command(path: Path, *, search_index: bool) -> list[str]:
    """How to run the child: ``python -m inspector _derive DB``, or the frozen build's own
    executable with ``_derive DB`` (:func:`~inspector.core.own_command.own_command`)."""
    return [*own_command(COMMAND), str(path), *([] if search_index else ["--no-search-index"])]


class DeriveProcess:
    """Owns the child running the workers: starts it, nudges it, restarts it, stops it.

    A child that exits unasked is logged and replaced; after ``MAX_QUICK_EXITS`` in a row that
    each lived less than ``QUICK_EXIT_SECONDS``, it is given up on (logged as an error): reads
    stay exact without it, only slower.
    """

    #: Seconds the child may take to finish its batch once asked to stop, before it is killed.
    STOP_TIMEOUT = 15.0
    QUICK_EXIT_SECONDS = 5.0
    MAX_QUICK_EXITS = 5

    def __init__(self, path: Path, *, search_index: bool) -> None:
        self._command = derive_command(path, search_index=search_index)
        self.progress: dict[str, RemoteProgress] = {
            "index": RemoteProgress(), "profile": RemoteProgress(), "summary": RemoteProgress()}
        if search_index:
            self.progress["search"] = RemoteProgress()
        #: Guards the child and its stdin: the writer nudges while the watcher may replace it.
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._nudge_fd: int | None = None
        self._stopping = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="inspector-derive-watch",
                                         daemon=True)
        #: Children started after the first (each replaced one that exited unasked).
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        """The current child's process id."""
        process = self._process
        return process.pid if process is not None else None

    def start(self) -> None:
        """Start the child (it first catches up with what is waiting) and watch it."""
        self._spawn()
        self._watcher.start()

    def nudge(self) -> None:
        """New events were committed: one byte down the child's stdin. A full pipe already
        holds nudges the child has not read; a closed one belongs to a child being replaced."""
        with self._lock:
            if self._nudge_fd is None:
                return
            with contextlib.suppress(BlockingIOError, BrokenPipeError):
                os.write(self._nudge_fd, b"\n")

    def stop(self) -> None:
        """Ask the child to stop after its current batch (closing its stdin); kill it if it
        takes longer than ``STOP_TIMEOUT``."""
        with self._lock:
            self._stopping.set()
            process = self._process
            self._close_stdin()
        if process is not None:
            try:
                process.wait(timeout=self.STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                log.warning("background indexing process %d did not stop: killing it",
                            process.pid)
                process.kill()
                process.wait()
        if self._watcher.is_alive():
            self._watcher.join()
        for progress in self.progress.values():
            progress.close()

    def _spawn(self) -> bool:
        with self._lock:
            if self._stopping.is_set():
                return False
            process = subprocess.Popen(self._command, stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, close_fds=True)
            assert process.stdin is not None
            self._nudge_fd = process.stdin.fileno()
            # Never block a commit on a child that is slow to read its nudges.
            os.set_blocking(self._nudge_fd, False)
            self._process = process
            return True

    def _close_stdin(self) -> None:
        """Close the current child's stdin (under ``_lock``): it then stops."""
        process = self._process
        self._nudge_fd = None
        if process is not None and process.stdin is not None and not process.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                process.stdin.close()

    def _watch(self) -> None:
        quick_exits = 0
        while True:
            process = self._process
            assert process is not None
            assert process.stdout is not None
            started = time.monotonic()
            self._follow(process.stdout)
            code = process.wait()
            process.stdout.close()
            with self._lock:
                if self._stopping.is_set():
                    return
                self._close_stdin()
            lived = time.monotonic() - started
            quick_exits = quick_exits + 1 if lived < self.QUICK_EXIT_SECONDS else 0
            if quick_exits >= self.MAX_QUICK_EXITS:
                log.error("background indexing process exited %d times in a row (last exit "
                          "code %s): giving up; searches and filters stay exact, only slower",
                          quick_exits, code)
                for progress in self.progress.values():
                    progress.close()
                return
            log.warning("background indexing process %d exited (code %s): starting another, "
                        "which carries on where it stopped", process.pid, code)
            # A child that keeps failing at once is retried less and less often.
            if self._stopping.wait(0.2 * quick_exits):
                return
            if not self._spawn():
                return
            self.restarts += 1

    def _follow(self, stdout: IO[bytes]) -> None:
        """Read the child's progress lines until it closes its stdout."""
        for line in stdout:
            name, _, upto = line.decode("ascii", "replace").partition(" ")
            progress = self.progress.get(name)
            if progress is not None and upto.strip().isdigit():
                progress.advance(int(upto))


# ---- the child


def main(argv: Sequence[str]) -> int:
    """The child: run the workers on ``DB`` until stdin closes."""
    parser = argparse.ArgumentParser(prog=f"inspector {COMMAND}",
                                     description="inspector's background indexing process")
    parser.add_argument("db", type=Path)
    parser.add_argument("--no-search-index", action="store_true")
    args = parser.parse_args(argv)
    # The parent decides when this ends (by closing stdin); a Ctrl-C in its terminal reaches
    # the whole process group and must not cut the child short of a clean stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING,
                        format="inspector background indexing: %(levelname)s %(message)s")
    turn = WriteTurn(turn_path(args.db))
    workers = derived_workers(args.db, write_turn=turn, search_index=not args.no_search_index)
    report_lock = threading.Lock()
    out = sys.stdout.buffer

    def reporter(name: str) -> Callable[[int], None]:
        def report(upto: int) -> None:
            with report_lock:
                try:
                    out.write(f"{name} {upto}\n".encode("ascii"))
                    out.flush()
                except (BrokenPipeError, ValueError):
                    pass  # the parent is gone: stdin closes too, and the child stops

        return report

    for name, worker in workers.items():
        worker.on_progress = reporter(name)
        # Here no GIL is shared with capture, only the write lock, which the writer needs for
        # a few per cent of the time: falling behind, batches may take more of it than on
        # threads beside capture. Measured (bench/soak.py, 60 s at 2,000 events/s, back to
        # back, load average 6): 0.9 vs 0.7, lag p50 7.6 vs 12.7 s, max 22 vs 35 s, catch-up
        # 24 vs 38 s, request latency the same (p50 0.19 s).
        # (Not the profile builder's: comparisons need it least, and it would take turns
        # from the search index.)
        if name in ("index", "search"):
            worker.MAX_BUSY_SHARE = OWN_PROCESS_MAX_BUSY_SHARE
    threads = WorkerThreads(workers)
    threads.start()
    try:
        while os.read(0, 65536):
            threads.nudge()
    finally:
        threads.stop()
        turn.close()
    return 0
