"""``inspector serve`` as a CI pipeline runs it: a real process, real signals, real ports."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.processes import start_serve
from tests.support.segment_calls import track


def test_prints_a_line_per_event_and_exits_cleanly_on_sigterm(db_path: Path) -> None:
    process, base_url = start_serve(db_path, "--session", "ci run", "--name-key",
                                    "web-key=staging web")
    try:
        response = httpx.post(f"{base_url}/v1/batch", json={
            "writeKey": "web-key",
            "batch": [track("Order Completed", user_id="user-9"),
                      {"type": "page", "anonymousId": "anon-3", "name": "Checkout"},
                      {"type": "track", "userId": "user-9"}],
        })
        assert response.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0
    lines = [line for line in out.splitlines() if "#" in line]
    assert len(lines) == 3
    assert "track" in lines[0]
    assert "Order Completed" in lines[0]
    assert "userId=user-9" in lines[0]
    assert "not_validated" in lines[0]
    assert "[staging web]" in lines[0]
    assert "page" in lines[1]
    assert "Checkout" in lines[1]
    assert "anonymousId=anon-3" in lines[1]
    assert "malformed (1 violation)" in lines[2]
    assert "stopped" in err


def test_sigint_also_exits_cleanly(db_path: Path) -> None:
    process, _ = start_serve(db_path, "--quiet")
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=20)
    assert process.returncode == 0


def test_port_in_use_is_one_line_and_exit_code_2(db_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "inspector", "serve", "--port", str(port), "--db",
             str(db_path)],
            capture_output=True, text=True, timeout=30,
        )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"inspector: port {port} on 127.0.0.1 is already in use; stop the other program or "
        "choose another port with --port"
    ]


def test_bad_name_key_is_a_usage_error(db_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "inspector", "serve", "--db", str(db_path), "--name-key", "oops"],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2
    assert "--name-key expects KEY=NAME" in result.stderr


def test_unreadable_plan_is_one_line_and_exit_code_2(db_path: Path, tmp_path: Path) -> None:
    broken = tmp_path / "plan.json"
    broken.write_text('{"rules": [\n  {"type": "TRACK",, }\n]}')
    result = subprocess.run(
        [sys.executable, "-m", "inspector", "serve", "--port", "0", "--db", str(db_path),
         "--plan", str(broken)],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"inspector: {broken}:2:")


def _start_machine_readable(db_path: Path) -> tuple[subprocess.Popen[str], dict[str, object]]:
    import json
    import os

    process = subprocess.Popen(
        [sys.executable, "-m", "inspector", "serve", "--port", "0", "--db", str(db_path),
         "--session", "child", "--quiet", "--ready-json", "--exit-with-stdin"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    return process, json.loads(process.stdout.readline())


def test_ready_json_line_then_exits_when_stdin_closes(db_path: Path) -> None:
    process, ready = _start_machine_readable(db_path)
    try:
        assert str(ready["url"]).startswith("http://127.0.0.1:")
        assert ready["port"] == int(str(ready["url"]).rsplit(":", 1)[1])
        assert ready["database"] == str(db_path)
        assert ready["pid"] == process.pid
        session = ready["session"]
        assert isinstance(session, dict)
        assert session["name"] == "child"
        health = httpx.get(f"{ready['url']}/inspector/api/health").json()
        assert health["session"]["id"] == session["id"]
    finally:
        assert process.stdin is not None
        process.stdin.close()  # what the OS does when the window exits, however it exits
        process.wait(timeout=20)
    assert process.returncode == 0
    assert process.stderr is not None
    assert "stopped" in process.stderr.read()


def test_sigterm_with_stdin_still_open_exits_cleanly(db_path: Path) -> None:
    """How the window stops its child: SIGTERM while the stdin watcher is still reading."""
    process, ready = _start_machine_readable(db_path)
    assert httpx.get(f"{ready['url']}/inspector/api/health").status_code == 200
    process.terminate()
    process.wait(timeout=20)  # stdin stays open (communicate() would close it first)
    assert process.stderr is not None
    err = process.stderr.read()
    assert process.stdin is not None
    process.stdin.close()
    assert "Fatal Python error" not in err
    assert process.returncode == 0, err
    assert err.strip().splitlines() == ["inspector: stopped"]


def test_without_exit_with_stdin_a_closed_stdin_is_ignored(db_path: Path) -> None:
    process, base_url = start_serve(db_path, "--quiet")  # stdin is not a pipe here
    try:
        assert httpx.get(f"{base_url}/inspector/api/health").status_code == 200
        assert process.poll() is None
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)
