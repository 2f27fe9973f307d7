"""Start-up time of the window: the PyInstaller bundle against the venv install.

    python bench/startup.py [--bundle dist/inspector/inspector] [--venv .venv/bin/inspector]
        [--repeat 5]

Each run launches the command over a fresh profile (XDG folders in a temporary directory,
so every run is a first run: the example plan is loaded) with ``--port 0``, on the display
in ``$DISPLAY`` or a private Xvfb (QT_QPA_PLATFORM=xcb), and measures the wall-clock time
from spawning the process until its log file says "window shown" (logged once the event loop
runs after ``show()``, with the capture child listening), then stops it with SIGTERM. The two
commands take turns; reports the medians and the ratio bundle/venv. A machine shared with
other work is noisy: compare numbers from one run of this script only.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOG = Path("state") / "inspector" / "log" / "inspector.log"


@contextmanager
def virtual_display() -> Iterator[str]:
    """``$DISPLAY``, or a private Xvfb's display for the duration (stopped afterwards)."""
    if os.environ.get("DISPLAY"):
        yield os.environ["DISPLAY"]
        return
    read_end, write_end = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1400x900x24", "-nolisten", "tcp"],
        pass_fds=(write_end,), stderr=subprocess.DEVNULL)
    os.close(write_end)
    with os.fdopen(read_end) as chosen:
        number = chosen.readline().strip()  # Xvfb writes it once it accepts clients
    if not number:
        xvfb.kill()
        raise SystemExit("startup: Xvfb did not start")
    try:
        yield f":{number}"
    finally:
        xvfb.terminate()
        xvfb.wait(10)


def profile_env(profile: Path, display: str) -> dict[str, str]:
    """The environment of a launch over ``profile``: its own data, config and log folders."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("XDG_")}
    env.update(HOME=str(profile), XDG_DATA_HOME=str(profile / "data"),
               XDG_CONFIG_HOME=str(profile / "config"), XDG_STATE_HOME=str(profile / "state"),
               XDG_CACHE_HOME=str(profile / "cache"), DISPLAY=display, QT_QPA_PLATFORM="xcb")
    env.pop("INSPECTOR_DB", None)
    return env


def log_text(profile: Path) -> str:
    """The window's log file under ``profile`` (empty until it exists)."""
    path = profile / LOG
    return path.read_text(encoding="utf-8") if path.exists() else ""


def launch_window(command: list[str], profile: Path, display: str,
                  timeout: float = 90.0) -> tuple[subprocess.Popen[bytes], float, str]:
    """Start the window; returns the process, seconds until "window shown", capture URL."""
    started = time.monotonic()
    process = subprocess.Popen([*command, "--port", "0"], env=profile_env(profile, display),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while "window shown" not in (text := log_text(profile)):
        if process.poll() is not None:
            raise SystemExit(f"startup: {command[0]} exited with {process.returncode}: "
                             f"{process.stderr.read().decode() if process.stderr else ''}")
        if time.monotonic() - started > timeout:
            process.kill()
            raise SystemExit(f"startup: no window from {command[0]} within {timeout:.0f} s")
        time.sleep(0.01)  # another process's file: nothing to wait on but the clock
    elapsed = time.monotonic() - started
    url = text.split("capturing at ", 1)[1].split()[0]
    return process, elapsed, url


def stop_window(process: subprocess.Popen[bytes], timeout: float = 30.0) -> int:
    """SIGTERM (the window closes itself cleanly); its exit code."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout)
    finally:
        if process.poll() is None:
            process.kill()
        if process.stderr is not None:
            process.stderr.close()


def measure(command: list[str], repeat: int, display: str) -> list[float]:
    """``repeat`` start-up times of ``command``, each over a fresh profile."""
    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="inspector-startup-") as folder:
            process, elapsed, _url = launch_window(command, Path(folder), display)
            code = stop_window(process)
            if code != 0:
                raise SystemExit(f"startup: {command[0]} exited with {code} on SIGTERM")
            times.append(elapsed)
    return times


def main(argv: list[str] | None = None) -> int:
    """Measure and print medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "inspector" / "inspector")
    parser.add_argument("--venv", type=Path, default=Path(sys.executable).parent / "inspector")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    commands = {label: [str(path)] for label, path in (("venv", args.venv),
                                                        ("bundle", args.bundle))
                if path.exists()}
    times: dict[str, list[float]] = {label: [] for label in commands}
    with virtual_display() as display:
        for command in commands.values():
            measure(command, 1, display)  # warm the page cache: both start equal
        for _ in range(args.repeat):  # alternated, so both see the same machine load
            for label, command in commands.items():
                times[label] += measure(command, 1, display)
    results = {label: statistics.median(runs) for label, runs in times.items()}
    for label, runs in times.items():
        print(f"{label:<7} {commands[label][0]}: median {results[label]:.2f} s to the window "
              f"shown (runs: {', '.join(f'{t:.2f}' for t in runs)})")
    if len(results) == 2:
        print(f"bundle/venv: {results['bundle'] / results['venv']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
