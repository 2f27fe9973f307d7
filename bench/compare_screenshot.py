"""Render File > Compare sessions… over two small sessions (the candidate with bench/compare.py's
planted regressions), with a missing property selected, on a screen of the given size.

    python bench/compare_screenshot.py [docs/compare-1280x720.png] [--size 1280x720]

Offscreen (no display needed); the picture is Qt's own ``grab()`` of the window with the
comparison dialog over it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("target", nargs="?", default="docs/compare-1280x720.png")
    parser.add_argument("--size", default="1280x720", help="screen size, WIDTHxHEIGHT")
    options = parser.parse_args()
    width, height = (int(part) for part in options.size.split("x"))
    scratch = Path(tempfile.mkdtemp())
    config = scratch / "offscreen.json"
    config.write_text('{"screens": [{"name": "shot", "x": 0, "y": 0, '
                      f'"width": {width}, "height": {height}, "logicalDpi": 96}}]}}')
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"

    from PySide6.QtCore import QCoreApplication, QSettings
    from PySide6.QtWidgets import QApplication

    from bench.compare import fill
    from inspector.core.compare import Kind
    from inspector.core.store import EventStore
    from inspector.gui.main_window import MainWindow
    from inspector.gui.state import UiState

    QCoreApplication.setOrganizationName("inspector-screenshot")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch))
    app = QApplication(sys.argv[:1])
    store = EventStore(scratch / "db.sqlite3")
    fill(store, "Release 41 (production)", 600, 60, regressed=False)
    fill(store, "Release 42 (staging)", 600, 60, regressed=True)
    window = MainWindow(store, state=UiState())
    window.resize(width, height)
    window.show()
    window.open_compare()
    dialog = window.compare_dialog
    dialog.setGeometry(0, 0, width, height)
    done: list[bool] = []
    dialog.sig_compared.connect(lambda _comparison: done.append(True))
    dialog.run_compare()
    while not done:
        app.processEvents()
    model = dialog.model
    for group in range(model.rowCount()):
        parent = model.index(group, 0)
        for row in range(model.rowCount(parent)):
            index = model.index(row, 0, parent)
            difference = model.difference(index)
            if difference and difference.kind is Kind.MISSING_PROPERTY:
                dialog.select(index)
                break
    for _ in range(20):
        app.processEvents()
    target = Path(options.target)
    dialog.grab().save(str(target))
    print(f"wrote {target} ({dialog.width()}x{dialog.height()})")
    window.close()
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
