"""``inspector diff``: exit codes, the JSON shape, JUnit and HTML reports, and sides given as
NDJSON or HAR files."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from xml.etree import ElementTree

import pytest

from inspector.cli import main
from inspector.core.compare import Kind
from inspector.core.store import EventStore
from tests.support.compare_traffic import regressed_db

__all__ = ["regressed_db"]  # the fixture, imported to be found


def _payloads(db: Path, session: str) -> list[dict[str, object]]:
    connection = sqlite3.connect(db)
    try:
        rows = connection.execute(
            "SELECT e.payload FROM events e JOIN sessions s ON s.id = e.session_id "
            "WHERE s.name = ? ORDER BY e.id", (session,)).fetchall()
    finally:
        connection.close()
    return [json.loads(row[0]) for row in rows]


def _ndjson(db: Path, session: str, path: Path) -> Path:
    path.write_text("".join(json.dumps(p) + "\n" for p in _payloads(db, session)))
    return path


def _har(db: Path, session: str, path: Path) -> Path:
    entries = [{
        "startedDateTime": payload["timestamp"],
        "request": {"method": "POST", "url": f"https://api.segment.io/v1/{payload['type']}",
                    "headers": [{"name": "Content-Type", "value": "application/json"}],
                    "postData": {"mimeType": "application/json", "text": json.dumps(payload)}},
    } for payload in _payloads(db, session)]
    path.write_text(json.dumps({"log": {"version": "1.2", "entries": entries}}))
    return path


def test_json_shape_and_exit_1_on_errors(regressed_db: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["diff", "production", "staging", "--db", str(regressed_db),
                 "--format", "json"])

    assert code == 1
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"baseline", "candidate", "differences"}
    assert data["baseline"]["name"] == "production"
    assert data["candidate"]["events"] == 24
    for difference in data["differences"]:
        assert {"kind", "severity", "event", "type", "path", "baseline", "candidate",
                "message"} <= set(difference)
    kinds = {d["kind"] for d in data["differences"]}
    assert kinds == {str(kind) for kind in Kind}
    coupon = next(d for d in data["differences"] if d["path"] == "properties.coupon")
    assert coupon == {
        "kind": "missing_property", "severity": "error", "event": "Order Completed",
        "type": "track", "path": "properties.coupon",
        "baseline": {"share": 1.0, "count": 4}, "candidate": {"share": 0.0, "count": 0},
        "message": "Order Completed no longer sends properties.coupon: it was on 100% of "
                   "baseline calls (4 of 4) and on none of 4 candidate calls.",
        "examples": coupon["examples"],
    }
    assert coupon["examples"]["baseline"][0]["message_id"]


def test_same_session_twice_exits_0(regressed_db: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    # By name, then by id: the same session.
    store = EventStore(regressed_db)
    session = store.session_by_name("production")
    store.close()
    assert session is not None

    code = main(["diff", "production", str(session.id), "--db", str(regressed_db)])

    assert code == 0
    assert capsys.readouterr().out.endswith("no differences\n")


def test_usage_errors_exit_2(regressed_db: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", "production", "nope", "--db", str(regressed_db)]) == 2
    assert "candidate 'nope': no such session" in capsys.readouterr().err
    junk = tmp_path / "junk.ndjson"
    junk.write_bytes(b"\xff\xfe not json\n")
    assert main(["diff", str(junk), "staging", "--db", str(regressed_db)]) == 2
    assert "baseline" in capsys.readouterr().err
    folder = tmp_path / "folder"
    folder.mkdir()
    assert main(["diff", "production", str(folder), "--db", str(regressed_db)]) == 2
    assert main(["diff", "a", "b", "--db", str(tmp_path / "missing.sqlite3")]) == 2
    assert "no such file, and no capture database" in capsys.readouterr().err
    assert main(["diff", "staging", "--db", str(regressed_db)]) == 2
    assert "none accepted" in capsys.readouterr().err


def test_files_as_sides(regressed_db: Path, tmp_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    baseline = _ndjson(regressed_db, "production", tmp_path / "production.ndjson")
    candidate = _har(regressed_db, "staging", tmp_path / "staging.har")

    code = main(["diff", str(baseline), str(candidate), "--db", str(tmp_path / "none.db"),
                 "--format", "json"])

    assert code == 1
    data = json.loads(capsys.readouterr().out)
    assert data["baseline"]["file"] == str(baseline)
    assert data["candidate"]["events"] == 24
    paths = {d["path"] for d in data["differences"]}
    assert {"properties.coupon", "properties.total", "properties.currency"} <= paths
    # A file against the stored session it was exported from: nothing differs.
    assert main(["diff", "production", str(baseline), "--db", str(regressed_db)]) == 0


def test_junit_parses_with_a_failure_per_error_kind(regressed_db: Path, tmp_path: Path) -> None:
    report = tmp_path / "diff.xml"

    code = main(["diff", "production", "staging", "--db", str(regressed_db),
                 "--format", "junit", "-o", str(report)])

    assert code == 1
    suite = ElementTree.parse(report).getroot()
    assert suite.tag == "testsuite"
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == {str(kind) for kind in Kind}
    failed = {name for name, case in cases.items() if case.find("failure") is not None}
    assert failed == {"missing_event", "missing_property", "type_changed", "source_changed",
                      "identity_changed"}
    assert suite.get("failures") == str(len(failed))
    sequence = cases["sequence_changed"].find("system-out")
    assert sequence is not None
    assert "Checkout Started now comes before identify" in (sequence.text or "")


def test_html_is_self_contained_and_escapes_payload_values(tmp_path: Path) -> None:
    hostile = "<script>alert(1)</script>"
    base = {"type": "track", "event": "Plan Chosen", "userId": "1",
            "timestamp": "2026-11-29T10:00:00.000Z"}
    baseline = tmp_path / "baseline.ndjson"
    candidate = tmp_path / "candidate.ndjson"
    baseline.write_text("".join(json.dumps({**base, "properties": {"plan": "pro"}}) + "\n"
                                for _ in range(4)))
    candidate.write_text("".join(json.dumps({**base, "properties": {"plan": hostile}}) + "\n"
                                 for _ in range(4)))
    report = tmp_path / "diff.html"

    code = main(["diff", str(baseline), str(candidate), "--db", str(tmp_path / "none.db"),
                 "--format", "html", "-o", str(report)])

    assert code == 0  # a changed value set is a warning
    html = report.read_text()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "values_changed" in html
    assert "<link" not in html  # self-contained: inline CSS only
    assert 'src="' not in html


def test_ignore_option(regressed_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["diff", "production", "staging", "--db", str(regressed_db), "--format", "json",
          "--ignore", "properties.coupon", "--ignore", "properties.st*"])

    paths = {d["path"] for d in json.loads(capsys.readouterr().out)["differences"]}
    assert not paths & {"properties.coupon", "properties.step"}
    assert "properties.price" in paths
