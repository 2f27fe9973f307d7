"""``inspector report``: the files it writes and its exit codes."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest

from inspector.cli import main
from inspector.core.resources import example_plan_path
from tests.core.report.conftest import ReportSession
from tests.support.events import add_events, make_event


@pytest.mark.parametrize("fmt", ["html", "junit", "md"])
def test_writes_each_format_and_fails_a_failing_session(
    report_session: ReportSession, tmp_path: Path, fmt: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = report_session.service.store.path
    out = tmp_path / f"report.{fmt}"
    code = main(["report", "--db", str(db), "--format", fmt, "-o", str(out),
                 "--plan", str(example_plan_path())])
    assert code == 1  # the session has invalid events and error findings
    assert ": failed" in capsys.readouterr().err
    text = out.read_text(encoding="utf-8")
    if fmt == "junit":
        assert ElementTree.fromstring(text).tag == "testsuites"
    else:
        assert "retention-example.json" in text
        assert "identity.multiple_user_ids" in text


def test_a_clean_session_passes(db_path: Path, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    add_events(db_path, [make_event("identify", 1, userId="u1", timestamp=now,
                                    traits={"email": "ada@shop.test"})], session="clean")
    out = tmp_path / "clean.md"
    assert main(["report", "--db", str(db_path), "--session", "clean", "--format", "md",
                 "-o", str(out)]) == 0
    assert "# QA report: clean: PASSED" in out.read_text()


@pytest.mark.parametrize(("extra", "message"), [
    (["--session", "nope"], "no session 'nope' in"),
    (["--plan", "/nonexistent/plan.json"], "--plan: cannot read plan /nonexistent/plan.json"),
    (["-o", "/nonexistent/dir/report.html"], "cannot write /nonexistent/dir/report.html"),
])
def test_usage_errors_exit_2(db_path: Path, tmp_path: Path, extra: list[str], message: str,
                             capsys: pytest.CaptureFixture[str]) -> None:
    add_events(db_path, [make_event()])
    output = [] if "-o" in extra else ["-o", str(tmp_path / "r.html")]
    assert main(["report", "--db", str(db_path), "--format", "html", *output, *extra]) == 2
    assert message in capsys.readouterr().err
