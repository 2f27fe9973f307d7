"""Small models for the detail pane, the plan panel and the sessions panel."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QFont

from inspector.core.model import Status, Violation
from inspector.core.plan.suggest import advice
from inspector.core.store import SessionInfo
from inspector.gui.theme import severity_color, status_icon

__all__ = ["Column", "PlanEventRow", "PlanEventsModel", "SessionsModel", "ViolationsModel"]

_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


class _TableModel(QAbstractTableModel):
    """A read-only table over a Python list, replaced wholesale with a reset."""

    headers: tuple[str, ...] = ()

    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else self._count()

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.headers)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.headers)
        ):
            return self.headers[section]
        return None

    def _count(self) -> int:
        raise NotImplementedError


class Column:
    """The violations model's columns."""

    KIND, FIELD, MESSAGE, SUGGESTION = range(4)


class ViolationsModel(_TableModel):
    """The violations of the selected event, coloured by severity and status; the Suggestion
    column says what to change (:func:`~inspector.core.plan.suggest.advice`)."""

    headers = ("Kind", "Field", "Message", "Suggestion")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._violations: list[Violation] = []
        self._status = str(Status.NOT_VALIDATED)
        self._brushes: list[QBrush] = []
        self._advice: list[str] = []

    def set_violations(self, violations: list[Violation], status: str) -> None:
        """Show ``violations`` of an event whose status is ``status``."""
        self.beginResetModel()
        self._violations = list(violations)
        self._status = status
        self._brushes = [QBrush(severity_color(v.severity, status)) for v in violations]
        self._advice = [advice(v) for v in violations]
        self.endResetModel()

    def violation(self, row: int) -> Violation:
        """The violation in ``row``."""
        return self._violations[row]

    def color(self, row: int) -> QBrush:
        """The brush ``row`` is drawn with (used for the payload highlight too)."""
        return self._brushes[row]

    def _count(self) -> int:
        return len(self._violations)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        violation = self._violations[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            values = (
                str(violation.kind),
                violation.field or "(event)",
                violation.message,
                self._advice[index.row()],
            )
            return values[column]
        if role == Qt.ItemDataRole.ForegroundRole and column in (0, 1):
            return self._brushes[index.row()]
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            warning = violation.severity == "warning"
            return status_icon(Status.UNPLANNED if warning else self._status)
        return None


@dataclass(frozen=True, slots=True)
class PlanEventRow:
    """One event of the plan (or seen outside it) with its counts in the session."""

    name: str
    planned: bool
    seen: int
    violated: int


class PlanEventsModel(_TableModel):
    """The plan's events with how often each was seen and how often it violated."""

    headers = ("Event", "Seen", "Violated")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[PlanEventRow] = []
        self._planned: list[str] = []
        self._stats: dict[str, tuple[int, int]] = {}
        self._row_of: dict[str, int] = {}
        self._bold = QFont()
        self._bold.setBold(True)
        self._italic = QFont()
        self._italic.setItalic(True)

    def set_rows(self, planned: list[str], stats: dict[str, tuple[int, int]]) -> None:
        """Planned events first (never-seen ones flagged), then events seen but not planned."""
        self._planned = list(planned)
        self._stats = dict(stats)
        rows = [PlanEventRow(name, True, *stats.get(name, (0, 0))) for name in planned]
        planned_set = set(planned)
        rows += [
            PlanEventRow(name, False, seen, violated)
            for name, (seen, violated) in sorted(stats.items())
            if name not in planned_set
        ]
        self.beginResetModel()
        self._rows = rows
        self._row_of = {row.name: number for number, row in enumerate(rows)}
        self.endResetModel()

    def add_stats(self, delta: dict[str, tuple[int, int]]) -> None:
        """Add live counts (seen, violated) per event name: the rows change in place, unless an
        event outside the plan is seen for the first time and needs a row of its own."""
        if not self._rows and not self._planned:
            return  # nothing shown (no plan loaded)
        stats = self._stats
        for name, (seen, violated) in delta.items():
            old_seen, old_violated = stats.get(name, (0, 0))
            stats[name] = (old_seen + seen, old_violated + violated)
        if any(name not in self._row_of for name in delta):
            self.set_rows(self._planned, stats)
            return
        changed = sorted(self._row_of[name] for name in delta)
        for number in changed:
            row = self._rows[number]
            self._rows[number] = replace(row, seen=stats[row.name][0],
                                         violated=stats[row.name][1])
        if changed:
            self.dataChanged.emit(self.index(changed[0], 0),
                                  self.index(changed[-1], len(self.headers) - 1))

    def row_data(self, row: int) -> PlanEventRow:
        """The record shown in ``row``."""
        return self._rows[row]

    def _count(self) -> int:
        return len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = index.column()
        never_seen = row.planned and row.seen == 0
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            # The tooltip repeats the text: a long name in the narrow side bar is elided.
            if column == 0:
                if never_seen:
                    return f"{row.name}  (never seen)"
                return row.name if row.planned else f"{row.name}  (unplanned)"
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"{row.name}: seen {row.seen}, violated {row.violated}"
            return str(row.seen if column == 1 else row.violated)
        if role == Qt.ItemDataRole.FontRole and never_seen:
            return self._bold
        if role == Qt.ItemDataRole.FontRole and not row.planned:
            return self._italic
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            if never_seen:
                return status_icon(Status.NOT_VALIDATED)
            if not row.planned:
                return status_icon(Status.UNPLANNED)
            return status_icon(Status.INVALID if row.violated else Status.VALID)
        if role == Qt.ItemDataRole.TextAlignmentRole and column > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class SessionsModel(_TableModel):
    """Capture sessions stored in the database, newest first."""

    headers = ("Session", "Created", "Events")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._sessions: list[SessionInfo] = []
        self._current: int | None = None
        self._bold = QFont()
        self._bold.setBold(True)

    def set_sessions(self, sessions: list[SessionInfo], current: int | None) -> None:
        """Show ``sessions``; the ``current`` one (being viewed) in bold."""
        self.beginResetModel()
        self._sessions = list(sessions)
        self._current = current
        self.endResetModel()

    def add_counts(self, delta: dict[int, int]) -> bool:
        """Add live event counts per session id; ``False`` (and nothing changed) if a session
        is not listed yet, so the caller re-reads the list instead."""
        rows = {session.id: number for number, session in enumerate(self._sessions)}
        if any(session_id not in rows for session_id in delta):
            return False
        changed = sorted(rows[session_id] for session_id in delta)
        for session_id, count in delta.items():
            number = rows[session_id]
            session = self._sessions[number]
            self._sessions[number] = replace(session, event_count=session.event_count + count)
        if changed:
            column = len(self.headers) - 1
            self.dataChanged.emit(self.index(changed[0], column), self.index(changed[-1], column))
        return True

    def session(self, row: int) -> SessionInfo:
        """The session in ``row``."""
        return self._sessions[row]

    def row_of(self, session_id: int) -> int | None:
        """The row of ``session_id``."""
        for row, session in enumerate(self._sessions):
            if session.id == session_id:
                return row
        return None

    def _count(self) -> int:
        return len(self._sessions)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        session = self._sessions[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return session.name
            if column == 1:
                # Short enough for every column to show in the side bar; the year is in the
                # tooltip.
                return datetime.fromtimestamp(session.created_at).strftime("%d %b %H:%M")
            return str(session.event_count)
        if role == Qt.ItemDataRole.ToolTipRole:
            created = datetime.fromtimestamp(session.created_at).strftime("%Y-%m-%d %H:%M")
            return f"{session.name}: created {created}, {session.event_count} events"
        if role == Qt.ItemDataRole.FontRole and session.id == self._current:
            return self._bold
        return None
