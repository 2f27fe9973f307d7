"""The Audit panel (checks and findings) and the People panel (who the traffic links).

Both only show results computed in the core (:class:`~inspector.core.audit.live.SessionAudit`)
off the GUI thread; choosing a finding or a person asks the window to show their events.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from inspector.core.audit import Check, Finding, FindingSeverity
from inspector.core.audit.overview import variants_of
from inspector.gui.models.audit import (
    FINDING_COLORS,
    FINDING_GLYPHS,
    SPARKLINE_ROLE,
    FindingsModel,
    PeopleModel,
    VariantsModel,
    build_findings_tree,
)
from inspector.gui.widgets._util import named, side_bar_tree

__all__ = ["AuditPanel", "PeoplePanel", "SparklineDelegate", "VariantsView", "draw_sparkline",
           "findings_summary"]


def findings_summary(counts: dict[str, int], people: int | None = None) -> str:
    """``2 errors, 1 warning · 3 people`` (plain text) from counts by severity."""
    parts = [f"{count:,} {severity}{'s' * (count != 1)}" for severity in FindingSeverity
             if (count := counts.get(str(severity), 0))]
    text = ", ".join(parts) if parts else "No findings"
    if people is not None:
        text += f" · {people} {'person' if people == 1 else 'people'}"
    return text


class SparklineDelegate(QStyledItemDelegate):
    """Draws a check's or area's sparkline (its findings' events over the session's arrival
    time) at the right of its row, the text elided before it."""

    #: The sparkline's width and the gap before it (pixels): 24 two-pixel bars, narrow
    #: enough to leave a check's title readable in the side bar at 1280x720.
    WIDTH = 48
    GAP = 4

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        counts = index.data(SPARKLINE_ROLE)
        # A check with no findings has nothing to draw: its title keeps the whole row.
        if not counts or not any(counts) or option.rect.width() < self.WIDTH * 3:
            super().paint(painter, option, index)
            return
        rect: QRect = option.rect
        text = QStyleOptionViewItem(option)
        text.rect = rect.adjusted(0, 0, -(self.WIDTH + self.GAP), 0)
        super().paint(painter, text, index)
        brush = index.data(Qt.ItemDataRole.ForegroundRole)
        color = brush.color() if isinstance(brush, QBrush) else QColor("#888888")
        area = QRect(rect.right() - self.WIDTH, rect.top() + 3, self.WIDTH,
                     min(rect.height() - 6, 18))
        draw_sparkline(painter, area, counts, color)

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(size.width() + self.WIDTH + self.GAP, max(size.height(), 20))


def draw_sparkline(painter: QPainter, area: QRect, counts: Sequence[int],
                   color: QColor) -> None:
    """Bars for ``counts`` in ``area`` (the tallest fills it; a zero is a baseline tick, so
    quiet spans read as quiet, not missing)."""
    top = max(counts) or 1
    width = area.width() / len(counts)
    painter.save()
    painter.setPen(Qt.PenStyle.NoPen)
    faint = QColor(color)
    faint.setAlpha(70)
    for number, count in enumerate(counts):
        left = area.left() + number * width
        height = max(1.0, area.height() * count / top) if count else 1.0
        painter.setBrush(color if count else faint)
        painter.drawRect(QRectF(left, area.bottom() - height + 1, max(1.0, width - 1), height))
    painter.restore()


class VariantsView(QTableView):
    """A drift finding's competing variants side by side; clicking a variant's cell asks
    for its example event."""

    #: The user chose a variant: its example event (store id).
    sig_event_chosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.variants = VariantsModel(self)
        self.setModel(self.variants)
        self.setObjectName("variantsView")
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectColumns)
        # One line a cell (the tooltip has it whole): the tree above keeps its room.
        self.setWordWrap(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.horizontalHeader().hide()  # the columns are the variants, the rows say what
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.clicked.connect(self._on_clicked)
        self.hide()

    def set_variants(self, variants: Sequence[dict[str, Any]]) -> None:
        """Show ``variants`` (hidden when there are none)."""
        self.variants.set_variants(variants)
        self.setVisible(bool(variants))
        if variants:
            height = sum(self.rowHeight(row) for row in range(self.variants.rowCount()))
            self.setFixedHeight(height + 2 * self.frameWidth())

    def _on_clicked(self, index: QModelIndex) -> None:
        event_id = self.variants.event_id(index.column())
        if event_id is not None:
            self.sig_event_chosen.emit(event_id)


class AuditPanel(QWidget):
    """Each check by area with its count, worst severity and sparkline; each finding below
    it; the chosen finding whole, with a drift finding's variants side by side."""

    #: The user chose a finding or a variant: show these events (store ids).
    sig_events_chosen = Signal(list)
    #: The user chose an area, a check or a "… N more" row: show the events of these
    #: checks' findings, past each one's first ``skip`` (the audit holds them, not the panel).
    sig_checks_chosen = Signal(list, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = FindingsModel(self)
        self.summary = named(QLabel("No findings yet"), "auditSummary")
        self.summary.setWordWrap(True)
        self.view = side_bar_tree(self.model, "auditView")
        self.view.setItemDelegateForColumn(0, SparklineDelegate(self.view))
        self.view.clicked.connect(self._on_clicked)
        self.view.selectionModel().currentChanged.connect(self._on_current)
        self.detail = named(QTextBrowser(), "findingDetail")
        self.detail.setOpenLinks(False)
        self.detail.setPlaceholderText("Choose a check or a finding to read it whole")
        self.variants = VariantsView()
        self.variants.sig_event_chosen.connect(lambda event_id: self.sig_events_chosen.emit(
            [event_id]))
        below = QWidget()
        below_layout = QVBoxLayout(below)
        below_layout.setContentsMargins(0, 0, 0, 0)
        below_layout.addWidget(self.variants)
        below_layout.addWidget(self.detail)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.view)
        splitter.addWidget(below)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(splitter)

    def set_results(self, checks: Sequence[Check], findings: Sequence[Finding],
                    people: int | None = None) -> None:
        """Show an audit's results, keeping which areas and checks are expanded."""
        counts = {str(severity): 0 for severity in FindingSeverity}
        for finding in findings:
            counts[str(finding.severity)] += 1
        self.set_tree(build_findings_tree(checks, findings), counts, people)

    def set_tree(self, tree: list[Any], counts: dict[str, int],
                 people: int | None = None) -> None:
        """Show rows built by :func:`build_overview_tree` (off the GUI thread) and the
        findings' ``counts`` by severity."""
        expanded = self._expanded()
        self.model.set_tree(tree)
        self.summary.setText(findings_summary(counts, people))
        for row in range(self.model.rowCount()):
            area = self.model.index(row, 0)
            if not expanded or area.data() in expanded:
                self.view.expand(area)
            for check_row in range(self.model.rowCount(area)):
                check = self.model.index(check_row, 0, area)
                if self.model.check_id(check) in expanded:
                    self.view.expand(check)

    def _expanded(self) -> set[str]:
        names: set[str] = set()
        for row in range(self.model.rowCount()):
            area = self.model.index(row, 0)
            if self.view.isExpanded(area):
                names.add(str(area.data()))
            for check_row in range(self.model.rowCount(area)):
                check = self.model.index(check_row, 0, area)
                check_id = self.model.check_id(check)
                if check_id and self.view.isExpanded(check):
                    names.add(check_id)
        return names

    def _on_clicked(self, index: QModelIndex) -> None:
        events, checks, skip = self.model.chosen(index.siblingAtColumn(0))
        if events:
            self.sig_events_chosen.emit(events)
        elif checks:
            self.sig_checks_chosen.emit(list(checks), skip)

    def _on_current(self, index: QModelIndex, _previous: QModelIndex) -> None:
        index = index.siblingAtColumn(0)
        finding = self.model.finding(index)
        self.variants.set_variants(variants_of(finding) if finding is not None else [])
        self.detail.setHtml(row_html(self.model, index))


