"""The fixture that fails a test leaving a thread running (tests/conftest.py) really does."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ("pytester",)


def test_a_test_that_leaks_a_thread_fails_and_one_that_joins_passes(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In a child pytest: the leaked thread must not outlive it into this one.
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
    pytester.makeconftest("from tests.conftest import _no_leaked_threads  # noqa: F401\n")
    pytester.makepyfile(
        """
        import threading

        def test_leaks():
            never = threading.Event()
            threading.Thread(target=never.wait, name="leaky", daemon=True).start()

        def test_joins():
            done = threading.Event()
            thread = threading.Thread(target=done.wait, name="tidy")
            thread.start()
            done.set()  # told to stop: ending within the grace is not a leak
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    # The leaking test passes its body and errors in teardown; the tidy one passes.
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*the test leaked running threads: leaky*"])
