"""The core/GUI split, enforced: the core imports and works without Qt."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import inspector.core

ROOT = Path(__file__).resolve().parent.parent

# Runs in a fresh interpreter in which any attempt to import Qt fails loudly.
_BLOCK_QT = """
import importlib, importlib.abc, pkgutil, sys

class BlockQt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PySide6", "shiboken6", "qasync") or name.startswith(
            "inspector.gui"
        ):
            raise ImportError(f"the core imported {name}")
        return None

sys.meta_path.insert(0, BlockQt())
import inspector.core
for module in pkgutil.walk_packages(inspector.core.__path__, "inspector.core."):
    importlib.import_module(module.name)
print("imported", len(list(pkgutil.walk_packages(inspector.core.__path__))))
"""


def test_every_core_module_imports_with_qt_unavailable() -> None:
    result = subprocess.run([sys.executable, "-c", _BLOCK_QT], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    count = len(list(pkgutil.walk_packages(inspector.core.__path__)))
    assert result.stdout.strip() == f"imported {count}"


def test_import_linter_contract_holds() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports)], capture_output=True, text=True, cwd=ROOT,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "The core stays Qt-free KEPT" in result.stdout
