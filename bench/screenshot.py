"""Render docs/screenshot.png: the window after ``inspector --demo`` (offscreen, no display).

    python bench/screenshot.py [docs/screenshot.png]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QSettings, QTimer
from PySide6.QtWidgets import QApplication


def main() -> int:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshot.png")
    scratch = Path(tempfile.mkdtemp())
    QCoreApplication.setOrganizationName("inspector-screenshot")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch))
    app = QApplication(sys.argv[:1])
    from inspector.gui.app import build_window
    from inspector.gui.models.event_table import Column

    args = argparse.Namespace(db=str(scratch / "db.sqlite3"), host="127.0.0.1", port=0,
                              session="Checkout QA", plan=None, demo=True)
    window = build_window(args)
    window.resize(1480, 900)
    window.show()

    def shoot() -> None:
        model = window.model
        row = next(r for r in range(model.rowCount())
                   if model.index(r, Column.NAME).data() == "Product Viewed")
        window.table.selectRow(row)
        window.detail.focus_field(window.detail.violations.violation(0).field)
        window.table.setFocus()
        QTimer.singleShot(200, lambda: (window.grab().save(str(target)), app.quit()))

    window.sig_demo_finished.connect(lambda _n: QTimer.singleShot(600, shoot))
    QTimer.singleShot(20000, app.quit)
    app.exec()
    window.close()
    print(f"saved {target}" if target.exists() else "no screenshot taken")
    return 0 if target.exists() else 1


if __name__ == "__main__":
    raise SystemExit(main())
