"""The Audit panel (checks and findings) and the People panel (who the traffic links).

Both only show results computed in the core (:class:`~inspector.core.audit.live.SessionAudit`)
off the GUI thread; choosing a finding or a person asks the window to show their events.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QTextBrowser,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from inspector.core.audit import Check, Finding, FindingSeverity
from inspector.gui.models.audit import (
    FINDING_COLORS,
    FINDING_GLYPHS,
    FindingsModel,
    PeopleModel,
    build_findings_tree,
)
from inspector.gui.widgets._util import named

__all__ = ["AuditPanel", "PeoplePanel", "findings_summary"]


def findings_summary(findings: Sequence[Finding], people: int | None = None) -> str:
    """``2 errors, 1 warning · 3 people`` (plain text)."""
    counts = {severity: 0 for severity in FindingSeverity}
    for finding in findings:
        counts[finding.severity] += 1
    parts = [f"{count} {severity}{'s' * (count != 1)}" for severity, count in counts.items()
             if count]
    text = ", ".join(parts) if parts else "No findings"
    if people is not None:
        text += f" · {people} {'person' if people == 1 else 'people'}"
    return text


class AuditPanel(QWidget):
    """Each check by area with its count and worst severity; each finding below it."""

    #: The user chose a finding, check or area: show these events (store ids).
    sig_events_chosen = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = FindingsModel(self)
        self.summary = named(QLabel("No findings yet"), "auditSummary")
        self.summary.setWordWrap(True)
        self.view = named(QTreeView(), "auditView")
        self.view.setModel(self.model)
        self.view.setUniformRowHeights(False)
        self.view.setWordWrap(True)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # One wrapped column: the side bar is ~280 px wide, and check titles or finding
        # messages cut off there were the legibility complaint of issue 11. The severity and
        # event count are in the text; the model's other columns stay for wider views.
        self.view.setHeaderHidden(True)
        self.view.setColumnHidden(1, True)
        self.view.setColumnHidden(2, True)
        header = self.view.header()
        header.setStretchLastSection(True)
        self.view.clicked.connect(self._on_clicked)
        self.view.selectionModel().currentChanged.connect(self._on_current)
        self.detail = named(QTextBrowser(), "findingDetail")
        self.detail.setOpenLinks(False)
        self.detail.setPlaceholderText("Choose a check or a finding to read it whole")
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.view)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(splitter)

    def set_results(self, checks: Sequence[Check], findings: Sequence[Finding],
                    people: int | None = None) -> None:
        """Show an audit's results, keeping which areas and checks are expanded."""
        self.set_tree(build_findings_tree(checks, findings), findings, people)

    def set_tree(self, tree: list[Any], findings: Sequence[Finding],
                 people: int | None = None) -> None:
        """Show rows built by :func:`build_findings_tree` (off the GUI thread)."""
        expanded = self._expanded()
        self.model.set_tree(tree)
        self.summary.setText(findings_summary(findings, people))
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
        events = self.model.event_ids(index.siblingAtColumn(0))
        if events:
            self.sig_events_chosen.emit(events)

    def _on_current(self, index: QModelIndex, _previous: QModelIndex) -> None:
        self.detail.setHtml(row_html(self.model, index.siblingAtColumn(0)))


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
        self._findings: list[Finding] = []
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

    def set_people(self, people: Sequence[dict[str, Any]], findings: Sequence[Finding], *,
                   total: int | None = None) -> None:
        """Show ``people`` (keeping the chosen one chosen, when still there); ``total``: how
        many there are when only some are listed."""
        self._findings = list(findings)
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
        self.detail.setHtml(person_html(person, [f for f in self._findings
                                                 if f.person == person["id"]]))


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


def person_html(person: dict[str, Any], findings: Sequence[Finding]) -> str:
    """The chosen person as HTML: identifiers, traits with their writers, findings."""
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
        rows.append("<h4>Findings</h4>")
        for finding in findings:
            color = FINDING_COLORS[finding.severity]
            glyph = FINDING_GLYPHS[finding.severity]
            rows.append(f"<p><span style='color:{color}'><b>{glyph} {finding.severity}</b></span>"
                        f" <small>{esc(finding.check)}</small><br>{esc(finding.message)}</p>")
    return "".join(rows)
