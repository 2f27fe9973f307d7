"""Running ``inspector serve`` as a real child process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

_URL = re.compile(r"^inspector (http://\S+)")


def start_serve(db_path: Path, *extra: str, env: dict[str, str] | None = None,
                preexec_fn: Callable[[], None] | None = None,
                ) -> tuple[subprocess.Popen[str], str]:
    """Start ``inspector serve --port 0`` and return the process and its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "inspector", "serve", "--port", "0", "--db", str(db_path), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}, preexec_fn=preexec_fn,
    )
    assert process.stdout is not None
    first = process.stdout.readline()  # blocks until the server has bound its port
    match = _URL.match(first)
    if match is None:
        process.kill()
        _, err = process.communicate()
        raise AssertionError(f"serve did not start: {first!r} {err!r}")
    return process, match.group(1)
