"""``inspector assert`` as a CI script runs it: against a real ``inspector serve`` fed by
analytics-python, with every typo an exit 2, never a pass."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from segment.analytics import Client

from inspector.cli import main
from inspector.core.resources import example_plan_path
from tests.support.processes import start_serve


def _send(base_url: str, calls: list[tuple[str, dict[str, Any]]]) -> None:
    """Track calls through the real analytics-python client, flushed before returning."""
    client = Client("ci-key", host=base_url, max_retries=0, upload_interval=0.05)
    for name, properties in calls:
        client.track("user-1", name, properties)
    client.flush()
    client.shutdown()


GOOD = ("Order Completed", {"order_id": "o-1", "total": 42.5, "currency": "EUR"})


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A serve with the example plan and two sessions: "broken" (a string total, an
    unplanned event, a lower-case currency) and "clean" (one good order; the current one)."""
    db = tmp_path_factory.mktemp("assert") / "ci.sqlite3"
    process, base_url = start_serve(db, "--session", "broken", "--quiet", "--plan",
                                    str(example_plan_path()))
    try:
        _send(base_url, [
            GOOD,
            ("Order Completed", {"order_id": "o-2", "total": "42", "currency": "EUR"}),
            ("Order Completed", {"order_id": "o-3", "total": 10, "currency": "eur"}),
            ("Signed In", {}),
        ])
        response = httpx.post(f"{base_url}/inspector/api/reset", json={"name": "clean"})
        assert response.status_code == 200
        _send(base_url, [GOOD])
        yield base_url, db
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["assert", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


ORDER_WITH_TOTAL = "--event 'Order Completed' --where-type properties.total=number --min 1"
NO_BROKEN_EVENT = "--no-violations --severity error"


def test_the_readme_example_passes_on_clean_traffic_and_fails_on_broken(
        shop: tuple[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    url, _ = shop
    code, out, _ = _run(capsys, "--url", url, "--expect", ORDER_WITH_TOTAL,
                        "--expect", NO_BROKEN_EVENT)
    assert code == 0, out
    assert out.splitlines()[-1] == "2 passed, 0 failed"
    code, out, _ = _run(capsys, "--url", url, "--session", "broken",
                        "--expect", ORDER_WITH_TOTAL, "--expect", NO_BROKEN_EVENT)
    assert code == 1
    assert "PASS  event=Order Completed field_type.properties.total=number" in out
    assert "FAIL  every event, no error violations: 4 matching; 3 with error violations" in out
    # the events that broke the plan, in Segment's words
    assert "error: Invalid Type (properties.total): Invalid type. Expected: number" in out
    assert "error: Unplanned Event (event): Event 'Signed In' is not in the tracking plan" \
        in out
    assert "Does Not Match Pattern (properties.currency)" in out


def test_a_failed_count_says_what_it_looked_for_and_shows_the_closest_events(
        shop: tuple[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    url, _ = shop
    code, out, _ = _run(capsys, "--url", url, "--session", "broken", "--event",
                        "Order Completed", "--where", "properties.total=42",
                        "--where", 'properties.currency="EUR"')
    assert code == 1
    assert "looked for: event=Order Completed field.properties.total=42 " \
           'field.properties.currency="EUR"' in out
    assert "expected at least 1 matching, found 0" in out
    assert "closest: event=Order Completed (without the field tests)" in out
    assert 'properties.total = "42"' in out  # the string that made the number miss
    assert "error: Invalid Type (properties.total)" in out


def test_counts(shop: tuple[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    url, _ = shop
    broken = ("--url", url, "--session", "broken")
    assert _run(capsys, *broken, "--event", "Order Completed", "--count", "3")[0] == 0
    assert _run(capsys, *broken, "--event", "Order Completed", "--count", "2")[0] == 1
    assert _run(capsys, *broken, "--type", "TRACK", "--min", "4", "--max", "4")[0] == 0
    code, out, _ = _run(capsys, *broken, "--event", "Signed In", "--max", "0")
    assert code == 1
    assert "matching:" in out
    assert '"Signed In" unplanned' in out
    assert _run(capsys, *broken, "--status", "invalid", "--status", "unplanned",
                "--count", "3")[0] == 0
    assert _run(capsys, *broken, "--status", "problems", "--count", "3")[0] == 0
    # the current session (clean) by default; all of them on request
    assert _run(capsys, "--url", url, "--event", "Order Completed", "--count", "1")[0] == 0
    assert _run(capsys, "--url", url, "--session", "all", "--event", "Order Completed",
                "--count", "4")[0] == 0


def test_a_database_file_is_read_with_the_same_filters(
        shop: tuple[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _, db = shop
    # the newest session by default, as the serve's current one
    assert _run(capsys, "--db", str(db), "--expect", ORDER_WITH_TOTAL,
                "--expect", NO_BROKEN_EVENT)[0] == 0
    code, out, _ = _run(capsys, "--db", str(db), "--session", "broken",
                        "--where", "properties.total=*", "--where-type",
                        "properties.total=string", "--count", "1")
    assert code == 0, out
    assert _run(capsys, "--db", str(db), "--session", "broken", "--no-violations")[0] == 1


def test_junit_and_json_reports_from_a_checks_file(
        shop: tuple[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    url, _ = shop
    checks = tmp_path / "checks.json"
    checks.write_text(json.dumps({"checks": [
        {"name": "an order with a numeric total", "event": "Order Completed",
         "where_type": {"properties.total": "number"}, "where": {"properties.currency": "EUR"},
         "min": 1},
        {"name": "no event broke the plan", "no_violations": True, "severity": "error"},
    ]}))
    code, out, _ = _run(capsys, "--url", url, "--session", "broken", "--file", str(checks),
                        "--format", "junit")
    assert code == 1
    suites = ElementTree.fromstring(out.split("\n", 1)[1])
    suite = suites.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    cases = suite.findall("testcase")
    assert [case.get("name") for case in cases] == ["an order with a numeric total",
                                                     "no event broke the plan"]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure is not None
    assert "3 with error violations" in (failure.get("message") or "")
    assert "Unplanned Event" in (failure.text or "")
    code, out, _ = _run(capsys, "--url", url, "--file", str(checks), "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["passed"] is True
    assert [check["matched"] for check in report["checks"]] == [1, 1]
    assert report["checks"][1]["violating"] == 0


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_every_typo_is_a_usage_error_never_a_pass(
        shop: tuple[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    url, db = shop
    unknown_key = tmp_path / "typo.json"
    unknown_key.write_text(json.dumps([{"evnt": "Order Completed"}]))
    not_json = tmp_path / "broken.json"
    not_json.write_text("[{")
    mistakes: list[tuple[list[str], str]] = [
        (["--status", "invald"], "unknown status invald"),
        (["--type", "trak"], "unknown type trak"),
        (["--where", "properties.total"], "PATH=VALUE"),
        (["--where", "properties.currency=EUR"], "properties.currency='\"EUR\"'"),
        (["--where", "properties..total=1"], "is not a name"),
        (["--where-type", "properties.total=numeric"], "unknown type 'numeric'"),
        (["--severity", "error"], "--severity applies to --no-violations"),
        (["--count", "1", "--min", "1"], "not both"),
        (["--min", "-1"], "negative"),
        (["--session", "nope", "--min", "1"], "No session 'nope'"),
        (["--wait", "500", "--min", "1"], "--wait"),
        (["--expect", "--evnt X"], "--expect"),
        (["--expect", ""], "asserts nothing"),
        (["--expect", "--event 'unclosed"], "--expect"),
        (["--file", str(tmp_path / "missing.json")], "cannot read"),
        (["--file", str(unknown_key)], "evnt"),
        (["--file", str(not_json)], "not JSON"),
        ([], "nothing to assert"),
    ]
    for argv, words in mistakes:
        code, out, err = _run(capsys, "--url", url, *argv)
        assert code == 2, (argv, out, err)
        assert words in err, (argv, err)
    unreachable = f"http://127.0.0.1:{_closed_port()}"
    code, _, err = _run(capsys, "--url", unreachable, "--min", "1")
    assert code == 2
    assert "cannot reach" in err
    for argv, words in (
        (["--db", str(tmp_path / "none.sqlite3"), "--min", "1"], "no capture database"),
        (["--db", str(db), "--wait", "3", "--min", "1"], "--wait needs a running serve"),
        (["--db", str(db), "--session", "nope", "--min", "1"], "no session 'nope'"),
    ):
        code, _, err = _run(capsys, *argv)
        assert code == 2, argv
        assert words in err
    # argparse's own refusals exit 2 too
    for argv in (["--evnt", "X"], ["--severity", "fatal", "--no-violations"],
                 ["--format", "xml", "--min", "1"], ["--db", str(db), "--min", "1"]):
        with pytest.raises(SystemExit) as exited:
            main(["assert", "--url", url, *argv])
        assert exited.value.code == 2


def test_wait_returns_when_the_event_arrives_and_times_out_otherwise(db_path: Path) -> None:
    process, base_url = start_serve(db_path, "--quiet")
    try:
        started = time.monotonic()
        waiting = subprocess.Popen(
            [sys.executable, "-m", "inspector", "assert", "--url", base_url, "--wait", "60",
             "--event", "Late Event", "--where", "properties.total=3", "--min", "2"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _send(base_url, [("Late Event", {"total": 3}), ("Late Event", {"total": 3})])
        out, err = waiting.communicate(timeout=90)
        assert waiting.returncode == 0, (out, err)
        assert time.monotonic() - started < 30  # woken by the arrivals, not the time-out
        timed_out = subprocess.run(
            [sys.executable, "-m", "inspector", "assert", "--url", base_url, "--wait", "1",
             "--event", "Never Sent"], capture_output=True, text=True, timeout=60)
        assert timed_out.returncode == 1
        assert "(the wait timed out)" in timed_out.stdout
        assert "found 0" in timed_out.stdout
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)
