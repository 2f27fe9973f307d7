"""The collector settings long-running processes apply after start-up."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from inspector.core.gc_tuning import CAPTURE_YOUNG_THRESHOLD, settle_garbage_collector


@pytest.fixture
def restore_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restore_gc")
def test_start_up_objects_are_frozen_and_young_passes_spaced() -> None:
    survivor = [object()]  # alive at "start-up": must end up frozen, not collected
    settle_garbage_collector(young_threshold=CAPTURE_YOUNG_THRESHOLD)
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == CAPTURE_YOUNG_THRESHOLD
    assert not gc.is_tracked(survivor) or survivor not in gc.get_objects(generation=2)


@pytest.mark.usefixtures("restore_gc")
def test_the_window_keeps_the_default_young_threshold() -> None:
    before = gc.get_threshold()
    settle_garbage_collector()
    assert gc.get_threshold() == before
