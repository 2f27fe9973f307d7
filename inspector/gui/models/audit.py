"""Models of the Audit and People panels: the audit's findings and the session's people.

Both are set wholesale from results computed off the GUI thread (a plain list of findings and
of person dicts); ``data()`` only reads what was formatted when they were set.
"""

from __future__ import annotations

import heapq
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor

from inspector.core.audit import Check, Finding, FindingSeverity

__all__ = ["FINDING_COLORS", "FINDING_GLYPHS", "SHOWN_PER_CHECK", "FindingsModel",
           "PeopleModel", "build_findings_tree"]

#: Findings listed under one check in the panel (the rest summed up in one row).
SHOWN_PER_CHECK = 200

_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
_DISPLAY = Qt.ItemDataRole.DisplayRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_FOREGROUND = Qt.ItemDataRole.ForegroundRole

#: The status palette (Okabe-Ito): errors as "invalid", warnings as "unplanned", infos blue.
FINDING_COLORS: dict[FindingSeverity, str] = {
    FindingSeverity.ERROR: "#D55E00",
    FindingSeverity.WARNING: "#E69F00",
    FindingSeverity.INFO: "#0072B2",
}
#: A glyph per severity, so colour is never the only signal.
FINDING_GLYPHS: dict[FindingSeverity, str] = {
    FindingSeverity.ERROR: "✕",
    FindingSeverity.WARNING: "!",
    FindingSeverity.INFO: "i",
}
_PASSED_COLOR = "#009E73"
_ORDER = operator.attrgetter("order")

_AREA_TITLES = {
    "identity": "People and identity",
    "email": "Email capture",
    "traits": "Trait write rules",
    "consent": "Consent",
    "drift": "Drift across events of one name",
    "sources": "Sources",
    "timing": "Timing",
    "items": "Item payloads",
    "segments": "Your segments",
}


@dataclass(eq=False)
class _Node:
    """One row of the tree: an area, a check or a finding."""

    cells: tuple[str, str, str]
    parent: _Node | None
    row: int
    color: str | None = None
    tooltip: str | None = None
    finding: Finding | None = None
    check_id: str | None = None
    children: list[_Node] = field(default_factory=list)
    #: On a "… N more" row: the findings it stands for (their events are still selectable).
    hidden: list[Finding] = field(default_factory=list)


class FindingsModel(QAbstractItemModel):
    """Areas, then checks with their count and worst severity, then each finding."""

    headers = ("Check", "Severity", "Events")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._areas: list[_Node] = []

    # ---- setting

    def set_findings(self, checks: Sequence[Check], findings: Sequence[Finding]) -> None:
        """Show ``findings`` under the ``checks`` that ran (checks with none read "passed")."""
        self.set_tree(build_findings_tree(checks, findings))

    def set_tree(self, areas: list[_Node]) -> None:
        """Show a tree from :func:`build_findings_tree` (built off the GUI thread)."""
        self.beginResetModel()
        self._areas = areas
        self.endResetModel()

    # ---- reading

    def finding(self, index: _Index) -> Finding | None:
        """The finding a row shows (``None`` for area and check rows)."""
        node = self._node(index)
        return node.finding if node is not None else None

    def check_id(self, index: _Index) -> str | None:
        """The check a row shows (``None`` for area and finding rows)."""
        node = self._node(index)
        return node.check_id if node is not None else None

    def event_ids(self, index: _Index) -> list[int]:
        """The events behind a row: a finding's, or every finding's of a check or area."""
        node = self._node(index)
        if node is None:
            return []
        found: set[int] = set()
        stack = [node]
        while stack:
            current = stack.pop()
            if current.finding is not None:
                found.update(current.finding.event_ids)
            for finding in current.hidden:
                found.update(finding.event_ids)
            stack.extend(current.children)
        return sorted(found)

    def _node(self, index: _Index) -> _Node | None:
        if not index.isValid():
            return None
        node = index.internalPointer()
        return node if isinstance(node, _Node) else None

    # ---- QAbstractItemModel

    def index(self, row: int, column: int, parent: _Index = _ROOT) -> QModelIndex:
        if column < 0 or column >= len(self.headers) or row < 0:
            return QModelIndex()
        siblings = self._areas if not parent.isValid() else self._children(parent)
        if row >= len(siblings):
            return QModelIndex()
        return self.createIndex(row, column, siblings[row])

    def _children(self, index: _Index) -> list[_Node]:
        node = self._node(index)
        return node.children if node is not None and index.column() == 0 else []

    def parent(self, child: _Index = _ROOT) -> QModelIndex:  # type: ignore[override]
        node = self._node(child)
        if node is None or node.parent is None:
            return QModelIndex()
        return self.createIndex(node.parent.row, 0, node.parent)

    def rowCount(self, parent: _Index = _ROOT) -> int:
        if not parent.isValid():
            return len(self._areas)
        return len(self._children(parent))

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return len(self.headers)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = _DISPLAY) -> Any:
        return _header(self.headers, section, orientation, role)

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        node = self._node(index)
        if node is None:
            return None
        if role == _DISPLAY:
            return node.cells[index.column()]
        if role == _TOOLTIP:
            return node.tooltip
        if role == _FOREGROUND and node.color and (
                index.column() == 1 or (index.column() == 0 and node.check_id is not None)):
            return QBrush(QColor(node.color))
        return None


