"""The command line's rough edges: what --help lists, a closed pipe, a database path that
cannot work."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.core.plan.conftest import FIXTURES

PLAN = str(FIXTURES / "public-api-raw.json")


def _inspector(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "inspector", *args], capture_output=True,
                          text=True, timeout=60, check=False, **kwargs)  # type: ignore[call-overload]


def test_help_lists_the_window_options_the_readme_starts_with() -> None:
    result = _inspector("--help")
    assert result.returncode == 0
    assert "--demo" in result.stdout
    assert "--port N" in result.stdout
    assert "opens the window" in result.stdout


def test_validate_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    events = tmp_path / "events.ndjson"
    call = {"type": "track", "event": "Order Completed", "userId": "u",
            "properties": {"order_id": "o", "total": 1}}
    events.write_text("\n".join(json.dumps({**call, "messageId": f"m{n}"})
                                for n in range(5000)) + "\n")
    # `inspector validate … | head -1`: the reader closes the pipe after one line.
    validate = subprocess.Popen(
        [sys.executable, "-m", "inspector", "validate", "--plan", PLAN, str(events),
         "--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert validate.stdout is not None
    assert validate.stderr is not None
    validate.stdout.readline()
    validate.stdout.close()
    stderr = validate.stderr.read().decode()
    validate.stderr.close()
    validate.wait(timeout=60)
    assert "Traceback" not in stderr
    assert "BrokenPipeError" not in stderr
    assert validate.returncode == 141


def test_serve_names_the_database_path_and_why_it_cannot_open(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    db = blocker / "captures.sqlite3"
    result = _inspector("serve", "--port", "0", "--db", str(db))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"inspector: cannot open the capture database: {blocker} is a file, "
        "so no folder can be made inside it"
    )
    assert "Traceback" not in result.stderr
