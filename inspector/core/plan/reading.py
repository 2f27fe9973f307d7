"""Reading a plan the server is asked to load: regular files only, bounded, off the loop.

``POST /inspector/api/plan`` and ``revalidate`` take a path from whoever calls the API, and
``serve --plan`` and its watcher re-read one: a device (``/dev/zero``), a FIFO or
``/dev/stdin`` would grow memory without end or park a thread for ever. So a plan is read only
from a regular file (checked with ``stat`` before opening, and again on the open descriptor,
which is opened non-blocking so a FIFO swapped in between cannot block), at most
:data:`MAX_PLAN_BYTES`, and the async reader gives up after :data:`PLAN_READ_TIMEOUT` seconds.

Every failure to open or read says the same thing, naming only the path the caller gave: the
message is no oracle for which paths exist or what they are.
"""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

from inspector.core.plan.compile import CompiledPlan, compile_plan
from inspector.core.plan.errors import PlanError
from inspector.core.plan.formats import load_bytes

__all__ = ["MAX_PLAN_BYTES", "MAX_PLAN_TEXT", "PLAN_READ_TIMEOUT", "load_plan_file",
           "plan_from_bytes", "read_plan_file", "read_plan_file_async"]

#: The largest plan read or uploaded. Public API exports with hundreds of rules are ~1-5 MB.
MAX_PLAN_BYTES = 20 * 1024 * 1024
#: :data:`MAX_PLAN_BYTES` for messages.
MAX_PLAN_TEXT = "20 MiB"
#: Seconds the async reader waits (a regular file on a hung network mount can still block).
PLAN_READ_TIMEOUT = 10.0

_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_BINARY", 0))
_CHUNK = 1024 * 1024


def _unreadable(shown: str) -> PlanError:
    return PlanError(f"cannot read plan {shown} (a plan must be a regular file inspector can "
                     f"read, at most {MAX_PLAN_TEXT})")


def too_large(shown: str) -> PlanError:
    """The error for a plan over :data:`MAX_PLAN_BYTES`."""
    return PlanError(f"plan {shown} is larger than the {MAX_PLAN_TEXT} limit")


def read_plan_file(path: str | Path, *, limit: int = MAX_PLAN_BYTES) -> bytes:
    """The bytes of the regular file ``path`` (at most ``limit``); PlanError otherwise."""
    shown = str(path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise _unreadable(shown)
        descriptor = os.open(path, _OPEN_FLAGS)
    except (OSError, ValueError):  # ValueError: a path with a NUL byte
        raise _unreadable(shown) from None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):  # replaced between the stat and the open
            raise _unreadable(shown)
        if info.st_size > limit:
            raise too_large(shown)
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(descriptor, min(_CHUNK, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # grew while being read
                raise too_large(shown)
        return b"".join(chunks)
    except OSError:
        raise _unreadable(shown) from None
    finally:
        os.close(descriptor)


async def read_plan_file_async(path: str | Path, *,
                               timeout: float = PLAN_READ_TIMEOUT) -> bytes:
    """:func:`read_plan_file` in a worker thread, giving up after ``timeout`` seconds."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(read_plan_file, path), timeout)
    except TimeoutError:
        raise PlanError(f"cannot read plan {path}: no answer after {timeout:g} s") from None


def plan_from_bytes(raw: bytes, source: str) -> CompiledPlan:
    """Parse and compile a plan's bytes (at most :data:`MAX_PLAN_BYTES`), ready to validate."""
    if len(raw) > MAX_PLAN_BYTES:
        raise too_large(source)
    return compile_plan(load_bytes(raw, source=source))


def load_plan_file(path: str | Path) -> CompiledPlan:
    """Read (bounded, regular files only) and compile a plan file, ready to validate."""
    return plan_from_bytes(read_plan_file(path), str(path))
