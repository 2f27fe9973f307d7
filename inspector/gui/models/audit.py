"""Models of the Audit and People panels: the audit's findings and the session's people.

Both are set wholesale from results computed off the GUI thread (a plain list of findings and
of person dicts); ``data()`` only reads what was formatted when they were set.
"""

from __future__ import annotations

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
from inspector.core.audit.overview import audit_overview, mark_people

__all__ = ["FINDING_COLORS", "FINDING_GLYPHS", "SHOWN_PER_CHECK", "SPARKLINE_ROLE",
           "FindingsModel", "PeopleModel", "VariantsModel", "build_findings_tree",
           "build_overview_tree", "shown_findings"]

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

_AREA_TITLES = {
    "identity": "People and identity",
    "email": "Email capture",
    "traits": "Trait write rules",
    "consent": "Consent",
    "drift": "Drift across events of one name",
    "sources": "Sources",
    "timing": "Timing",
    "items": "Item payloads",
    "environments": "Environments (staging, production)",
    "segments": "Your segments",
}


#: A check's or area's sparkline (a list of counts per span of the session), for the delegate.
SPARKLINE_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(eq=False)
class _Node:
    """One row of the tree: an area, a check, a finding or a "… N more" row."""

    cells: tuple[str, str, str]
    parent: _Node | None
    row: int
    color: str | None = None
    tooltip: str | None = None
    finding: Finding | None = None
    check_id: str | None = None
    children: list[_Node] = field(default_factory=list)
    #: The checks whose events a click on this row shows (an area's, a check's, or on a
    #: "… N more" row its check's), past each check's first ``skip`` findings.
    checks: tuple[str, ...] = ()
    skip: int = 0
    sparkline: list[int] | None = None


class FindingsModel(QAbstractItemModel):
    """Areas, then checks with their count, worst severity and sparkline, then findings."""

    headers = ("Check", "Severity", "Events")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._areas: list[_Node] = []

    # ---- setting

    def set_findings(self, checks: Sequence[Check], findings: Sequence[Finding]) -> None:
        """Show ``findings`` under the ``checks`` that ran (checks with none read "passed")."""
        self.set_tree(build_findings_tree(checks, findings))

    def set_tree(self, areas: list[_Node]) -> None:
        """Show a tree from :func:`build_overview_tree` (built off the GUI thread)."""
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

    def chosen(self, index: _Index) -> tuple[list[int], tuple[str, ...], int]:
        """What a click on a row shows: a finding's event ids; or the checks (and how many
        of each check's first findings to skip) whose events are fetched from the audit."""
        node = self._node(index)
        if node is None:
            return [], (), 0
        if node.finding is not None:
            return list(node.finding.event_ids), (), 0
        return [], node.checks, node.skip

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
        if role == SPARKLINE_ROLE and index.column() == 0:
            return node.sparkline
        return None


def build_findings_tree(checks: Sequence[Check], findings: Sequence[Finding], *,
                        shown_per_check: int = SHOWN_PER_CHECK) -> list[_Node]:
    """The rows of a :class:`FindingsModel` for ``findings`` (no sparklines: they need the
    calls' arrival times, which :class:`~inspector.core.audit.live.SessionAudit` keeps)."""
    return build_overview_tree(audit_overview(checks, findings, per_check=shown_per_check))


