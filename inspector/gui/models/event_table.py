"""The live-tail table model: ids and preformatted cells, filtered and paged by the store.

The model never filters or sorts in Python over what it holds. A filter change becomes a new
:class:`EventQuery` that the store answers; rows arrive either as lazily fetched pages
(``canFetchMore``/``fetchMore``, keyset-paged by id, so a million-event session opens at once) or
as live batches from the :class:`~inspector.gui.bridge.CaptureBridge`, one ``beginInsertRows``
per batch. Live rows are only appended once every stored row before them has been fetched;
until then they are simply part of the store's next page. A ring-buffer cap drops the oldest
rows from the top so a capture left running for hours keeps a bounded footprint (the full history
stays in SQLite).

Each row also carries the environment its write key belongs to (the audit configuration's
environments, :meth:`EnvironmentMap.of_key` in core): the row delegate paints it as a narrow
colour band at the start of the row, and the Time cell's tooltip names it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, NamedTuple

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from inspector.core.environments import EnvironmentMap
from inspector.core.model import Status
from inspector.core.store import CommittedEvent, EventQuery, EventStore
from inspector.core.store.paging import EventRow, matches
from inspector.gui.tasks import TaskRunner
from inspector.gui.theme import STATUS_LABELS, status_brush, status_icon

__all__ = ["COLUMNS", "ENVIRONMENT_ROLE", "Column", "EventTableModel", "TableRow",
           "environment_colors"]

_Index = QModelIndex | QPersistentModelIndex


class Column:
    """Column numbers of the table."""

    TIME = 0
    STATUS = 1
    TYPE = 2
    NAME = 3
    USER_ID = 4
    ANONYMOUS_ID = 5
    SOURCE = 6


COLUMNS = ("Time", "Status", "Type", "Event / page", "userId", "anonymousId", "Source")

_DISPLAY = Qt.ItemDataRole.DisplayRole.value
_DECORATION = Qt.ItemDataRole.DecorationRole.value
_FOREGROUND = Qt.ItemDataRole.ForegroundRole.value
_TOOLTIP = Qt.ItemDataRole.ToolTipRole.value
#: Role carrying the event id of a row.
EVENT_ID_ROLE = Qt.ItemDataRole.UserRole.value + 1
#: Role carrying the raw status string of a row.
STATUS_ROLE = Qt.ItemDataRole.UserRole.value + 2
#: Role carrying the name of a row's environment (``None``: its key is in none).
ENVIRONMENT_ROLE = Qt.ItemDataRole.UserRole.value + 3

#: Production is vermillion, like every "careful" mark in the window; the others take the
#: rest of the Okabe-Ito palette (distinct for colour-blind readers) in configuration order.
_PRODUCTION_COLOR = "#D55E00"
_OTHER_COLORS = ("#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")


def environment_colors(environments: EnvironmentMap) -> dict[str, str]:
    """Each configured environment's colour (``#rrggbb``), for the table and status bar."""
    colors: dict[str, str] = {}
    others = 0
    for environment in environments.environments:
        if environment.production:
            colors[environment.name] = _PRODUCTION_COLOR
        else:
            colors[environment.name] = _OTHER_COLORS[others % len(_OTHER_COLORS)]
            others += 1
    return colors


class TableRow(NamedTuple):
    """One row with every cell already formatted: ``data()`` only indexes."""

    id: int
    cells: tuple[str, str, str, str, str, str, str]
    status: str
    #: The environment of the event's write key (``None``: none configured lists it).
    environment: str | None = None


#: Put before the status of an event that has a stored correction.
CORRECTED_MARK = "✎ "


def _with_mark(row: TableRow, corrected: bool) -> TableRow:
    """``row`` with its status cell marked as corrected (or not)."""
    text = row.cells[Column.STATUS].removeprefix(CORRECTED_MARK)
    if corrected:
        text = CORRECTED_MARK + text
    cells = row.cells
    return row._replace(cells=(cells[0], text, *cells[2:]))


