"""Reloading a plan file when it changes on disk, without Qt.

The watcher polls (mtime, size) and confirms a change with a SHA-256 of the content, so editors
that rewrite an identical file, or touch it, cause no reload. A new version that fails to load
keeps the old plan and is reported once through ``on_error``; the next good save recovers.

Usage from asyncio (the callback typically swaps the validator and re-validates the session)::

    watcher = PlanWatcher(path, on_change=use_plan, on_error=show_error, plan=current)
    watcher.start()        # a task on the running loop, polling every `interval` seconds
    ...
    await watcher.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from inspector.core.plan.compile import CompiledPlan
from inspector.core.plan.errors import PlanError
from inspector.core.plan.reading import plan_from_bytes, read_plan_file

__all__ = ["PlanWatcher"]


class PlanWatcher:
    """Polls one plan file and calls ``on_change`` with each new plan that loads."""

    def __init__(
        self,
        path: str | Path,
        on_change: Callable[[CompiledPlan], None],
        *,
        on_error: Callable[[PlanError], None] | None = None,
        interval: float = 1.0,
        plan: CompiledPlan | None = None,
    ) -> None:
        self.path = Path(path)
        self.on_change = on_change
        self.on_error = on_error
        self.interval = interval
        self.plan = plan
        self.error: PlanError | None = None
        self._task: asyncio.Task[None] | None = None
        self._stat = self._signature()
        self._digest = self._hash() if self._stat is not None else None

    def check(self) -> CompiledPlan | None:
        """Poll once; returns the new plan when one was loaded (also passed to on_change)."""
        return self._notify(self._poll())

    def _poll(self) -> CompiledPlan | PlanError | None:
        signature = self._signature()
        if signature == self._stat:
            return None
        self._stat = signature
        if signature is None:
            return PlanError("plan file disappeared; keeping the loaded plan", file=str(self.path))
        try:
            raw = read_plan_file(self.path)  # regular files only, bounded: never blocks
        except PlanError as error:
            return error
        digest = hashlib.sha256(raw).hexdigest()
        if digest == self._digest:
            return None
        self._digest = digest
        try:
            return plan_from_bytes(raw, str(self.path))
        except PlanError as error:
            return error

    def _notify(self, result: CompiledPlan | PlanError | None) -> CompiledPlan | None:
        if isinstance(result, PlanError):
            self.error = result
            if self.on_error is not None:
                self.on_error(result)
            return None
        if result is not None:
            self.plan = result
            self.error = None
            self.on_change(result)
        return result

    def start(self) -> asyncio.Task[None]:
        """Start polling on the running event loop."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.run())
        return self._task

    async def stop(self) -> None:
        """Stop polling and wait for the task to finish."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        """Poll until cancelled.

        Reading and compiling run in a thread so a big plan does not stall the loop; the
        callbacks run on the loop, where the caller's state lives.
        """
        while True:
            await asyncio.sleep(self.interval)
            self._notify(await asyncio.to_thread(self._poll))

    def _signature(self) -> tuple[int, int] | None:
        try:
            stat = os.stat(self.path)
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def _hash(self) -> str | None:
        try:
            return hashlib.sha256(read_plan_file(self.path)).hexdigest()
        except PlanError:
            return None