def build_overview_tree(overview: dict[str, Any]) -> list[_Node]:
    """The rows of a :class:`FindingsModel` from an audit overview
    (:func:`~inspector.core.audit.overview.audit_overview`, or the capture child's
    ``GET audit/overview``): plain Python, safe to build on a worker thread.

    Each check shows the first findings the overview lists and one row saying how many more
    there are: a live session can have tens of thousands, and a tree that big would stall the
    window on every refresh while telling a tester nothing more.
    """
    roots: list[_Node] = []
    areas: dict[str, _Node] = {}
    for area_data in overview["areas"]:
        area = areas[area_data["area"]] = _Node(
            (_AREA_TITLES.get(area_data["area"], area_data["area"].title()), "", ""), None,
            len(roots), checks=tuple(area_data["checks"]),
            sparkline=list(area_data["sparkline"]) or None)
        count = int(area_data["findings"])
        area.cells = (area.cells[0], f"{count:,} finding{'s' * (count != 1)}" if count
                      else "✓ passed", "")
        roots.append(area)
    for check in overview["checks"]:
        area = areas[check["area"]]
        worst = FindingSeverity(check["worst"]) if check["worst"] else None
        summary = _severity_text(worst, int(check["findings"]))
        # The verdict first: in a narrow side bar the end of a row is what gets cut off.
        node = _Node(
            (f"{summary}  {check['title']}", summary,
             str(check["events"]) if check["findings"] else ""),
            area, len(area.children),
            color=FINDING_COLORS[worst] if worst else _PASSED_COLOR,
            tooltip=f"{check['id']}: {check['description']}".strip(),
            check_id=check["id"], checks=(check["id"],),
            sparkline=list(check["sparkline"]) or None,
        )
        for number, data in enumerate(check["shown"]):
            finding = Finding.from_dict(data)
            node.children.append(_Node(
                (f"{FINDING_GLYPHS[finding.severity]} {finding.message}",
                 f"{FINDING_GLYPHS[finding.severity]} {finding.severity}",
                 str(len(finding.event_ids))),
                node, number, color=FINDING_COLORS[finding.severity],
                tooltip=finding.message, finding=finding,
            ))
        if check["more"]:
            node.children.append(_Node(
                (f"… {check['more']:,} more (inspector audit --format json lists all)", "", ""),
                node, len(node.children), checks=(check["id"],), skip=len(check["shown"])))
        area.children.append(node)
    return roots


def shown_findings(tree: list[_Node]) -> list[Finding]:
    """The findings a tree lists (each check's first few)."""
    return [finding.finding for area in tree for check in area.children
            for finding in check.children if finding.finding is not None]


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
                   findings: Sequence[Finding] | None = None) -> None:
        """Show ``people`` (``Person.to_dict()`` forms marked with the findings about each by
        :func:`~inspector.core.audit.overview.mark_people`; or given ``findings``, marked
        here)."""
        if findings is not None:
            people = mark_people([dict(person) for person in people], findings)
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
                str(person.get("findings_count", 0)),
            )
            for person in self._people
        ]
        self._colors = [FINDING_COLORS[FindingSeverity(p["worst"])] if p.get("worst") else None
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


class VariantsModel(QAbstractTableModel):
    """A drift finding's competing variants side by side: one column per variant (most used
    first), rows for the variant, an example value, its share of the calls and its first
    event."""

    rows = ("Variant", "Example", "Share", "Event")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._variants: list[dict[str, Any]] = []
        self._cells: list[tuple[str, str, str, str]] = []

    def set_variants(self, variants: Sequence[dict[str, Any]]) -> None:
        """Show ``variants`` (:func:`~inspector.core.audit.overview.variants_of`)."""
        self.beginResetModel()
        self._variants = list(variants)
        self._cells = [(
            variant["label"], variant["example"],
            f"{variant['share']:.0%} · {variant['count']:,} call{'s' * (variant['count'] != 1)}",
            f"#{variant['event_id']}" if variant["event_id"] is not None else "",
        ) for variant in self._variants]
        self.endResetModel()

    def event_id(self, column: int) -> int | None:
        """The example event of the variant in ``column``."""
        if not 0 <= column < len(self._variants):
            return None
        value = self._variants[column]["event_id"]
        return int(value) if value is not None else None

    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() or not self._variants else len(self.rows)

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._variants)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = _DISPLAY) -> Any:
        if role != _DISPLAY:
            return None
        if orientation == Qt.Orientation.Vertical:
            return self.rows[section] if 0 <= section < len(self.rows) else None
        return f"Variant {section + 1}" if 0 <= section < len(self._variants) else None

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        if not index.isValid():
            return None
        if role in (_DISPLAY, _TOOLTIP):
            text = self._cells[index.column()][index.row()]
            if role == _TOOLTIP and index.row() == 3 and text:
                return f"Click to show event {text}"
            return text
        return None
