"""The catch-up workers in their own process: started and stopped with the writer, replaced
after a crash with nothing lost, never outliving ``inspector serve``."""

from __future__ import annotations

import json
import logging
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from inspector.core.store import EventQuery, EventStore, GroupCommitWriter
from inspector.core.store.derive import DeriveProcess, background_mode
from inspector.core.store.search import indexed_upto
from tests.core.test_search import PAYLOADS, _json, _request, _scan, _search
from tests.core.test_search import store as store  # the fixture

ROOT = Path(__file__).resolve().parents[2]

linux_only = pytest.mark.skipif(not hasattr(os, "pidfd_open"),
                                reason="waits for another process's exit with a pidfd (Linux)")


def _exited(pid: int, timeout: float) -> bool:
    """Whether process ``pid`` (not a child of ours) has exited, waiting up to ``timeout``:
    a pidfd becomes readable when the process ends."""
    try:
        descriptor = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        # poll, not select: select cannot watch a descriptor numbered above 1023.
        poller = select.poll()
        poller.register(descriptor, select.POLLIN)
        return bool(poller.poll(timeout * 1000))
    finally:
        os.close(descriptor)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        found.extend(int(child) for child in (task / "children").read_text().split())
    return found


@pytest.fixture
def writer(store: EventStore) -> Iterator[GroupCommitWriter]:
    started = GroupCommitWriter(store.path, background="process")
    started.start()
    yield started
    started.stop()


def _child(writer: GroupCommitWriter) -> DeriveProcess:
    assert isinstance(writer.background, DeriveProcess)
    return writer.background


def _write_and_wait(writer: GroupCommitWriter, session: int) -> int:
    _, committed = writer.write(_request(session, [_json(p) for p in PAYLOADS]))
    last = committed[-1].id
    assert writer.indexer is not None
    assert writer.indexer.wait_until_indexed(last, timeout=60)
    assert writer.index_builder.wait_until_indexed(last, timeout=60)
    assert writer.profile_builder.wait_until_indexed(last, timeout=60)
    return last


def test_the_child_indexes_beside_the_writer_and_stops_with_it(
    store: EventStore, db_path: Path
) -> None:
    writer = GroupCommitWriter(db_path, background="process")
    writer.start()
    try:
        child = _child(writer)
        pid = child.pid
        assert pid is not None
        assert pid != os.getpid()
        session = store.create_session("child").id
        last = _write_and_wait(writer, session)
        assert indexed_upto(store._reader()) >= last
        assert store.count_events(EventQuery(session_id=session)) == len(PAYLOADS)
        assert _search(store, "user_84", session) == _scan(store, "user_84", session) != []
    finally:
        writer.stop()
    assert child._process is not None
    assert child._process.returncode == 0  # stopped when asked, not killed


def test_a_killed_child_is_replaced_and_nothing_is_lost(
    store: EventStore, writer: GroupCommitWriter, caplog: pytest.LogCaptureFixture
) -> None:
    child = _child(writer)
    session = store.create_session("crash").id
    _write_and_wait(writer, session)
    first = child.pid
    assert first is not None
    with caplog.at_level(logging.WARNING, logger="inspector.core.store.derive"):
        os.kill(first, signal.SIGKILL)
        # Events committed after the crash are indexed by the child that replaces it.
        last = _write_and_wait(writer, session)
    assert child.pid != first
    assert child.restarts == 1
    assert any("exited" in record.getMessage() for record in caplog.records)
    assert indexed_upto(store._reader()) >= last
    for q in ("user_84", "mug-11", "ü", "zz"):
        assert _search(store, q, session) == _scan(store, q, session)
    assert len(_scan(store, "user_84", session)) == 4  # both writes, each found once


def test_a_child_that_cannot_start_is_given_up_on(
    db_path: Path, store: EventStore, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A child exiting at once, again and again (here: the interpreter refuses its command
    line), is retried a few times, then left alone, logged: capture and reads go on."""
    writer = GroupCommitWriter(db_path, background="process")
    child = _child(writer)
    monkeypatch.setattr(child, "_command", [sys.executable, "-c", "raise SystemExit(3)"])
    monkeypatch.setattr(DeriveProcess, "MAX_QUICK_EXITS", 2)
    with caplog.at_level(logging.WARNING, logger="inspector.core.store.derive"):
        writer.start()
        try:
            session = store.create_session("plain").id
            _, committed = writer.write(_request(session, [_json(p) for p in PAYLOADS]))
            assert writer.indexer is not None
            # False once given up on (closed), rather than after the timeout.
            assert not writer.indexer.wait_until_indexed(committed[-1].id, timeout=120)
        finally:
            writer.stop()
    assert any("giving up" in record.getMessage() for record in caplog.records)
    assert _search(store, "user_84", session) == _scan(store, "user_84", session) != []


def test_the_background_mode_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("INSPECTOR_BACKGROUND", "thread")
    assert background_mode() == "thread"
    monkeypatch.setenv("INSPECTOR_BACKGROUND", "process")
    assert background_mode() == "process"
    monkeypatch.delenv("INSPECTOR_BACKGROUND")
    assert background_mode() == "process"
    monkeypatch.setenv("INSPECTOR_BACKGROUND", "fork")
    with caplog.at_level(logging.WARNING):
        assert background_mode() == "process"
    assert "INSPECTOR_BACKGROUND='fork'" in caplog.text


def _start_serve(db: Path) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "INSPECTOR_BACKGROUND": "process"}
    serve = subprocess.Popen(
        [sys.executable, "-m", "inspector", "serve", "--port", "0", "--db", str(db),
         "--quiet", "--ready-json", "--session", "orphans"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert serve.stdout is not None
    ready = json.loads(serve.stdout.readline())
    return serve, str(ready["url"])


@linux_only
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL])
def test_serve_leaves_no_background_process_behind(
    db_path: Path, stop_signal: signal.Signals
) -> None:
    serve, url = _start_serve(db_path)
    try:
        children = _children(serve.pid)
        assert len(children) == 1  # the background indexing process
        [child] = children
        assert "_derive" in Path(f"/proc/{child}/cmdline").read_text()
        sent = httpx.post(f"{url}/v1/track", json={
            "type": "track", "event": "Orphan Check", "userId": "u-1", "writeKey": "k"})
        assert sent.status_code == 200
        health = httpx.get(f"{url}/inspector/api/health").json()
        assert health["search_index"]["enabled"] is True
        serve.send_signal(stop_signal)
        serve.wait(timeout=60)
        # SIGTERM: serve stops the child before it exits. SIGKILL: the child sees its stdin
        # close and stops by itself.
        assert _exited(child, timeout=60)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
        for stream in (serve.stdout, serve.stderr):
            if stream is not None:
                stream.close()
    if stop_signal == signal.SIGTERM:
        assert serve.returncode == 0
    store = EventStore(db_path)
    try:
        assert store.count_events(EventQuery()) == 1  # acknowledged, so stored
    finally:
        store.close()
