"""The status bar: endpoint URL with copy and client snippets, live counters, a rate chart."""

from __future__ import annotations

import html
import time
from collections import deque

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QProgressBar,
    QStatusBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from inspector.core.model import Status
from inspector.gui.theme import STATUS_COLORS, STATUS_GLYPHS, STATUS_LABELS
from inspector.gui.widgets._util import named

__all__ = ["RateChart", "StatusBar", "client_snippets"]


def client_snippets(base_url: str, write_key: str = "YOUR_WRITE_KEY") -> dict[str, str]:
    """How to point each Segment client library at ``base_url``."""
    host = base_url.split("://", 1)[-1]
    return {
        "analytics-python": (
            "import segment.analytics as analytics\n\n"
            f'analytics.write_key = "{write_key}"\n'
            f'analytics.host = "{base_url}"\n'
            'analytics.track("user-1", "Order Completed", {"order_id": "o-1", "total": 42})\n'
            "analytics.flush()\n"
        ),
        "analytics-node": (
            "import { Analytics } from '@segment/analytics-node'\n\n"
            f"const analytics = new Analytics({{ writeKey: '{write_key}', host: '{base_url}' }})\n"
            "analytics.track({ userId: 'user-1', event: 'Order Completed' })\n"
        ),
        "analytics-next": (
            "import { AnalyticsBrowser } from '@segment/analytics-next'\n\n"
            "export const analytics = AnalyticsBrowser.load(\n"
            f"  {{ writeKey: '{write_key}', cdnURL: '{base_url}' }},\n"
            f"  {{ integrations: {{ 'Segment.io': {{ apiHost: '{host}/v1', protocol: "
            f"'{base_url.split('://', 1)[0]}' }} }} }}\n"
            ")\n"
        ),
    }