def _status_text(status: str, violations: int) -> str:
    try:
        label = STATUS_LABELS[Status(status)]
    except ValueError:
        label = status
    return f"{label} · {violations}" if violations else label


_clock_cache: list[Any] = [None, ""]


def _time_text(received_at: float) -> str:
    """``HH:MM:SS.mmm`` local time; strftime runs once per distinct second, not per row."""
    second = int(received_at)
    if _clock_cache[0] != second:
        _clock_cache[0] = second
        _clock_cache[1] = time.strftime("%H:%M:%S", time.localtime(second))
    millis = min(int((received_at - second) * 1000), 999)
    return f"{_clock_cache[1]}.{millis:03d}"


def _format_row(
    event_id: int,
    received_at: float,
    type_: str | None,
    name: str | None,
    user_id: str | None,
    anonymous_id: str | None,
    source: str | None,
    status: str,
    violations: int,
    environment: str | None,
) -> TableRow:
    return TableRow(
        event_id,
        (
            _time_text(received_at),
            _status_text(status, violations),
            type_ or "",
            name or "",
            user_id or "",
            anonymous_id or "",
            source or "",
        ),
        status,
        environment,
    )


_NO_ENVIRONMENTS = EnvironmentMap()


def _environment(environments: EnvironmentMap, write_key: str | None,
                 key_name: str | None) -> str | None:
    if not environments:
        return None
    environment = environments.of_key(write_key, key_name)
    return environment.name if environment is not None else None


def row_from_store(row: EventRow, environments: EnvironmentMap = _NO_ENVIRONMENTS) -> TableRow:
    """Format a row fetched from the store."""
    return _format_row(
        row.id, row.received_at, row.type, row.name, row.user_id, row.anonymous_id,
        row.source_name or row.write_key, row.status, row.violation_count,
        _environment(environments, row.write_key, row.source_name),
    )


def row_from_committed(event: CommittedEvent, key_names: dict[str, str],
                       environments: EnvironmentMap = _NO_ENVIRONMENTS) -> TableRow:
    """Format a row from a just-committed event."""
    pending = event.event
    name = key_names.get(pending.write_key) if pending.write_key else None
    return _format_row(
        event.id, pending.received_at, pending.type, pending.name, pending.user_id,
        pending.anonymous_id, name or pending.write_key, pending.status,
        pending.violation_count, _environment(environments, pending.write_key, name),
    )


