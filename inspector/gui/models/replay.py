"""Models for the replay dialog: previewed requests, events not sent, per-event results.

Rows are formatted when set or updated; ``data()`` only indexes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtGui import QBrush, QColor

from inspector.core.replay import (
    Dropped,
    ItemResult,
    ItemStatus,
    PlannedRequest,
    Rejected,
    ResultRow,
)
from inspector.gui.models.fixes import RowsModel

__all__ = ["ITEM_STATUS_COLORS", "NotSentModel", "RequestPreviewModel", "ResultsModel"]

#: Okabe-Ito again: sent green, failed vermillion, dropped grey, held orange, pending blue.
ITEM_STATUS_COLORS: dict[ItemStatus, str] = {
    ItemStatus.SENT: "#009E73",
    ItemStatus.FAILED: "#D55E00",
    ItemStatus.DROPPED: "#8C8C8C",
    ItemStatus.HELD: "#E69F00",
    ItemStatus.PENDING: "#0072B2",
}
_GLYPHS = {ItemStatus.SENT: "✓", ItemStatus.FAILED: "✕", ItemStatus.DROPPED: "–",
           ItemStatus.HELD: "!", ItemStatus.PENDING: "…"}


def _status_cell(status: ItemStatus) -> str:
    return f"{_GLYPHS[status]} {status}"


class RequestPreviewModel(RowsModel):
    """The HTTP requests a replay would send, in send order (secrets redacted)."""

    headers = ("#", "Method", "URL", "Events")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._requests: list[PlannedRequest] = []

    def set_requests(self, requests: Sequence[PlannedRequest]) -> None:
        """Show ``requests``."""
        self._requests = list(requests)
        cells = [
            (str(number + 1), planned.request.method, planned.request.url, str(len(planned.seqs)))
            for number, planned in enumerate(self._requests)
        ]
        self._set(cells, [None] * len(cells))

    def planned(self, row: int) -> PlannedRequest:
        """The planned request in ``row``."""
        return self._requests[row]


class NotSentModel(RowsModel):
    """Events the destination would drop (Classic without userId) or cannot take (too large)."""

    headers = ("Event id", "Outcome", "Reason")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._dropped = QBrush(QColor(ITEM_STATUS_COLORS[ItemStatus.DROPPED]))
        self._rejected = QBrush(QColor(ITEM_STATUS_COLORS[ItemStatus.FAILED]))

    def set_entries(
        self, entries: Sequence[Dropped | Rejected], event_ids: Sequence[int | None]
    ) -> None:
        """Show ``entries``; ``event_ids[seq]`` is the event id of send position ``seq``."""
        cells = [
            (
                str(event_ids[entry.seq]) if entry.seq < len(event_ids) else "?",
                "would be dropped" if isinstance(entry, Dropped) else "cannot be sent",
                entry.reason,
            )
            for entry in entries
        ]
        brushes: list[QBrush | None] = [
            self._dropped if isinstance(entry, Dropped) else self._rejected for entry in entries
        ]
        self._set(cells, brushes)


class ResultsModel(RowsModel):
    """Every event of a run with its status, updated in place as results arrive."""

    headers = ("#", "Event id", "Status", "HTTP", "Attempts", "Error / response")
    brush_column = 2

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._row_of_seq: dict[int, int] = {}
        self._event_ids: list[int | None] = []
        self._statuses: list[ItemStatus] = []
        self._status_brushes = {
            status: QBrush(QColor(color)) for status, color in ITEM_STATUS_COLORS.items()
        }

    def set_rows(self, rows: Sequence[ResultRow]) -> None:
        """Show a run's stored results."""
        self._row_of_seq = {row.seq: position for position, row in enumerate(rows)}
        self._event_ids = [row.event_id for row in rows]
        self._statuses = [row.status for row in rows]
        cells = [
            self._format(row.seq, row.event_id, row.status, row.http_status, row.attempts,
                         row.error, row.response_body)
            for row in rows
        ]
        self._set(cells, [self._status_brushes[row.status] for row in rows])

    def apply_results(self, results: Sequence[ItemResult]) -> int:
        """Update the rows of ``results`` (one ``dataChanged`` per batch); returns how many."""
        touched: list[int] = []
        for result in results:
            position = self._row_of_seq.get(result.seq)
            if position is None:
                continue
            old = self._cells[position]
            attempts = int(old[4] or 0) + result.attempts
            self._cells[position] = self._format(
                result.seq, self._event_ids[position], result.status, result.http_status,
                attempts, result.error, result.response_body,
            )
            self._statuses[position] = result.status
            self._brushes[position] = self._status_brushes[result.status]
            touched.append(position)
        if touched:
            self.dataChanged.emit(
                self.index(min(touched), 0), self.index(max(touched), len(self.headers) - 1)
            )
        return len(touched)

    def status(self, row: int) -> ItemStatus:
        """The status shown in ``row``."""
        return self._statuses[row]

    @staticmethod
    def _format(
        seq: int, event_id: int | None, status: ItemStatus, http: int | None, attempts: int,
        error: str | None, body: str | None,
    ) -> tuple[str, ...]:
        detail = error or (body or "")
        detail = " ".join(detail.split())
        if len(detail) > 300:
            detail = detail[:299] + "…"
        return (str(seq + 1), "" if event_id is None else str(event_id), _status_cell(status),
                "" if http is None else str(http), str(attempts), detail)
