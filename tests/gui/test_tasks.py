"""The window's TaskRunner: results always come back through the event loop."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import pytest

from inspector.gui.tasks import TaskRunner


class _DonePool:
    """A pool whose tasks are finished before anyone can attach a callback (a fast task on a
    loaded machine)."""

    def submit(self, fn: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(fn())
        return future

    def shutdown(self, **kwargs: Any) -> None:
        return None


def test_a_task_finished_at_once_still_reports_after_submit_returns(
    qtbot: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    runner = TaskRunner()
    runner._pool = _DonePool()  # type: ignore[assignment]
    seen: list[str] = []
    runner.submit(lambda: 42, lambda value: seen.append(f"done {value}"))
    seen.append("submit returned")
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=2000)
    assert seen == ["submit returned", "done 42"]
    assert not runner.busy
    runner.shutdown()
