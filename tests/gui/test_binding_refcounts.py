"""Guard against a Qt binding that drops references to None/True/False in callbacks.

PySide6 6.12.0 on Python 3.11 decrements the return value of every Python slot and virtual
override once too often. None and the bools are not immortal before Python 3.12, so a window
that repaints and ticks timers aborts within a minute ("Fatal Python error: none_dealloc").
Found by bench/gui_live.py; pyproject excludes that release. This test fails on a bad binding.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    sig_ping = Signal()


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12")
def test_python_slots_do_not_leak_or_steal_none(qapp: Any) -> None:
    emitter = _Emitter()
    calls: list[int] = []
    emitter.sig_ping.connect(lambda: calls.append(1))
    before_none, before_true = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(200):
        emitter.sig_ping.emit()
    assert len(calls) == 200
    # A few references may come and go; a bad binding loses one per call.
    assert sys.getrefcount(None) > before_none - 50
    assert sys.getrefcount(True) > before_true - 50