class PeoplePanel(QWidget):
    """The people the session links, and the chosen person's identifiers, traits, findings."""

    #: The user chose a person: show their events (the person's JSON form).
    sig_person_chosen = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = PeopleModel(self)
        self.view = named(QTableView(), "peopleView")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        header = self.view.horizontalHeader()
        # Fixed widths the user can drag, not ResizeToContents: measuring 2,000 rows on every
        # live refresh cost the GUI thread ~100 ms (bench/gui_live.py --mix retail).
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((150, 170, 40, 150, 110, 50, 60)):
            self.view.setColumnWidth(column, width)
        self.view.clicked.connect(self._on_clicked)
        self.detail = named(QTextBrowser(), "personDetail")
        self.detail.setOpenLinks(False)
        self.detail.setPlaceholderText("Choose a person to see their identifiers and traits")
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.view)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        self.count = named(QLabel(""), "peopleCount")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.count)
        layout.addWidget(splitter)
        self._shown: str | None = None

    def set_people(self, people: Sequence[dict[str, Any]],
                   findings: Sequence[Finding] | None = None, *,
                   total: int | None = None) -> None:
        """Show ``people`` (marked with their findings, see :meth:`PeopleModel.set_people`),
        keeping the chosen one chosen when still there; ``total``: how many there are when
        only some are listed."""
        self.model.set_people(people, findings)
        shown = len(people)
        self.count.setText(
            f"{shown:,} {'person' if shown == 1 else 'people'}" if total is None
            or total <= shown else
            f"The {shown:,} most recently active of {total:,} people")
        if self._shown is not None:
            row = self.model.row_of(self._shown)
            if row is None:
                self._shown = None
                self.detail.clear()
            else:
                self.view.selectRow(row)
                self._show(self.model.person(row))

    def _on_clicked(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        person = self.model.person(index.row())
        self._shown = person["id"]
        self._show(person)
        self.sig_person_chosen.emit(person)

    def _show(self, person: dict[str, Any]) -> None:
        findings = [Finding.from_dict(item) for item in person.get("findings", ())]
        self.detail.setHtml(person_html(person, findings,
                                        int(person.get("findings_count", len(findings)))))


def row_html(model: FindingsModel, index: QModelIndex) -> str:
    """A finding (its whole message, the check, its events and data) or a check (what it
    looks for, how many findings) as HTML."""
    esc = html.escape
    finding = model.finding(index)
    if finding is not None:
        color = FINDING_COLORS[finding.severity]
        parts = [f"<p><span style='color:{color}'><b>{FINDING_GLYPHS[finding.severity]} "
                 f"{finding.severity}</b></span> <small>{esc(finding.check)}</small></p>",
                 f"<p>{esc(finding.message)}</p>",
                 f"<p><small>{len(finding.event_ids)} event"
                 f"{'s' * (len(finding.event_ids) != 1)} (click the row to show them)"
                 "</small></p>"]
        timeline = finding.data.get("timeline")
        if isinstance(timeline, list):
            parts.append("<table cellspacing='2'>")
            for step in timeline:
                value = json.dumps(step.get("value"), ensure_ascii=False)
                parts.append(f"<tr><td><code>{esc(value)}</code></td>"
                             f"<td>{esc(str(step.get('source')))}</td></tr>")
            parts.append("</table>")
        return "".join(parts)
    check_id = model.check_id(index)
    if check_id is not None:
        text = str(index.data() or "")
        tooltip = str(index.data(Qt.ItemDataRole.ToolTipRole) or "")
        about = tooltip.partition(": ")[2] or tooltip
        return (f"<p><b>{esc(text)}</b></p><p><small>{esc(check_id)}</small></p>"
                f"<p>{esc(' '.join(about.split()))}</p>")
    return ""


def person_html(person: dict[str, Any], findings: Sequence[Finding],
                total: int | None = None) -> str:
    """The chosen person as HTML: identifiers, traits with their writers, findings (the first
    few of ``total``)."""
    esc = html.escape
    rows = [f"<h3>{esc(person['label'])}</h3>", "<table cellspacing='2'>"]
    for user in person["user_ids"]:
        rows.append(f"<tr><td>userId</td><td><b>{esc(user['value'])}</b> ({esc(user['shape'])})"
                    f" from {esc(', '.join(user['sources']))}</td></tr>")
    for value in person["anonymous_ids"]:
        rows.append(f"<tr><td>anonymousId</td><td>{esc(value)}</td></tr>")
    for value in person["emails"]:
        rows.append(f"<tr><td>email</td><td>{esc(value)}</td></tr>")
    rows.append("</table>")
    if person["traits"]:
        rows.append("<h4>Traits (current value, last writer)</h4><table cellspacing='2'>")
        for name, trait in person["traits"].items():
            value = json.dumps(trait["value"], ensure_ascii=False)
            changes = f" · {trait['writes']} values" if trait["writes"] > 1 else ""
            rows.append(f"<tr><td>{esc(name)}</td><td><code>{esc(value)}</code></td>"
                        f"<td>{esc(trait['source'])}{changes}</td></tr>")
        rows.append("</table>")
    if findings:
        more = (total or 0) - len(findings)
        rows.append(f"<h4>Findings{f' (the first {len(findings)} of {total})' if more > 0 else ''}"
                    "</h4>")
        for finding in findings:
            color = FINDING_COLORS[finding.severity]
            glyph = FINDING_GLYPHS[finding.severity]
            rows.append(f"<p><span style='color:{color}'><b>{glyph} {finding.severity}</b></span>"
                        f" <small>{esc(finding.check)}</small><br>{esc(finding.message)}</p>")
    return "".join(rows)
