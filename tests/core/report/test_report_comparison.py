"""The QA report's comparison section (``inspector report --baseline``): the differences in
HTML (escaped), Markdown and JUnit, nothing without a baseline, and a bad baseline exits 2.
Both sessions are captured over real HTTP."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest

from inspector.cli import main
from inspector.core.compare import Kind
from tests.support.compare_traffic import Traffic, capture_pair, regressed_flow

#: An event name that would run if the report printed it unescaped.
SCRIPT = "<script>alert(1)</script>"


def _hostile_candidate(traffic: Traffic) -> None:
    regressed_flow(traffic)
    traffic.web("track", event=SCRIPT, anonymousId="anon-evil", properties={"x": 1})


@pytest.fixture(scope="module")
def compared_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """"production" (the baseline flow) and "staging" (regressed, plus a hostile event)."""
    return capture_pair(tmp_path_factory.mktemp("report-compare") / "captures.sqlite3",
                        _hostile_candidate)


def _report(db: Path, out: Path, fmt: str, *extra: str) -> tuple[int, str]:
    code = main(["report", "--db", str(db), "--session", "staging", "--format", fmt,
                 "-o", str(out), *extra])
    return code, out.read_text(encoding="utf-8")


def test_html_lists_the_differences_escaped(compared_db: Path, tmp_path: Path) -> None:
    code, html = _report(compared_db, tmp_path / "r.html", "html", "--baseline", "production")

    assert code == 1  # missing events and properties are errors
    assert 'id="comparison"' in html
    assert 'href="#comparison"' in html
    section = html[html.index('<section id="comparison">'):]
    section = section[:section.index("</section>")]
    for expected in ("missing_event", "Newsletter Subscribed", "sequence_changed",
                     "source_changed", "production"):
        assert expected in section
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section


def test_markdown_lists_the_differences(compared_db: Path, tmp_path: Path) -> None:
    _, text = _report(compared_db, tmp_path / "r.md", "md", "--baseline", "production")

    section = text[text.index("## Comparison with the baseline"):]
    assert "`missing_event`" in section
    assert "Newsletter Subscribed" in section
    assert SCRIPT not in text  # the md filter escapes markup characters


def test_junit_has_a_case_per_difference_kind(compared_db: Path, tmp_path: Path) -> None:
    _, xml = _report(compared_db, tmp_path / "r.xml", "junit", "--baseline", "production")

    root = ElementTree.fromstring(xml)
    [suite] = [s for s in root.iter("testsuite")
               if s.get("name") == "inspector diff production -> staging"]
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == {str(kind) for kind in Kind}
    missing = cases["missing_event"].find("failure")
    assert missing is not None
    assert "Newsletter Subscribed" in (missing.text or "")
    unexpected = cases["unexpected_event"].find("system-out")
    assert unexpected is not None
    assert SCRIPT in (unexpected.text or "")  # XML-escaped in the file, intact once parsed
    assert cases["sequence_changed"].find("failure") is None  # a warning only


def test_nothing_without_a_baseline(compared_db: Path, tmp_path: Path) -> None:
    _, html = _report(compared_db, tmp_path / "r.html", "html")
    _, text = _report(compared_db, tmp_path / "r.md", "md")
    _, xml = _report(compared_db, tmp_path / "r.xml", "junit")

    assert 'id="comparison"' not in html
    assert "Comparison with the baseline" not in html
    assert "Comparison with the baseline" not in text
    names = [s.get("name") or "" for s in ElementTree.fromstring(xml).iter("testsuite")]
    assert names
    assert not any(name.startswith("inspector diff") for name in names)


def test_same_session_as_baseline_passes_the_comparison(compared_db: Path,
                                                        tmp_path: Path) -> None:
    _, html = _report(compared_db, tmp_path / "r.html", "html", "--baseline", "staging")

    section = html[html.index('<section id="comparison">'):]
    assert "no differences." in section[:section.index("</section>")]


def test_an_unknown_baseline_exits_2(compared_db: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.html"
    assert main(["report", "--db", str(compared_db), "--session", "staging", "--format",
                 "html", "-o", str(out), "--baseline", "no-such-session"]) == 2
    assert "--baseline 'no-such-session'" in capsys.readouterr().err
    assert not out.exists()