class RateChart(QWidget):
    """Events per second over the last minute, as a small filled line."""

    def __init__(self, seconds: int = 60, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.samples: deque[int] = deque([0] * seconds, maxlen=seconds)
        self.setFixedSize(120, 18)
        self.setToolTip("Events per second, last minute")

    def push(self, value: int) -> None:
        """Add one second's count."""
        self.samples.append(value)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        peak = max(max(self.samples), 1)
        step = rect.width() / max(len(self.samples) - 1, 1)
        points = [
            QPointF(rect.left() + i * step, rect.bottom() - rect.height() * value / peak)
            for i, value in enumerate(self.samples)
        ]
        color = self.palette().highlight().color()
        fill = QColor(color)
        fill.setAlpha(60)
        area = QPolygonF([QPointF(rect.left(), rect.bottom()), *points,
                          QPointF(rect.right(), rect.bottom())])
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawPolygon(area)
        painter.setPen(QPen(color, 1.2))
        painter.drawPolyline(QPolygonF(points))
        painter.end()


class StatusBar(QStatusBar):
    """Endpoint, counters and the rate chart."""

    sig_copy_url = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.base_url = ""
        self.url_label = named(QLabel("Capture stopped"), "endpointLabel")
        self.url_label.setTextFormat(Qt.TextFormat.PlainText)
        self.url_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_button = named(QToolButton(), "copyUrlButton")
        self.copy_button.setText("Copy")
        self.copy_button.setToolTip("Copy the endpoint URL")
        self.copy_button.clicked.connect(self.copy_url)
        self.snippet_button = named(QToolButton(), "snippetButton")
        self.snippet_button.setText("Point your client here ▾")
        self.snippet_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.snippet_button)
        for name in ("analytics-python", "analytics-node", "analytics-next"):
            menu.addAction(name, lambda n=name: self.show_snippet(n))
        self.snippet_button.setMenu(menu)
        self.counters = named(QLabel(""), "countersLabel")
        self.counters.setTextFormat(Qt.TextFormat.PlainText)
        # Room for any rate up front: a changing rate never relayouts the bar or gets cut off.
        self.counters.setMinimumWidth(self.counters.fontMetrics().horizontalAdvance("00000 ev/s"))
        self.status_labels: dict[str, QLabel] = {}
        #: Work running off the GUI thread (opening a session's counts, export, ...).
        self.busy = named(QProgressBar(), "busyIndicator")
        self.busy.setRange(0, 0)  # indeterminate
        self.busy.setTextVisible(False)
        self.busy.setMaximumWidth(80)
        self.busy.setMaximumHeight(self.fontMetrics().height())
        self.busy.hide()
        self.busy_label = named(QLabel(""), "busyLabel")
        self.busy_label.setTextFormat(Qt.TextFormat.PlainText)
        self.busy_label.hide()
        self._snippet_dialog: QDialog | None = None
        # Permanent widgets stay visible while temporary messages show on the left.
        self.addPermanentWidget(self.busy_label)
        self.addPermanentWidget(self.busy)
        self.addPermanentWidget(self.url_label)
        self.addPermanentWidget(self.copy_button)
        self.addPermanentWidget(self.snippet_button)
        self.addPermanentWidget(self.counters)
        for status in Status:
            label = named(QLabel(), f"count:{status}")
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setStyleSheet(f"color: {STATUS_COLORS[status]}; font-weight: bold;")
            label.setToolTip(STATUS_LABELS[status])
            self.status_labels[str(status)] = label
            self.addPermanentWidget(label)
        self.chart = RateChart()
        self.addPermanentWidget(self.chart)
        #: The session's environments (hidden while the audit configuration defines none).
        self.environment_label = named(QLabel(), "environmentLabel")
        self.environment_label.setTextFormat(Qt.TextFormat.RichText)
        self.environment_label.hide()
        self.insertPermanentWidget(0, self.environment_label)
        self._counts: dict[str, int] = {str(s): 0 for s in Status}
        self._this_second = 0
        self._rate = 0
        self._last_tick = time.monotonic()
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._on_tick)
        self._tick.start()
        # Live counts are shown at most 4 times a second: each label's new text relayouts and
        # repaints the whole status bar, which per drain cost more than the counting itself.
        self._render_soon = QTimer(self)
        self._render_soon.setSingleShot(True)
        self._render_soon.setInterval(250)
        self._render_soon.timeout.connect(self._render_counters)
        self._render_counters()

    def set_endpoint(self, base_url: str | None, note: str = "") -> None:
        """Show where clients should send events (``None``: capture is stopped)."""
        self.base_url = base_url or ""
        if base_url:
            self.url_label.setText(f"Listening on {base_url}{note}")
        else:
            self.url_label.setText(f"Capture stopped{note}")
        self.copy_button.setEnabled(bool(base_url))
        self.snippet_button.setEnabled(bool(base_url))

    def set_environments(self, environments: list[tuple[str, str]], unlisted: int = 0,
                         *, configured: bool = True) -> None:
        """Show the session's environments as ``(name, colour)`` pairs, and how many of its
        write keys are in none (``configured=False``: no environments, nothing shown)."""
        label = self.environment_label
        label.setVisible(configured)
        if not configured:
            return
        parts = [f'<span style="color: {colour}">■</span> {html.escape(name)}'
                 for name, colour in environments]
        if unlisted:
            parts.append(f"? {unlisted} unlisted key{'s' * (unlisted > 1)}")
        word = "Environments" if len(environments) > 1 else "Environment"
        text = f"{word}: {' + '.join(parts)}" if parts else "Environment: none yet"
        if len(environments) > 1:
            text = f"⚠ {text}"
        _set_text(label, text)
        names = [name for name, _ in environments]
        label.setToolTip(
            "Write keys of this session belong to " + (", ".join(names) or "no environment")
            + (f"; {unlisted} belong to none" if unlisted else "")
            + (": several environments in one session" if len(environments) > 1 else ""))

    def copy_url(self) -> None:
        """Copy the endpoint URL to the clipboard."""
        if self.base_url:
            QGuiApplication.clipboard().setText(self.base_url)
            self.showMessage("Endpoint URL copied", 2000)

    def set_busy(self, text: str | None) -> None:
        """Show that work runs in the background (``None``: nothing does)."""
        self.busy.setVisible(text is not None)
        self.busy_label.setVisible(text is not None)
        self.busy_label.setText(text or "")

    def show_snippet(self, name: str) -> QDialog:
        """The dialog with the snippet for ``name`` and a copy button (one dialog, reused:
        choosing another snippet while it is open shows that one in it)."""
        text = client_snippets(self.base_url or "http://127.0.0.1:8787")[name]
        dialog = self._snippet_dialog
        if dialog is None:
            dialog = self._snippet_dialog = named(QDialog(self), "snippetDialog")
            edit = named(QPlainTextEdit(), "snippetText")
            edit.setReadOnly(True)
            buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
            copy = buttons.addButton("Copy", QDialogButtonBox.ButtonRole.ActionRole)
            copy.clicked.connect(self._copy_snippet)
            buttons.rejected.connect(dialog.reject)
            layout = QVBoxLayout(dialog)
            layout.addWidget(edit)
            layout.addWidget(buttons)
            dialog.resize(560, 220)
        dialog.setWindowTitle(f"Point {name} at inspector")
        shown = dialog.findChild(QPlainTextEdit, "snippetText")
        assert shown is not None
        shown.setPlainText(text)
        dialog.show()
        dialog.raise_()
        return dialog

    def _copy_snippet(self) -> None:
        if self._snippet_dialog is not None:
            edit = self._snippet_dialog.findChild(QPlainTextEdit, "snippetText")
            assert edit is not None
            QGuiApplication.clipboard().setText(edit.toPlainText())
            self.showMessage("Snippet copied", 2000)

    def reset_counts(self, counts: dict[str, int]) -> None:
        """Start the per-status counters from a session's stored counts."""
        self._counts = {str(s): counts.get(str(s), 0) for s in Status}
        self._render_counters()

    def count(self, statuses: list[str]) -> None:
        """Add live events to the counters."""
        for status in statuses:
            self._counts[status] = self._counts.get(status, 0) + 1
        self._this_second += len(statuses)
        if not self._render_soon.isActive():
            self._render_soon.start()

    def counts(self) -> dict[str, int]:
        """Per-status counters."""
        return dict(self._counts)

    def _on_tick(self) -> None:
        self._rate = self._this_second
        self._this_second = 0
        self.chart.push(self._rate)
        self._render_counters()

    def _render_counters(self) -> None:
        self._render_soon.stop()
        _set_text(self.counters, f"{self._rate} ev/s")
        for status in Status:
            count = self._counts.get(str(status), 0)
            _set_text(self.status_labels[str(status)], f"{STATUS_GLYPHS[status]} {count}")


def _set_text(label: QLabel, text: str) -> None:
    """``setText`` only when the text changes (an unchanged one still relayouts the bar)."""
    if label.text() != text:
        label.setText(text)
