"""``inspector validate`` and ``inspector plan show`` end to end (in process)."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest

from inspector.cli import main
from tests.core.plan.conftest import FIXTURES

PLAN = str(FIXTURES / "public-api-raw.json")


def _events(tmp_path: Path, *lines: object) -> str:
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    return str(path)


GOOD = {"type": "track", "event": "Order Completed", "userId": "u", "messageId": "m1",
        "properties": {"order_id": "o", "total": 1}}


def test_validate_json_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--plan", PLAN, _events(tmp_path, GOOD), "--format", "json"]) == 0
    capsys.readouterr()
    batch = {"batch": [GOOD, {"type": "track", "event": "Completed Order", "userId": "u"}]}
    events = _events(tmp_path, GOOD, batch, "{oops", {"type": "track", "userId": "u"})
    assert main(["validate", "--plan", PLAN, events, "--format", "json"]) == 1
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["line"], r["status"]) for r in rows] == [
        (1, "valid"), (2, "valid"), (2, "unplanned"), (3, "malformed"), (4, "malformed")]
    assert rows[0] == {"line": 1, "messageId": "m1", "type": "track",
                       "event": "Order Completed", "status": "valid", "violations": []}
    assert rows[2]["violations"][0]["kind"] == "Unplanned Event"
    assert rows[4]["violations"][0]["message"] == "Missing event key for track call"


def test_validate_text_and_junit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = {**GOOD, "properties": {"total": "x"}}
    events = _events(tmp_path, GOOD, bad)
    assert main(["validate", "--plan", PLAN, events]) == 1
    out = capsys.readouterr().out
    assert "\033[" not in out  # not a terminal: no colour
    assert "properties.order_id is required" in out
    assert "2 events: 1 invalid, 1 valid" in out
    assert main(["validate", "--plan", PLAN, events, "--format", "junit"]) == 1
    suite = ElementTree.fromstring(capsys.readouterr().out).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")


def test_plan_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "plan.json"
    broken.write_text('{"rules": [\n}')
    assert main(["validate", "--plan", str(broken), _events(tmp_path, GOOD)]) == 2
    assert f"{broken}:2:1" in capsys.readouterr().err
    assert main(["validate", "--plan", PLAN, str(tmp_path / "missing.ndjson")]) == 2
    assert main(["plan", "show", str(broken)]) == 2


def test_plan_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "show", PLAN]) == 0
    out = capsys.readouterr().out
    assert "Order Completed" in out
    assert "1,2" in out
    assert "1 (deprecated),2" in out
    assert main(["plan", "show", PLAN, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    order = next(r for r in data["rules"] if r["key"] == "Order Completed")
    assert order["versions"] == [1, 2]
    assert order["required"] == ["properties.order_id", "properties.total"]
