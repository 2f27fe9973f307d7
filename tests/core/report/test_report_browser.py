"""The HTML report in a real browser: Debian's headless Chromium renders it (a screenshot) and
the hostile markup in it stays text (the DOM it builds has no element of the payload's).

Chromium is in packaging/debian-packages.txt, which the README's set-up commands install.
``INSPECTOR_REPORT_SCREENSHOT=docs/report.png`` keeps the screenshot (how docs/report.png is
made).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from inspector.core.report import render_html
from tests.core.report.conftest import IMG, SCRIPT, ReportSession

#: No profile, no first-run pages, no background fetches: a file:// page and nothing else.
_QUIET = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
          "--no-default-browser-check", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--disable-extensions",
          "--disable-default-apps", "--hide-scrollbars"]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("Chromium is needed: apt-get install -y chromium "
                    "(listed in packaging/debian-packages.txt)")
    return found


def run_chromium(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "profile"
    return subprocess.run(
        [chromium(), *_QUIET, f"--user-data-dir={profile}", *arguments],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "HOME": str(tmp_path)})


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_chromium_renders_the_report_and_runs_nothing(report_session: ReportSession,
                                                      tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(report_session.data), encoding="utf-8")

    dom = run_chromium(tmp_path, "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    # The DOM the browser built: the payload's markup is text in it, never an element, and
    # nothing changed the title.
    assert f"<title>QA report: checkout QA {SCRIPT.replace('<', '&lt;').replace('>', '&gt;')}"\
        in dom.stdout
    assert "<script" not in dom.stdout
    assert "<img" not in dom.stdout
    assert "pwned" not in dom.stdout.split("</title>")[0]
    assert IMG.replace("<", "&lt;").replace(">", "&gt;") in dom.stdout
    assert 'id="failing"' in dom.stdout

    shot = tmp_path / "report.png"
    done = run_chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000",
                        page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert png_size(shot) == (1280, 2000)
    assert shot.stat().st_size > 50_000  # a rendered page, not a blank one
    keep = os.environ.get("INSPECTOR_REPORT_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)
