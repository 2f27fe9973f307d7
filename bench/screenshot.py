"""Render the window after ``inspector --demo`` with the invalid ``Product Viewed`` selected
(its problem entry readable), at a given size; the README's picture is the default.

    python bench/screenshot.py [docs/screenshot.png] [--size 1480x900]

Runs offscreen (no display needed) on a screen of that size, so the window fits itself to it
exactly as on a real screen of that size; the picture is Qt's own ``grab()``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("target", nargs="?", default="docs/screenshot.png")
    parser.add_argument("--size", default="1480x900", help="screen size, WIDTHxHEIGHT")
    parser.add_argument("--tab", choices=("plan", "audit", "people", "flows"), default="plan",
                        help="the side tab to show; audit also selects the backend's identify "
                        "(its audit findings in the detail pane); flows runs guest-checkout "
                        "and subscription-cancel over the demo and selects the failed step")
    parser.add_argument("--audit", metavar="FILE",
                        help="an audit configuration (e.g. with environments, whose bands and "
                        "status-bar entry then show)")
    parser.add_argument("--fill", action="store_true",
                        help="resize the window to the whole screen (as maximised)")
    options = parser.parse_args()
    width, height = (int(part) for part in options.size.split("x"))
    # The offscreen platform's screen is 800x600 unless told otherwise (a config file).
    scratch = Path(tempfile.mkdtemp())
    config = scratch / "offscreen.json"
    config.write_text('{"screens": [{"name": "shot", "x": 0, "y": 0, '
                      f'"width": {width}, "height": {height}, "logicalDpi": 96}}]}}')
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"

    import qasync
    from PySide6.QtCore import QCoreApplication, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    target = Path(options.target)
    QCoreApplication.setOrganizationName("inspector-screenshot")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch))
    app = QApplication(sys.argv[:1])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    from inspector.gui.app import build_window
    from inspector.gui.models.event_table import Column

    args = argparse.Namespace(db=str(scratch / "db.sqlite3"), host="127.0.0.1", port=0,
                              session="Checkout QA", plan=None, demo=True,
                              audit=options.audit)
    window = build_window(args)
    assert window is not None
    if options.fill:
        window.resize(width, height)
    window.show()
    done = asyncio.Event()

    def shoot() -> None:
        model = window.model
        if options.tab == "plan":
            row = next(r for r in range(model.rowCount())
                       if model.index(r, Column.NAME).data() == "Product Viewed")
            window.table.selectRow(row)
            window.detail.focus_field(window.detail.violations.violation(0).field)
        elif options.tab == "flows":  # the demo's browser Order Completed, failed
            window.flows_dock.raise_()
            panel = window.flows_view.panel
            panel.view.expandAll()
            flow = panel.model.index(0, 0)
            failed = next(panel.model.index(r, 0, flow) for r in range(panel.model.rowCount(
                flow)) if str(panel.model.step(panel.model.index(r, 0, flow)).status)
                == "failed")
            from inspector.core.flows.runs import report_run_id

            run = window.flows_view.shown
            step = panel.model.step(failed)
            if run is not None and step is not None:  # a tester's note on it (notes block)
                step_key = f"{report_run_id(run, 'guest-checkout')}:{step.name}"
                window.notes.add(run.session_id, "step", step_key,
                                 "Order Completed still comes from analytics.js on web: "
                                 "server-side tracking not deployed to staging yet", "fail")
            panel.view.setCurrentIndex(failed)
            panel.view.clicked.emit(failed)
        else:
            getattr(window, f"{options.tab}_dock").raise_()
            if options.tab == "audit":  # a drift finding: its variants side by side
                panel = window.audit_view.audit_panel
                areas = [panel.model.index(r, 0) for r in range(panel.model.rowCount())]
                checks = [panel.model.index(r, 0, area) for area in areas
                          for r in range(panel.model.rowCount(area))]
                drift = next((c for c in checks
                              if panel.model.check_id(c) == "drift.property_type"
                              and panel.model.rowCount(c)), checks[0])
                panel.view.expand(drift)
                panel.view.setCurrentIndex(panel.model.index(0, 0, drift))
                panel.view.scrollTo(drift)
            row = next(r for r in range(model.rowCount())
                       if model.index(r, Column.USER_ID).data() == "8412")
            window.table.selectRow(row)
        window.table.setFocus()
        QTimer.singleShot(300, lambda: (window.grab().save(str(target)), done.set()))

    shot: list[bool] = []

    def once() -> None:
        if not shot:
            shot.append(True)
            QTimer.singleShot(500, shoot)

    def audited() -> None:
        if options.tab == "flows":
            window.flows_view.sig_updated.connect(lambda _id: once())
            flows = ["guest-checkout", "subscription-cancel"]
            window.flows_view.panel.set_chosen(flows)
            window.flows_view.start(flows, after_event_id=0)
            return
        window.audit_view.sig_updated.connect(lambda _id: once())
        window.audit_view.refresh_now()

    window.sig_demo_finished.connect(lambda _n: QTimer.singleShot(800, audited))
    QTimer.singleShot(30000, done.set)
    with loop:
        loop.run_until_complete(done.wait())
        window.close()
    print(f"saved {target} ({window.width()}x{window.height()})" if target.exists()
          else "no screenshot taken")
    return 0 if target.exists() else 1


if __name__ == "__main__":
    raise SystemExit(main())
