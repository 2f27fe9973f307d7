"""The detail pane: violations, the tester's notes, payload (tree and pretty text, offending
fields highlighted), the raw request and the event's context.

Everything from the payload is shown as plain text: labels are forced to ``PlainText`` and the
text views are ``QPlainTextEdit``, so a payload holding ``<b>`` or ``<img src=…>`` is displayed,
never rendered.
"""

from __future__ import annotations

import gzip
import zlib
from datetime import UTC, datetime
from typing import Any

import orjson
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFontDatabase,
    QResizeEvent,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QTabWidget,
    QTextEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inspector.core.audit import Finding
from inspector.core.model import EventRecord
from inspector.core.pretty import PrettyJson, field_path, pretty_json
from inspector.core.timeutil import parse_timestamp
from inspector.core.wording import problem_summary
from inspector.gui.models.detail import ViolationsModel
from inspector.gui.theme import STATUS_LABELS, status_color
from inspector.gui.widgets._util import named
from inspector.gui.widgets.notes_panel import NotesPanel
from inspector.gui.widgets.problem_list import ProblemList

__all__ = ["EventDetail", "decode_body"]


def _plain_label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    return label


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def decode_body(body: bytes | None, headers: dict[str, Any]) -> tuple[str, str]:
    """The request body as text, and a note on how it was encoded."""
    if body is None:
        return "", "no body"
    encoding = ""
    for key, value in headers.items():
        if key.lower() == "content-encoding":
            encoding = str(value).lower()
    raw = body
    note = f"{len(body)} bytes"
    if encoding == "gzip" or body[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(body)
            note += f", gzip → {len(raw)} bytes"
        except (OSError, EOFError):
            note += ", gzip (could not decompress)"
    elif encoding == "deflate":
        try:
            raw = zlib.decompress(body)
            note += f", deflate → {len(raw)} bytes"
        except zlib.error:
            note += ", deflate (could not decompress)"
    return raw.decode("utf-8", errors="replace"), note


class EventDetail(QWidget):
    """Everything about one event."""

    #: A violation was clicked: its field path (empty for the whole event).
    sig_field_focused = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._record: EventRecord | None = None
        self._pretty: PrettyJson | None = None
        self._tree_items: dict[tuple[str, ...], QTreeWidgetItem] = {}

        self.title = _plain_label("Select an event")
        self.title.setObjectName("detailTitle")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.title.setFont(font)

        self.violations = ViolationsModel(self)
        self.problems = named(ProblemList(self.violations), "problemList")
        self.problems.sig_problem_clicked.connect(self._on_problem_clicked)

        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.tree = named(QTreeWidget(), "payloadTree")
        self.tree.setHeaderLabels(["Field", "Value"])
        self.tree.setUniformRowHeights(True)
        self.tree.setColumnWidth(0, 150)
        # The value column takes what the field column leaves (it was ~0 px wide: the last
        # section only stretched to the header's own tiny default).
        tree_header = self.tree.header()
        tree_header.setStretchLastSection(True)
        tree_header.setMinimumSectionSize(60)
        self.tree.setMinimumWidth(220)
        self.text = named(QPlainTextEdit(), "payloadText")
        self.text.setReadOnly(True)
        self.text.setFont(mono)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        payload_split = QSplitter(Qt.Orientation.Horizontal)
        payload_split.addWidget(self.tree)
        payload_split.addWidget(self.text)
        payload_split.setChildrenCollapsible(False)
        payload_split.setStretchFactor(0, 1)
        payload_split.setStretchFactor(1, 1)
        payload_split.setSizes([300, 300])
        self.payload_split = payload_split

        self.raw = named(QPlainTextEdit(), "rawRequest")
        self.raw.setReadOnly(True)
        self.raw.setFont(mono)

        self.context = named(QWidget(), "contextPane")
        self.context_form = QFormLayout(self.context)
        self._context_labels: dict[str, QLabel] = {}
        for key in ("Library", "Page", "User agent", "IP", "timestamp", "sentAt",
                    "originalTimestamp", "Received", "Clock skew", "messageId", "Source"):
            label = _plain_label()
            label.setObjectName(f"context:{key}")
            self._context_labels[key] = label
            self.context_form.addRow(_plain_label(key), label)

        self.tabs = named(QTabWidget(), "detailTabs")
        self.tabs.addTab(payload_split, "Payload")
        self.tabs.addTab(self.raw, "Raw request")
        self.tabs.addTab(self.context, "Context")

        split = named(QSplitter(Qt.Orientation.Vertical), "detailSplitter")
        self.split = split
        split.addWidget(self.problems)
        split.addWidget(self.tabs)
        split.setChildrenCollapsible(False)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setSizes([220, 330])

        #: The tester's notes on the event shown (attached to a store by the window).
        self.notes = named(NotesPanel(), "notesPanel")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.notes)
        layout.addWidget(split)

    # ---- public API

    @property
    def record(self) -> EventRecord | None:
        """The event shown."""
        return self._record

    def show_findings(self, findings: list[Finding]) -> None:
        """The audit findings that name the event shown (after its violations)."""
        self.problems.set_findings(findings)
        self._fit_problems()
        # New entries have their real height only once laid out: fit again then.
        QTimer.singleShot(0, self._fit_problems)

    def clear(self) -> None:
        """Show nothing."""
        self._record = None
        self.notes.clear()
        self.problems.set_findings([])
        self.title.setText("Select an event")
        self.violations.set_violations([], "not_validated")
        self.problems.set_empty_text("")
        self.tree.clear()
        self._tree_items = {}
        self.text.setPlainText("")
        self.raw.setPlainText("")
        for label in self._context_labels.values():
            label.setText("")

    def show_event(
        self, record: EventRecord, request: dict[str, Any] | None, *, corrected: bool = False,
        findings: list[Finding] | None = None,
    ) -> None:
        """Show ``record``, which came in ``request`` (``corrected``: it has a correction,
        shown in the Edit tab; the Payload tab always shows the original), with the audit
        ``findings`` that name it."""
        self._record = record
        # Before the violations reset the list, so it never shows the last event's findings.
        self.problems.set_findings(findings or [], rebuild=False)
        status_label = STATUS_LABELS.get(record.status, str(record.status))
        summary = problem_summary(record.violations)
        suffix = f" — {summary}" if summary else ""
        mark = "  ✎ corrected" if corrected else ""
        self.title.setText(
            f"{record.type or '?'}  {record.name or ''}  [{status_label}{suffix}]{mark}"
        )
        palette = self.title.palette()
        palette.setColor(self.title.foregroundRole(), status_color(record.status))
        self.title.setPalette(palette)
        self.violations.set_violations(record.violations, str(record.status))
        self.problems.set_empty_text(
            "No problems: the event matches the plan." if record.status == "valid"
            else "No problems recorded for this event."
        )
        self._fit_problems()
        QTimer.singleShot(0, self._fit_problems)  # again once the entries are laid out
        payload = record.payload if record.payload is not None else {}
        self._pretty = pretty_json(payload)
        self.text.setPlainText(self._pretty.text)
        self._fill_tree(payload)
        self._highlight()
        self._fill_raw(request)
        self._fill_context(record, payload, request)

    #: Below this width the payload tree and text are stacked, not side by side: side by side
    #: in a narrow pane, the tree's value column had next to no room.
    STACK_BELOW = 640

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        wanted = (Qt.Orientation.Vertical if event.size().width() < self.STACK_BELOW
                  else Qt.Orientation.Horizontal)
        if self.payload_split.orientation() != wanted:
            self.payload_split.setOrientation(wanted)
        self._fit_problems()

    def _fit_problems(self) -> None:
        """Give the problems list the height its entries need (at most half the pane), the
        payload the rest."""
        total = sum(self.split.sizes())
        if total <= 0:
            return
        wanted = self.problems.content_height() + 2 * self.problems.frameWidth()
        top = max(48, min(wanted, total // 2))
        self.split.setSizes([top, total - top])

    def focus_field(self, field: str) -> None:
        """Select ``field`` in the tree and put the text cursor on its lines."""
        path = field_path(field)
        item = None
        probe = path
        while probe and item is None:
            item = self._tree_items.get(probe)
            probe = probe[:-1]
        if item is not None:
            self.tree.setCurrentItem(item)
            self.tree.scrollToItem(item)
        if self._pretty is not None:
            span = self._pretty.span_for(field)
            if span is not None:
                block = self.text.document().findBlockByNumber(span[0])
                cursor = QTextCursor(block)
                self.text.setTextCursor(cursor)
                self.text.centerCursor()
        self.tabs.setCurrentIndex(0)
        self.sig_field_focused.emit(field)

    def highlighted_lines(self) -> dict[int, QColor]:
        """Line number → highlight colour in the pretty text (for tests)."""
        result: dict[int, QColor] = {}
        for selection in self.text.extraSelections():
            line = selection.cursor.block().blockNumber()
            result[line] = selection.format.background().color()
        return result

    def tree_item(self, field: str) -> QTreeWidgetItem | None:
        """The tree item of ``field`` (for tests)."""
        return self._tree_items.get(field_path(field))

    # ---- internals

    def _fill_tree(self, payload: Any) -> None:
        self.tree.clear()
        self._tree_items = {}

        def add(
            parent: QTreeWidgetItem | None, key: str, value: Any, path: tuple[str, ...]
        ) -> None:
            if isinstance(value, dict):
                shown = f"{{{len(value)}}}"
            elif isinstance(value, list):
                shown = f"[{len(value)}]"
            else:
                # JSON spelling, so a string "12.5" and a number 12.5 look different.
                shown = orjson.dumps(value).decode()
            item = QTreeWidgetItem([key, shown])
            if parent is None:
                self.tree.addTopLevelItem(item)
            else:
                parent.addChild(item)
            self._tree_items[path] = item
            if isinstance(value, dict):
                for child_key, child in value.items():
                    add(item, str(child_key), child, (*path, str(child_key)))
            elif isinstance(value, list):
                for position, child in enumerate(value):
                    add(item, str(position), child, (*path, str(position)))

        if isinstance(payload, dict):
            for key, value in payload.items():
                add(None, str(key), value, (str(key),))
        self.tree.expandToDepth(1)

    def _highlight(self) -> None:
        selections: list[QTextEdit.ExtraSelection] = []
        if self._pretty is None:
            return
        for row in range(self.violations.rowCount()):
            violation = self.violations.violation(row)
            brush = self.violations.color(row)
            color = QColor(brush.color())
            tint = QColor(color)
            tint.setAlpha(70)
            span = self._pretty.span_for(violation.field)
            if span is not None:
                for line in range(span[0], span[1] + 1):
                    block = self.text.document().findBlockByNumber(line)
                    selection = QTextEdit.ExtraSelection()
                    selection.cursor = QTextCursor(block)
                    selection.format.setBackground(QBrush(tint))
                    selection.format.setProperty(
                        QTextFormat.Property.FullWidthSelection, True
                    )
                    selections.append(selection)
            path = field_path(violation.field)
            while path and path not in self._tree_items:
                path = path[:-1]
            item = self._tree_items.get(path)
            if item is not None:
                for column in (0, 1):
                    item.setBackground(column, QBrush(tint))
                item.setForeground(0, brush)
                parent = item.parent()
                while parent is not None:
                    parent.setExpanded(True)
                    parent = parent.parent()
        self.text.setExtraSelections(selections)

    def _fill_raw(self, request: dict[str, Any] | None) -> None:
        if request is None:
            self.raw.setPlainText("(the raw request is not available)")
            return
        headers: dict[str, Any] = request.get("headers") or {}
        body, note = decode_body(request.get("body"), headers)
        try:
            body = orjson.dumps(orjson.loads(body), option=orjson.OPT_INDENT_2).decode()
            body_title = f"Body ({note}; re-indented for reading)"
        except orjson.JSONDecodeError:
            body_title = f"Body as received ({note})"
        if request.get("body_sha256"):
            # A rejected request keeps only a prefix of its body.
            body_title = (f"Body truncated: the first {len(request.get('body') or b''):,} of "
                          f"{request.get('body_size', 0):,} bytes are kept (SHA-256 of the whole "
                          f"body: {request['body_sha256']})")
        query = f"?{request['query']}" if request.get("query") else ""
        lines = [
            f"{request.get('method', '')} {request.get('path', '')}{query}",
            f"HTTP status returned: {request.get('http_status')}",
            f"From: {request.get('remote_addr') or '?'}",
            f"Write key: {request.get('write_key') or '(none)'}"
            f"  — came from: {request.get('write_key_source') or 'unknown'}",
        ]
        if request.get("error_code"):
            lines.append(f"Error: {request['error_code']}: {request.get('error_message') or ''}")
        if request.get("forward_status") is not None or request.get("forward_error"):
            lines.append(
                f"Forwarded: {request.get('forward_status')} {request.get('forward_error') or ''}"
            )
        lines += ["", "Headers:"]
        lines += [f"  {key}: {value}" for key, value in headers.items()]
        lines += ["", f"{body_title}:", body]
        self.raw.setPlainText("\n".join(lines))

    def _fill_context(
        self, record: EventRecord, payload: dict[str, Any], request: dict[str, Any] | None
    ) -> None:
        context = _dict(payload.get("context"))
        library = _dict(context.get("library"))
        page = _dict(context.get("page"))
        received = datetime.fromtimestamp(record.received_at, UTC)
        sent = parse_timestamp(payload.get("sentAt"))
        skew = ""
        if sent is not None:
            seconds = (received - sent).total_seconds()
            skew = f"{seconds:+.3f} s (received − sentAt)"
            if abs(seconds) > 60:
                skew += "  ⚠ the client's clock looks wrong"
        values = {
            "Library": " ".join(str(library.get(k, "")) for k in ("name", "version")).strip(),
            "Page": "  ".join(str(page[k]) for k in ("title", "url", "path") if page.get(k)),
            "User agent": str(context.get("userAgent", "")),
            "IP": str(context.get("ip", "") or (request or {}).get("remote_addr") or ""),
            "timestamp": str(payload.get("timestamp", "")),
            "sentAt": str(payload.get("sentAt", "")),
            "originalTimestamp": str(payload.get("originalTimestamp", "")),
            "Received": received.astimezone().isoformat(timespec="milliseconds"),
            "Clock skew": skew,
            "messageId": str(payload.get("messageId", "")),
            "Source": record.source_name or record.write_key or "",
        }
        for key, value in values.items():
            self._context_labels[key].setText(value)

    def _on_problem_clicked(self, row: int) -> None:
        self.focus_field(self.violations.violation(row).field)
