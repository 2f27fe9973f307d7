"""Cyclic garbage-collector settings for inspector's long-running processes.

Captured traffic is parsed into many short-lived dicts and lists (a 100-event batch is a few
thousand containers). Reference counting frees them all as soon as a request is done, since JSON
has no cycles, but each allocation still counts towards the cyclic collector's next pass, which
then walks every young object, and every tenth of those the older ones too.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["CAPTURE_YOUNG_THRESHOLD", "collector_paused", "settle_garbage_collector"]

#: Allocations between young-generation passes in a capture process (CPython's default: 700).
#: bench: ``Ingestor.process`` on 100-event batches spends ~10% of its time in the collector at
#: 700, ~0 at this value; the memory a pass can free is only cyclic garbage, which capture makes
#: little of.
CAPTURE_YOUNG_THRESHOLD = 20_000


def settle_garbage_collector(*, young_threshold: int | None = None) -> None:
    """Move everything alive after start-up out of the cyclic collector's reach.

    Modules, classes, functions and GUI wrappers loaded at start-up (hundreds of thousands of
    objects) live as long as the process, yet every full collection walked them all again:
    bench/gui_live.py found one such collection (55-111 ms) behind the window's longest stall.
    Frozen, they are never walked; full collections then cover what the session creates.
    ``young_threshold`` also spaces out young-generation passes (see the module docstring).
    """
    gc.collect()
    gc.freeze()
    if young_threshold is not None:
        _, middle, old = gc.get_threshold()
        gc.set_threshold(young_threshold, middle, old)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection for the length of a batch job that builds long-lived, acyclic
    data (an audit of a stored session: people, trait histories, findings).

    bench/audit.py: with the collector on, a third of the audit's time went to full passes
    walking the growing graph again and again; the data has no cycles to free. Process-wide
    while it lasts (the collector's switch is global), restored on exit.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