def build_findings_tree(checks: Sequence[Check], findings: Sequence[Finding], *,
                        shown_per_check: int = SHOWN_PER_CHECK) -> list[_Node]:
    """The rows of a :class:`FindingsModel`: plain Python, safe to build on a worker thread.

    Each check shows its first ``shown_per_check`` findings (by first event) and one row
    saying how many more there are: a live session can have tens of thousands, and a tree that
    big would stall the window on every refresh while telling a tester nothing more.
    """
    by_check: dict[str, list[Finding]] = {}
    for finding in findings:
        by_check.setdefault(finding.check, []).append(finding)
    roots: list[_Node] = []
    areas: dict[str, _Node] = {}
    for check in checks:
        area = areas.get(check.area)
        if area is None:
            area = areas[check.area] = _Node(
                (_AREA_TITLES.get(check.area, check.area.title()), "", ""), None, len(roots))
            roots.append(area)
        items = by_check.get(check.id, [])
        worst = min((finding.severity for finding in items), key=lambda s: s.rank, default=None)
        summary = _severity_text(worst, len(items))
        # The verdict first: in a narrow side bar the end of a row is what gets cut off.
        node = _Node(
            (f"{summary}  {check.title}", summary,
             str(sum(len(finding.event_ids) for finding in items)) if items else ""),
            area, len(area.children),
            color=FINDING_COLORS[worst] if worst else _PASSED_COLOR,
            tooltip=f"{check.id}: {check.__doc__ or check.title}".strip(),
            check_id=check.id,
        )
        # The first few in order without sorting them all (a check can have 100,000).
        first = heapq.nsmallest(shown_per_check, items, key=_ORDER)
        for number, finding in enumerate(first):
            node.children.append(_Node(
                (f"{FINDING_GLYPHS[finding.severity]} {finding.message}",
                 f"{FINDING_GLYPHS[finding.severity]} {finding.severity}",
                 str(len(finding.event_ids))),
                node, number, color=FINDING_COLORS[finding.severity],
                tooltip=finding.message, finding=finding,
            ))
        if len(items) > shown_per_check:
            listed = {id(finding) for finding in first}
            hidden = [finding for finding in items if id(finding) not in listed]
            more = _Node((f"… {len(hidden):,} more (inspector audit --format json lists all)",
                          "", ""), node, len(node.children))
            more.hidden = hidden
            node.children.append(more)
        area.children.append(node)
    for area in roots:
        count = sum(len(by_check.get(check.check_id or "", [])) for check in area.children)
        area.cells = (area.cells[0], f"{count:,} finding{'s' * (count != 1)}" if count
                      else "✓ passed", "")
    return roots


def _header(headers: Sequence[str], section: int, orientation: Qt.Orientation,
            role: int) -> str | None:
    """A horizontal header's text (both models have no vertical header text)."""
    if (role == _DISPLAY and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(headers)):
        return headers[section]
    return None


def _severity_text(severity: FindingSeverity | None, count: int) -> str:
    if severity is None:
        return "✓"
    return f"{FINDING_GLYPHS[severity]} {count} {severity}{'s' * (count != 1)}"


class PeopleModel(QAbstractTableModel):
    """One row per person: who, their identifiers, sources, calls and findings."""

    headers = ("Person", "userIds", "anonymousIds", "Emails", "Sources", "Calls", "Findings")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._people: list[dict[str, Any]] = []
        self._cells: list[tuple[str, ...]] = []
        self._colors: list[str | None] = []

    def set_people(self, people: Sequence[dict[str, Any]],
                   findings: Sequence[Finding] = ()) -> None:
        """Show ``people`` (``Person.to_dict()`` forms) with the findings about each."""
        worst: dict[str, FindingSeverity] = {}
        counts: dict[str, int] = {}
        for finding in findings:
            if finding.person is None:
                continue
            counts[finding.person] = counts.get(finding.person, 0) + 1
            known = worst.get(finding.person)
            if known is None or finding.severity.rank < known.rank:
                worst[finding.person] = finding.severity
        self.beginResetModel()
        self._people = list(people)
        self._cells = [
            (
                person["label"],
                ", ".join(f"{user['value']} ({user['shape']})" for user in person["user_ids"]),
                str(len(person["anonymous_ids"])),
                ", ".join(person["emails"]),
                ", ".join(person["sources"]),
                str(person["event_count"]),
                str(counts.get(person["id"], 0)),
            )
            for person in self._people
        ]
        self._colors = [FINDING_COLORS[worst[p["id"]]] if p["id"] in worst else None
                        for p in self._people]
        self.endResetModel()

    def person(self, row: int) -> dict[str, Any]:
        """The person on ``row``."""
        return self._people[row]

    def row_of(self, person_id: str) -> int | None:
        """The row showing ``person_id``."""
        for row, person in enumerate(self._people):
            if person["id"] == person_id:
                return row
        return None

    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._cells)

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = _DISPLAY) -> Any:
        return _header(self.headers, section, orientation, role)

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        if not index.isValid():
            return None
        if role in (_DISPLAY, _TOOLTIP):
            return self._cells[index.row()][index.column()]
        if role == _FOREGROUND and index.column() == 6:
            color = self._colors[index.row()]
            return QBrush(QColor(color)) if color else None
        return None
