"""The sdist and wheel, built the way a release is and run from a fresh venv outside the
checkout: entry points, resources inside the wheel, `inspector serve` and `validate`.

What this proves: the built distribution carries every module and resource inspector needs
(no file is read from the checkout) and declares dependencies that the installed ones
satisfy (``pip check``). To stay offline and within a minute, the fresh venv borrows the
dependencies already installed in the test venv through a ``.pth`` line rather than
downloading them again; resolving them from the index is what `pipx install` / the Linux
bundle build in .ci/run (packaging/build_linux.py) do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import httpx
import pytest

from inspector import __version__

pytestmark = [pytest.mark.packaging, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
VALID = {"type": "track", "event": "Product Viewed", "userId": "u1",
         "messageId": "m1", "properties": {"product_id": "MUG-11"}}
INVALID = {"type": "track", "event": "Product Viewed", "userId": "u1",
           "messageId": "m2", "properties": {"product_id": "MUG-11", "price": "12.5"}}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with only the built wheel installed in it; its bin folder."""
    work = tmp_path_factory.mktemp("packaging")
    dist = work / "dist"
    # sdist first, then the wheel built from the unpacked sdist: both must be complete.
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist),
                    str(ROOT)], check=True, capture_output=True, cwd=work)
    wheels = list(dist.glob("segment_inspector-*.whl"))
    assert len(wheels) == 1
    assert list(dist.glob("segment_inspector-*.tar.gz"))
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True, capture_output=True, text=True).stdout.strip()
    # The test venv's dependencies, appended after the fresh venv's own site-packages. A
    # plain path line: the editable install's own .pth there is not processed, so the
    # checkout never becomes importable.
    borrowed = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (Path(purelib) / "borrowed_dependencies.pth").write_text("\n".join(sorted(borrowed)) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-deps", "--no-index", str(wheels[0])], check=True, capture_output=True)
    return venv / "bin"


def _run(bin_dir: Path, *args: str, stdin: str | None = None,
         cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run([str(bin_dir / args[0]), *args[1:]], input=stdin, text=True,
                          capture_output=True, env=env, cwd=cwd or bin_dir, timeout=120)


def test_the_wheel_installs_both_commands_and_its_resources(installed: Path) -> None:
    assert _run(installed, "inspector", "--version").stdout.strip() == f"inspector {__version__}"
    assert (installed / "inspector-gui").is_file()
    where = _run(installed, "python", "-c",
                 "import inspector; from inspector.core.resources import resource_path as r; "
                 "print(inspector.__file__); print(r('plans', 'retention-example.json')); "
                 "print(r('audit', 'retention-audit.yaml')); print(r('icons', 'inspector.svg')); "
                 "print(r('report', 'report.html'))")
    lines = where.stdout.splitlines()
    venv = installed.parent
    assert len(lines) == 5, where.stderr
    for line in lines:  # the installed copy, never the checkout
        assert Path(line).is_relative_to(venv), line
        assert Path(line).is_file(), line
    check = subprocess.run(  # the venv has no pip of its own: this one, pointed at it
        [sys.executable, "-m", "pip", "--python", str(installed / "python"), "check"],
        capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_inspector_validate_from_the_wheel_uses_the_bundled_plan(installed: Path) -> None:
    plan = _run(installed, "python", "-c", "from inspector.core.resources import "
                "example_plan_path; print(example_plan_path())").stdout.strip()
    events = "\n".join(json.dumps(event) for event in (VALID, INVALID)) + "\n"
    result = _run(installed, "inspector", "validate", "--plan", plan, "--format", "json", "-",
                  stdin=events)
    assert result.returncode == 1, result.stderr  # one of the two is invalid
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["status"] for line in lines] == ["valid", "invalid"]
    assert [v["field"] for v in lines[1]["violations"]] == ["properties.price"]
    only_valid = _run(installed, "inspector", "validate", "--plan", plan, "-",
                      stdin=json.dumps(VALID) + "\n")
    assert only_valid.returncode == 0, only_valid.stdout + only_valid.stderr


def test_inspector_serve_from_the_wheel_stores_an_analytics_python_event(
        installed: Path, tmp_path: Path) -> None:
    from segment.analytics import Client

    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    serve = subprocess.Popen(
        [str(installed / "inspector"), "serve", "--port", "0", "--db",
         str(tmp_path / "c.sqlite3"), "--quiet", "--ready-json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        assert serve.stdout is not None
        ready = json.loads(serve.stdout.readline())
        errors: list[object] = []
        client = Client("wheel-key", host=ready["url"], sync_mode=True, max_retries=0,
                        on_error=lambda error, batch: errors.append(error))
        client.track(user_id="u1", event="Product Viewed", properties={"product_id": "MUG-11"})
        assert errors == []
        events = httpx.get(ready["url"] + "/inspector/api/events").json()
        assert events["total"] == 1
        stored = events["events"][0]
        assert (stored["event"], stored["write_key"]) == ("Product Viewed", "wheel-key")
        assert stored["library"].startswith("analytics-python ")
    finally:
        serve.terminate()
        _, err = serve.communicate(timeout=30)
    assert serve.returncode == 0, err
    assert "inspector: stopped" in err
    # The report's templates (resources/report/) come from the wheel too.
    report = _run(installed, "inspector", "report", "--db", str(tmp_path / "c.sqlite3"),
                  "--format", "html", "-o", str(tmp_path / "report.html"), cwd=tmp_path)
    assert report.returncode in (0, 1), report.stderr
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert f"<footer>inspector {__version__} · session " in html


#: `inspector serve` as packaging/Containerfile runs it: the image removes PySide6, shiboken6
#: and qasync, so any import of them fails here too; the token comes from the environment.
_SERVE_WITHOUT_QT = """
import importlib.abc, sys

class BlockQt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PySide6", "shiboken6", "qasync"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, BlockQt())
from inspector.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_serve_as_the_container_runs_it_needs_no_qt_and_requires_the_token(
        installed: Path, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["INSPECTOR_API_TOKEN"] = "container-token"
    serve = subprocess.Popen(
        [str(installed / "python"), "-c", _SERVE_WITHOUT_QT, "serve", "--port", "0",
         "--db", str(tmp_path / "c.sqlite3"), "--api-token-env", "INSPECTOR_API_TOKEN",
         "--quiet", "--ready-json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        assert serve.stdout is not None
        line = serve.stdout.readline()
        assert line, serve.stderr.read() if serve.stderr else ""
        url = json.loads(line)["url"]
        assert httpx.post(f"{url}/v1/track", json={"event": "E", "userId": "u"}).status_code \
            == 200  # capture needs no token: SDKs cannot send one
        api = f"{url}/inspector/api/events"
        assert httpx.get(api).status_code == 401
        answer = httpx.get(api, headers={"Authorization": "Bearer container-token"})
        assert answer.json()["total"] == 1
    finally:
        serve.terminate()
        _, err = serve.communicate(timeout=30)
    assert serve.returncode == 0, err