class EventTableModel(QAbstractTableModel):
    """Rows of one filtered view of the store, fetched lazily and extended live."""

    #: Emitted after rows were appended live (not fetched), with how many.
    sig_rows_appended = Signal(int)
    #: Emitted after the oldest rows were dropped by the ring-buffer cap, with how many.
    sig_rows_trimmed = Signal(int)
    #: Emitted when a query started with :meth:`set_query_async` has been applied.
    sig_query_applied = Signal()

    def __init__(
        self,
        store: EventStore,
        *,
        chunk: int = 500,
        capacity: int = 200_000,
        tasks: TaskRunner | None = None,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        #: Where the first page of a filter is read (the window's runner, or the model's own).
        self.tasks = tasks if tasks is not None else TaskRunner(parent=self)
        self._chunk = chunk
        self._capacity = capacity
        self._rows: list[TableRow] = []
        self._query = EventQuery(limit=chunk)
        self._last_id = 0
        self._exhausted = True
        self._key_names: dict[str, str] = {}
        self.trimmed = 0
        self._generation = 0
        self._pending_query: EventQuery | None = None
        self._held_live: list[CommittedEvent] = []
        self.last_error: BaseException | None = None
        #: Ids of events with a stored correction (marked in the status column).
        self._corrected: set[int] = set()
        self._environments = _NO_ENVIRONMENTS
        #: Environment name -> the colour of its band.
        self.environment_colors: dict[str, str] = {}

    # ---- public API

    @property
    def query(self) -> EventQuery:
        """The filter this model shows."""
        return self._query

    @property
    def store(self) -> EventStore:
        """The store rows come from."""
        return self._store

    @property
    def environments(self) -> EnvironmentMap:
        """The environments rows are labelled with."""
        return self._environments

    def set_environments(self, environments: EnvironmentMap) -> None:
        """Label rows with these environments (the rows are read again)."""
        self._environments = environments
        self.environment_colors = environment_colors(environments)
        self.refresh()

    def set_store(self, store: EventStore) -> None:
        """Show rows from another store (the capture service's, once it started)."""
        self._store = store
        self.set_query(self._query)

    def _normalise(self, query: EventQuery) -> EventQuery:
        return query.model_copy(
            update={"limit": self._chunk, "offset": 0, "order": "asc", "since_id": None}
        )

    def set_query(self, query: EventQuery) -> None:
        """Show the events matching ``query`` (its limit, offset and order are ignored)."""
        self._generation += 1
        self._pending_query = None
        self._held_live = []
        self.beginResetModel()
        self._query = self._normalise(query)
        self._rows = []
        self._last_id = 0
        self._exhausted = False
        self.trimmed = 0
        self._key_names = self._store.write_key_names()
        self._fetch_page()
        self.endResetModel()

    def set_query_async(self, query: EventQuery) -> None:
        """Like :meth:`set_query`, but the first page is read on a worker thread.

        Free-text search over a million payloads can take a second or two in SQLite; the
        window keeps repainting meanwhile and shows the old rows until the new ones are ready.
        A newer call supersedes an older one still running. Live events arriving meanwhile are
        held and replayed against the new filter, so none is lost in the switch.
        """
        self._generation += 1
        generation = self._generation
        normalised = self._normalise(query)
        self._pending_query = normalised
        self._held_live = []
        store = self._store
        self.tasks.submit(
            lambda: store.page_events(normalised),
            lambda rows: self._on_page_ready(generation, normalised, rows),
            on_error=lambda error: self._on_page_ready(generation, normalised, error),
            what="Filtering",
        )

    @property
    def querying(self) -> bool:
        """Whether an asynchronous query is still running."""
        return self._pending_query is not None

    def _on_page_ready(
        self, generation: int, query: EventQuery, result: list[EventRow] | BaseException
    ) -> None:
        if generation != self._generation:
            return  # superseded
        held, self._held_live = self._held_live, []
        self._pending_query = None
        if isinstance(result, BaseException):
            self.last_error = result
            self.sig_query_applied.emit()
            return
        self.last_error = None
        self.beginResetModel()
        self._query = query
        self._rows = self._marked([row_from_store(row, self._environments) for row in result])
        self._last_id = self._rows[-1].id if self._rows else 0
        self._exhausted = len(result) < self._chunk
        self.trimmed = 0
        self._key_names = self._store.write_key_names()
        self.endResetModel()
        if held:
            self.append_committed(held)
        self.sig_query_applied.emit()

    def refresh(self) -> None:
        """Re-read the current filter (after re-validation or a key rename)."""
        self.set_query(self._query)

    def set_corrected(self, event_ids: set[int]) -> None:
        """Mark exactly ``event_ids`` as corrected (after opening a session or a bulk fix)."""
        changed = self._corrected ^ event_ids
        self._corrected = set(event_ids)
        self._remark(changed)

    def mark_corrected(self, event_id: int, corrected: bool) -> None:
        """Mark one event as corrected or not (after a save or a revert in the editor)."""
        if corrected:
            self._corrected.add(event_id)
        else:
            self._corrected.discard(event_id)
        self._remark({event_id})

    def is_corrected(self, event_id: int) -> bool:
        """Whether ``event_id`` is marked as corrected."""
        return event_id in self._corrected

    def _marked(self, rows: list[TableRow]) -> list[TableRow]:
        corrected = self._corrected
        if not corrected:
            return rows
        return [_with_mark(row, True) if row.id in corrected else row for row in rows]

    def _remark(self, event_ids: set[int]) -> None:
        rows = sorted(
            row for row in (self.row_of(event_id) for event_id in event_ids) if row is not None
        )
        for row in rows:
            self._rows[row] = _with_mark(self._rows[row], self._rows[row].id in self._corrected)
        if rows:
            self.dataChanged.emit(
                self.index(rows[0], Column.STATUS), self.index(rows[-1], Column.STATUS)
            )

    def row_at(self, row: int) -> TableRow | None:
        """The formatted row ``row`` (for the delegate), or ``None`` out of range."""
        rows = self._rows
        return rows[row] if 0 <= row < len(rows) else None

    def event_id(self, row: int) -> int:
        """The event id shown in ``row``."""
        return self._rows[row].id

    def row_of(self, event_id: int) -> int | None:
        """The row showing ``event_id``, if loaded (binary search: ids ascend)."""
        lo, hi = 0, len(self._rows)
        while lo < hi:
            mid = (lo + hi) // 2
            if self._rows[mid].id < event_id:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(self._rows) and self._rows[lo].id == event_id:
            return lo
        return None

    def append_committed(self, events: Sequence[CommittedEvent]) -> int:
        """Append the events of a live batch that pass the filter; returns how many."""
        if self._pending_query is not None:
            self._held_live.extend(events)
            return 0
        if not self._exhausted:
            # Older rows are still to be fetched; these will come with them, in order.
            return 0
        new = [
            row_from_committed(event, self._key_names, self._environments)
            for event in events
            if event.id > self._last_id and matches(self._query, event)
        ]
        if not new:
            return 0
        self._append(new)
        self.sig_rows_appended.emit(len(new))
        return len(new)

    # ---- Qt model interface

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        # Called ~1,300 times per repaint: plain int comparisons (enum members compare slowly)
        # and no work beyond indexing.
        row = index.row()
        if row < 0:
            return None
        if role == _DISPLAY:
            return self._rows[row].cells[index.column()]
        if role == _FOREGROUND:
            if index.column() == Column.STATUS:
                return status_brush(self._rows[row].status)
            return None
        if role == _DECORATION:
            if index.column() == Column.STATUS:
                return status_icon(self._rows[row].status)
            return None
        if role == EVENT_ID_ROLE:
            return self._rows[row].id
        if role == STATUS_ROLE:
            return self._rows[row].status
        if role == ENVIRONMENT_ROLE:
            return self._rows[row].environment
        if role == _TOOLTIP and index.column() == Column.TIME:
            environment = self._rows[row].environment
            return f"{environment} environment" if environment else None
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(COLUMNS)
        ):
            return COLUMNS[section]
        return None

    def canFetchMore(self, parent: _Index) -> bool:
        return not parent.isValid() and not self._exhausted

    def fetchMore(self, parent: _Index) -> None:
        if parent.isValid() or self._exhausted:
            return
        self._fetch_page(notify=True)

    # ---- internals

    def _fetch_page(self, *, notify: bool = False) -> None:
        page = self._store.page_events(
            self._query.model_copy(update={"since_id": self._last_id}))
        if len(page) < self._chunk:
            self._exhausted = True
        if not page:
            return
        rows = self._marked([row_from_store(row, self._environments) for row in page])
        if notify:
            self._append(rows)
        else:
            self._rows.extend(rows)
            self._last_id = rows[-1].id

    def _append(self, rows: list[TableRow]) -> None:
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
        self._rows.extend(rows)
        self._last_id = rows[-1].id
        self.endInsertRows()
        excess = len(self._rows) - self._capacity
        if excess > 0:
            self.beginRemoveRows(QModelIndex(), 0, excess - 1)
            del self._rows[:excess]
            self.endRemoveRows()
            self.trimmed += excess
            self.sig_rows_trimmed.emit(excess)
