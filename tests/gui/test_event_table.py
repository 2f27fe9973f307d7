from __future__ import annotations

import threading
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt

from inspector.core.model import Source, Status, Violation
from inspector.core.store import EventQuery, EventStore, GroupCommitWriter
from inspector.gui.bridge import CaptureBridge
from inspector.gui.models.event_table import Column, EventTableModel
from inspector.gui.theme import status_color
from tests.gui.conftest import make_event, make_request


def _fill(store: EventStore, writer: GroupCommitWriter, session_id: int, count: int) -> None:
    events = [make_event(f"Event {i % 7}", status=Status.VALID if i % 3 else Status.INVALID)
              for i in range(count)]
    writer.write(make_request(session_id, events))


def test_lazy_fetch_pages_through_a_big_session(
    store: EventStore, writer: GroupCommitWriter, qtmodeltester: Any
) -> None:
    session = store.create_session("big")
    _fill(store, writer, session.id, 1234)
    model = EventTableModel(store, chunk=500)
    model.set_query(EventQuery(session_id=session.id))
    assert model.rowCount() == 500
    assert model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())
    assert model.rowCount() == 1000
    model.fetchMore(QModelIndex())
    assert model.rowCount() == 1234
    assert not model.canFetchMore(QModelIndex())
    qtmodeltester.check(model, force_py=True)


def test_filter_is_answered_by_the_store(store: EventStore, writer: GroupCommitWriter) -> None:
    session = store.create_session("s")
    _fill(store, writer, session.id, 30)
    model = EventTableModel(store)
    model.set_query(EventQuery(session_id=session.id, status=["invalid"]))
    assert model.rowCount() == 10
    statuses = {model.index(r, Column.STATUS).data() for r in range(model.rowCount())}
    assert statuses == {"invalid"}
    model.set_query(EventQuery(session_id=session.id, event="Event 3"))
    assert {model.index(r, Column.NAME).data() for r in range(model.rowCount())} == {"Event 3"}


def test_live_batches_append_once_and_respect_the_filter(
    store: EventStore, writer: GroupCommitWriter, qtbot: Any, qtmodeltester: Any
) -> None:
    session = store.create_session("live")
    model = EventTableModel(store)
    model.set_query(EventQuery(session_id=session.id, status=["invalid", "valid"]))
    qtmodeltester.check(model, force_py=True)
    bridge = CaptureBridge(interval_ms=10)
    writer.add_listener(bridge.on_committed)
    bridge.sig_events_committed.connect(model.append_committed)
    bad = Violation("Invalid Type", "properties.price", "price must be a number",
                    source=Source.PLAN)
    with qtbot.waitSignal(model.sig_rows_appended, timeout=3000):
        writer.write(make_request(session.id, [
            make_event("Order Completed", status=Status.INVALID, violations=[bad]),
            make_event("Ignored", status=Status.UNPLANNED),
            make_event("Product Viewed"),
        ]))
    assert model.rowCount() == 2
    index = model.index(0, Column.STATUS)
    assert index.data() == "invalid · 1"
    assert index.data(Qt.ItemDataRole.ForegroundRole).color() == status_color("invalid")
    # Re-querying sees the same two rows, and a late duplicate delivery is ignored.
    model.refresh()
    assert model.rowCount() == 2
    bridge.stop()


def test_ring_buffer_drops_the_oldest_rows(
    store: EventStore, writer: GroupCommitWriter, qtbot: Any
) -> None:
    session = store.create_session("ring")
    model = EventTableModel(store, capacity=50)
    model.set_query(EventQuery(session_id=session.id))
    bridge = CaptureBridge(interval_ms=10)
    writer.add_listener(bridge.on_committed)
    bridge.sig_events_committed.connect(model.append_committed)
    for _ in range(3):
        writer.write(make_request(session.id, [make_event() for _ in range(30)]))
    qtbot.waitUntil(lambda: bridge.delivered == 90, timeout=3000)
    assert model.rowCount() == 50
    assert model.trimmed == 40
    assert model.event_id(0) < model.event_id(49)
    bridge.stop()


