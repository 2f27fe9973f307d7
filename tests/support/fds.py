"""The file descriptors this process holds open on a file (Linux's /proc/self/fd)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest


def can_count_fds() -> bool:
    """Whether this process's descriptors are listed in /proc/self/fd (Linux)."""
    return sys.platform.startswith("linux") and os.path.isdir("/proc/self/fd")


#: Skip a test that counts file descriptors where /proc/self/fd does not list them.
needs_proc_fd = pytest.mark.skipif(
    not can_count_fds(), reason="counts open file descriptors through /proc/self/fd (Linux)")


def open_fds(path: Path) -> list[str]:
    """The targets of this process's descriptors open on ``path`` or a file beside it whose
    name continues it (SQLite's ``-wal`` and ``-shm``)."""
    prefix = str(path.resolve())
    targets = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed since listed (the listing's own descriptor, another thread's)
            continue
        if target.startswith(prefix):
            targets.append(target)
    return targets
