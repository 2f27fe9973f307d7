"""``inspector export`` and ``inspector import`` as commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspector.cli import main


@pytest.fixture
def ndjson(tmp_path: Path) -> Path:
    path = tmp_path / "calls.ndjson"
    path.write_text(
        '{"type": "track", "event": "Order Completed", "userId": "u1",'
        ' "properties": {"total": 1}}\n'
        '{"type": "identify", "userId": "u1", "traits": {"email": "a@example.com"}}\n'
    )
    return path


def test_import_then_export_each_format(ndjson: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "c.sqlite3"
    assert main(["import", str(ndjson), "--db", str(db), "--session", "qa"]) == 0
    assert "imported 2 events from 2 requests into session 'qa'" in capsys.readouterr().err
    out = tmp_path / "out.ndjson"
    assert main(["export", "--db", str(db), "--session", "qa", "--format", "ndjson",
                 "-o", str(out)]) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["type"] for line in lines] == ["track", "identify"]
    assert main(["export", "--db", str(db), "--format", "csv"]) == 0  # latest session
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0].startswith("id,session,received_at")
    assert "exported 2 events from 'qa'" in captured.err
    assert main(["export", "--db", str(db), "--format", "har", "--status", "malformed"]) == 0
    assert json.loads(capsys.readouterr().out)["log"]["entries"] == []


def test_import_with_a_plan_validates(ndjson: Path, tmp_path: Path) -> None:
    from inspector.core.resources import example_plan_path
    from inspector.core.store import EventQuery, EventStore

    db = tmp_path / "c.sqlite3"
    assert main(["import", str(ndjson), "--db", str(db), "--plan", str(example_plan_path())]) == 0
    events = EventStore(db).query_events(EventQuery()).events
    assert [str(e.status) for e in events] == ["invalid", "valid"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["export", "--format", "csv", "--session", "nope"], "no session 'nope'"),
        (["export", "--format", "csv", "--db", "/nonexistent/x.sqlite3"], "no capture database"),
        (["import", "/nonexistent/file.ndjson"], "cannot read /nonexistent/file.ndjson"),
    ],
)
def test_errors_are_one_line_and_exit_2(argv: list[str], message: str, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "c.sqlite3"
    if "--db" not in argv:
        main(["import", "/dev/null", "--db", str(db)])
        capsys.readouterr()
        argv = [*argv, "--db", str(db)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert message in err[0]