def test_markup_in_payload_is_plain_text(store: EventStore, writer: GroupCommitWriter) -> None:
    session = store.create_session("xss")
    writer.write(make_request(session.id, [make_event('<b>bold</b><img src="x">')]))
    model = EventTableModel(store)
    model.set_query(EventQuery(session_id=session.id))
    assert model.index(0, Column.NAME).data() == '<b>bold</b><img src="x">'


def test_async_query_holds_live_events_and_drops_superseded_results(
    store: EventStore, writer: GroupCommitWriter, qtbot: Any, qtmodeltester: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = store.create_session("async")
    writer.write(make_request(session.id, [make_event("A"), make_event("B")]))
    model = EventTableModel(store)
    model.set_query(EventQuery(session_id=session.id))
    # The worker reads its snapshot, then waits for the gate before handing the page back.
    original = store.page_events
    snapshots, gate = threading.Semaphore(0), threading.Event()

    def slow_page(*args: Any) -> Any:
        page = original(*args)
        snapshots.release()
        gate.wait(5)
        return page

    monkeypatch.setattr(store, "page_events", slow_page)
    model.set_query_async(EventQuery(session_id=session.id, event="B"))  # superseded
    model.set_query_async(EventQuery(session_id=session.id, event="A"))
    assert model.querying
    assert snapshots.acquire(timeout=5)
    assert snapshots.acquire(timeout=5)
    # A live event committed after the snapshot arrives while the query runs: it is held, then
    # replayed against the new filter.
    committed = writer.write(make_request(session.id, [make_event("A")]))[1]
    model.append_committed(committed)
    with qtbot.waitSignal(model.sig_query_applied, timeout=3000):
        gate.set()
    assert not model.querying
    assert [model.index(r, Column.NAME).data() for r in range(model.rowCount())] == ["A", "A"]
    qtmodeltester.check(model, force_py=True)


def test_delegate_paints_cells_from_cached_plain_text(
    store: EventStore, writer: GroupCommitWriter, qtbot: Any
) -> None:
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QColor

    from inspector.gui.widgets.event_table_view import EventTableView

    session = store.create_session("paint")
    writer.write(make_request(session.id, [
        make_event('<b>bold</b><img src="x">' + "x" * 200, status=Status.INVALID),
        make_event("Order Completed", status=Status.VALID),
    ]))
    model = EventTableModel(store)
    model.set_query(EventQuery(session_id=session.id))
    view = EventTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(900, 300)
    view.show()
    qtbot.waitExposed(view)
    image = view.viewport().grab().toImage()
    delegate = view.itemDelegate()
    # The markup stays plain text, and the long name was elided to the column's width.
    texts = [(text, static) for (text, _), static in delegate._texts.items()
             if text.startswith("<b>")]
    assert texts
    for _, static in texts:
        assert static.textFormat() == Qt.TextFormat.PlainText
        assert static.text().endswith("…")
        assert static.size().width() <= view.columnWidth(Column.NAME)

    def colours(row: int, column: int) -> set[str]:
        rect = view.visualRect(model.index(row, column))
        return {QColor(image.pixel(QPoint(x, y))).name()
                for x in range(rect.left(), rect.right())
                for y in range(rect.top(), rect.bottom())}

    # The status chip and text carry the status colour; a selected row takes the highlight.
    assert status_color(Status.INVALID).name() in colours(0, Column.STATUS)
    assert status_color(Status.VALID).name() in colours(1, Column.STATUS)
    view.selectRow(1)
    image = view.viewport().grab().toImage()
    highlight = view.palette().highlight().color().name()
    assert highlight in colours(1, Column.TIME)
    assert highlight not in colours(0, Column.TIME)
