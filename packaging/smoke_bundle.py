"""Smoke-test the frozen one-folder build: what a user of the Linux tarball would run.

    python packaging/smoke_bundle.py dist/inspector/inspector [--no-window]

(Windows: ``dist/inspector/inspector.exe``; macOS:
``dist/inspector.app/Contents/MacOS/inspector``; both ``--no-window``, as step 4 reads
Linux's /proc.)

Run with an interpreter that has analytics-python (the test venv); the bundle itself needs
none. Checks, each failing with exit code 1 and what went wrong:

1. ``inspector --version`` and ``inspector COMMAND --help`` for every subcommand that
   ``inspector --help`` lists (each module the CLI imports by name is in the bundle);
2. ``inspector validate`` against the bundled example plan (exit 0 valid, 1 invalid);
3. ``inspector serve --port 0``: an analytics-python event is stored (REST API), SIGTERM
   stops it with exit 0; ``inspector report`` renders it with the bundled templates; on Linux,
   its background indexing child is the bundle's own executable run as ``_derive``;
4. the window on a private Xvfb (or ``$DISPLAY``): it shows, its capture child is the
   bundle's own executable run as ``serve``, analytics-python events sent to it are stored,
   a second launch is told where the first runs, SIGTERM closes it with exit 0 and the child
   gone. Prints the start-up time (process spawned to "window shown" in its log).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
from segment.analytics import Client

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.startup import launch_window, log_text, profile_env, stop_window, virtual_display

VALID = {"type": "track", "event": "Product Viewed", "userId": "u1", "messageId": "m1",
         "properties": {"product_id": "MUG-11"}}
INVALID = {**VALID, "messageId": "m2", "properties": {"product_id": "MUG-11", "price": "1"}}


def check(condition: bool, what: str) -> None:
    """Fail the smoke test with ``what`` unless ``condition``."""
    if not condition:
        print(f"smoke: FAILED: {what}", file=sys.stderr)
        raise SystemExit(1)
    print(f"smoke: ok: {what}", flush=True)


def cli(exe: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the bundle's executable outside any venv (no PYTHONPATH, no PYTHONHOME)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME",
                                                             "VIRTUAL_ENV")}
    return subprocess.run([str(exe), *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=120, cwd=tempfile.gettempdir())


def send(url: str, count: int, key: str) -> None:
    """``count`` track calls from the real analytics-python client."""
    errors: list[object] = []
    client = Client(key, host=url, sync_mode=True, max_retries=0,
                    on_error=lambda error, batch: errors.append(error))
    for number in range(count):
        client.track(user_id="u1", event="Product Viewed",
                     properties={"product_id": f"MUG-{number}"})
    check(errors == [], f"analytics-python sent {count} event(s) to {url}")


def stored(url: str, expected: int) -> None:
    """The REST API lists ``expected`` events in the current session."""
    total = httpx.get(f"{url}/inspector/api/events", timeout=30).json()["total"]
    check(total == expected, f"{expected} event(s) stored (API says {total})")


def subcommands(exe: Path) -> list[str]:
    """The subcommands ``inspector --help`` lists, one per line under COMMAND."""
    usage = cli(exe, "--help").stdout.split("options:")[0]
    return re.findall(r"^    ([a-z][a-z_-]*)  ", usage, flags=re.MULTILINE)


def smoke_cli(exe: Path) -> None:
    """Steps 1 and 2."""
    version = cli(exe, "--version")
    check(version.returncode == 0 and version.stdout.startswith("inspector "),
          f"--version: {version.stdout.strip()}")
    commands = subcommands(exe)
    # The CLI leaves out a subcommand whose module is missing: compare with the source's.
    expected = subcommands(Path(sys.executable).with_name("inspector"))
    check(bool(commands) and commands == expected, f"subcommands {commands}")
    for command in commands:
        result = cli(exe, command, "--help")
        check(result.returncode == 0, f"{command} --help (exit {result.returncode}) "
              f"{result.stderr.strip()[-200:]}")
    bundle = exe.parent.parent if exe.parent.name == "MacOS" else exe.parent
    plans = sorted(bundle.rglob("retention-example.json"))
    check(bool(plans), f"bundled plan {plans}")
    plan = plans[0]
    good = cli(exe, "validate", "--plan", str(plan), "-", stdin=json.dumps(VALID) + "\n")
    check(good.returncode == 0, f"validate: a valid event, exit {good.returncode}")
    bad = cli(exe, "validate", "--plan", str(plan), "--format", "json", "-",
              stdin=json.dumps(VALID) + "\n" + json.dumps(INVALID) + "\n")
    statuses = [json.loads(line)["status"] for line in bad.stdout.splitlines()]
    check(bad.returncode == 1 and statuses == ["valid", "invalid"],
          f"validate: valid + invalid, exit {bad.returncode}, {statuses}")


def smoke_serve(exe: Path, folder: Path) -> None:
    """Step 3."""
    env = profile_env(folder / "serve-profile", os.environ.get("DISPLAY", ""))
    serve = subprocess.Popen([str(exe), "serve", "--port", "0", "--db", str(folder / "s.db"),
                              "--quiet", "--ready-json"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert serve.stdout is not None
        ready = json.loads(serve.stdout.readline())
        send(ready["url"], 1, "bundle-serve")
        stored(ready["url"], 1)
        if sys.platform.startswith("linux"):
            # Started by the writer thread, so listed under that thread's task.
            derive = [Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")[:2]
                      for task in Path(f"/proc/{serve.pid}/task").glob("*")
                      for child in (task / "children").read_text().split()]
            check([os.fsencode(exe), b"_derive"] in derive, "serve's background indexing "
                  f"child is the bundle's own executable run as _derive ({derive})")
    finally:
        serve.terminate()
        _, err = serve.communicate(timeout=30)
    # Windows has no SIGTERM: terminate() is TerminateProcess, whose exit code is always 1.
    clean = serve.returncode == 0 or (os.name == "nt" and serve.returncode == 1)
    check(clean and "Fatal" not in err, f"serve stopped with exit {serve.returncode} on "
          "SIGTERM")
    report = cli(exe, "report", "--db", str(folder / "s.db"), "--format", "html", "-o",
                 str(folder / "report.html"))
    written = (folder / "report.html").read_text(encoding="utf-8") if report.returncode in (
        0, 1) else ""
    check("<footer>inspector " in written, f"report: HTML from the bundled templates, exit "
          f"{report.returncode} {report.stderr.strip()[-200:]}")


def children(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (Linux /proc)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def smoke_window(exe: Path, folder: Path) -> float:
    """Step 4; returns the start-up time in seconds."""
    profile = folder / "window-profile"
    with virtual_display() as display:
        window, elapsed, url = launch_window([str(exe)], profile, display)
        try:
            check(True, f"window shown after {elapsed:.2f} s, capturing at {url}")
            kids = children(window.pid)
            commands = [Path(f"/proc/{kid}/cmdline").read_bytes().split(b"\0")[:2]
                        for kid in kids]
            check([str(exe).encode(), b"serve"] in commands,
                  f"the capture child is `{exe.name} serve` ({commands})")
            send(url, 3, "bundle-window")
            stored(url, 3)
            second = subprocess.run([str(exe)], env=profile_env(profile, display),
                                    capture_output=True, text=True, timeout=60)
            check(second.returncode == 0 and f"capturing at {url}" in second.stdout,
                  f"a second launch says: {second.stdout.strip()}")
        finally:
            code = stop_window(window)
        check(code == 0, f"the window closed on SIGTERM with exit {code}")
        check(all(not Path(f"/proc/{kid}").exists() for kid in kids),
              "its capture child is gone")
        check("inspector stopped" in log_text(profile).splitlines()[-1],
              "the log file ends with 'inspector stopped'")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    """Run every step; 0 when all pass."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("executable", type=Path)
    parser.add_argument("--no-window", action="store_true",
                        help="skip step 4 (the window), e.g. on Windows and macOS")
    args = parser.parse_args(argv)
    exe = args.executable.resolve()
    check(exe.is_file(), f"executable {exe}")
    with tempfile.TemporaryDirectory(prefix="inspector-smoke-") as name:
        folder = Path(name)
        smoke_cli(exe)
        smoke_serve(exe, folder)
        if args.no_window:
            print("smoke: all passed (window not started: --no-window)")
            return 0
        elapsed = smoke_window(exe, folder)
    print(f"smoke: all passed (window start-up {elapsed:.2f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
