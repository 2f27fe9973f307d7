from __future__ import annotations

from typing import Any

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QPlainTextEdit

from inspector.gui.widgets.status_bar import StatusBar, client_snippets


def test_snippets_point_each_client_at_the_endpoint() -> None:
    snippets = client_snippets("http://127.0.0.1:9999")
    assert 'analytics.host = "http://127.0.0.1:9999"' in snippets["analytics-python"]
    assert "host: 'http://127.0.0.1:9999'" in snippets["analytics-node"]
    assert "apiHost: '127.0.0.1:9999/v1'" in snippets["analytics-next"]
    assert "protocol: 'http'" in snippets["analytics-next"]


def test_copy_url_snippet_dialog_and_counters(qtbot: Any) -> None:
    bar = StatusBar()
    qtbot.addWidget(bar)
    bar.set_endpoint(None)
    assert not bar.copy_button.isEnabled()
    bar.set_endpoint("http://127.0.0.1:8787")
    assert bar.url_label.text() == "Listening on http://127.0.0.1:8787"
    bar.copy_button.click()
    assert QGuiApplication.clipboard().text() == "http://127.0.0.1:8787"
    dialog = bar.show_snippet("analytics-node")
    qtbot.addWidget(dialog)
    text = dialog.findChild(QPlainTextEdit, "snippetText").toPlainText()
    assert "@segment/analytics-node" in text
    bar.reset_counts({"valid": 3})
    bar.count(["invalid", "invalid", "valid"])
    assert bar.counts()["invalid"] == 2
    # Labels follow at most 4 times a second.
    qtbot.waitUntil(lambda: bar.status_labels["valid"].text() == "✓ 4", timeout=2000)
    assert bar.status_labels["invalid"].text() == "✕ 2"
    bar._on_tick()
    assert bar.chart.samples[-1] == 3
    assert bar.counters.text() == "3 ev/s"
