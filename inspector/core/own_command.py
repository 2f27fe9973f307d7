"""How a process of inspector starts another one of itself (the capture child, the background
indexing process)."""

from __future__ import annotations

import sys

__all__ = ["own_command"]


def own_command(subcommand: str) -> list[str]:
    """The command line running inspector's ``subcommand``: ``python -m inspector SUBCOMMAND``
    from an install, or the executable itself with ``SUBCOMMAND`` in a frozen (PyInstaller)
    build, whose executable is inspector's own command line and cannot run ``-m``."""
    if getattr(sys, "frozen", False):
        return [sys.executable, subcommand]
    return [sys.executable, "-m", "inspector", subcommand]
