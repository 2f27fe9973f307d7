"""Export to NDJSON/HAR/CSV and import back, through the real ingest pipeline."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import httpx
import orjson

from inspector.core.capture import CaptureService
from inspector.core.exchange import export_events, import_file
from inspector.core.model import Status
from inspector.core.store import EventQuery, EventStore
from tests.support.segment_calls import track


async def fill(capture: CaptureService) -> None:
    async with httpx.AsyncClient(base_url=capture.base_url) as http:
        batch = {"batch": [track("Product Viewed"), track("Order Completed")], "writeKey": "k"}
        await http.post("/v1/batch", content=gzip.compress(orjson.dumps(batch)),
                        headers={"Content-Encoding": "gzip"})
        await http.post("/v1/i", json={"userId": "u1", "traits": {"email": "x@example.com"}})
        await http.post("/v1/t", content=b"{not json")


def export(store: EventStore, session_id: int, fmt: str) -> str:
    stream = io.StringIO()
    export_events(store, EventQuery(session_id=session_id), fmt, stream)
    return stream.getvalue()


async def test_ndjson_round_trip_keeps_calls_and_timestamps(
    capture: CaptureService, tmp_path: Path
) -> None:
    await fill(capture)
    stream = io.StringIO()
    exported = export_events(capture.store, EventQuery(session_id=capture.session.id),
                             "ndjson", stream)
    text = stream.getvalue()
    # The malformed capture is exported too, as received, and counted.
    assert (exported.written, exported.raw) == (4, 1)
    *calls, raw = text.splitlines()
    assert raw == "{not json"
    lines = [orjson.loads(line) for line in calls]
    assert [line.get("event") for line in lines] == ["Product Viewed", "Order Completed", None]
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join(calls) + "\n")
    other = capture.store.create_session("imported")
    summary = import_file(path, capture.store, other.id)
    assert (summary.requests, summary.events, summary.skipped) == (3, 3, [])
    imported = capture.store.query_events(EventQuery(session_id=other.id)).events
    for original, again in zip(lines, imported, strict=True):
        assert again.payload is not None
        for key in ("timestamp", "originalTimestamp", "receivedAt", "messageId", "properties"):
            assert again.payload.get(key) == original.get(key), key


def test_ndjson_import_reports_bad_lines_and_checks_events(db_path: Path, tmp_path: Path) -> None:
    store = EventStore(db_path)
    session = store.create_session("x")
    path = tmp_path / "mixed.ndjson"
    path.write_text(
        '{"type": "track", "event": "A", "userId": "u"}\n'
        "\n"
        "{broken\n"
        '{"batch": [{"type": "track", "userId": "u"}, {"type": "page", "anonymousId": "a"}]}\n'
        '"just a string"\n'
    )
    summary = import_file(path, store, session.id)
    assert summary.events == 3
    assert [problem.split(" (")[0] for problem in summary.skipped] == [
        "line 3: invalid JSON", "line 5: not a JSON object"]
    statuses = [e.status for e in store.query_events(EventQuery(session_id=session.id)).events]
    assert statuses == [Status.NOT_VALIDATED, Status.MALFORMED, Status.NOT_VALIDATED]


async def test_har_export_is_one_entry_per_request_and_imports_back(
    capture: CaptureService, tmp_path: Path
) -> None:
    await fill(capture)
    har_text = export(capture.store, capture.session.id, "har")
    har = orjson.loads(har_text)
    entries = har["log"]["entries"]
    assert [e["request"]["url"].split("/", 3)[3] for e in entries] == ["v1/batch", "v1/i", "v1/t"]
    assert [e["response"]["status"] for e in entries] == [200, 200, 400]
    # The gzip body is exported decoded, as devtools shows it.
    assert "Product Viewed" in entries[0]["request"]["postData"]["text"]
    path = tmp_path / "capture.har"
    path.write_text(har_text)
    other = capture.store.create_session("from har")
    summary = import_file(path, capture.store, other.id)
    assert (summary.requests, summary.events) == (3, 4)
    events = capture.store.query_events(EventQuery(session_id=other.id)).events
    assert [e.name for e in events] == ["Product Viewed", "Order Completed", None, None]
    assert events[-1].status is Status.MALFORMED


def test_har_from_a_browser_keeps_only_segment_calls(db_path: Path, tmp_path: Path) -> None:
    har = {"log": {"version": "1.2", "entries": [
        {"startedDateTime": "2026-11-29T10:00:00.000Z",
         "request": {"method": "GET", "url": "https://shop.test/", "headers": []}},
        {"startedDateTime": "2026-11-29T10:00:01.000Z",
         "request": {"method": "POST", "url": "https://api.segment.io/v1/t",
                     "headers": [{"name": "Content-Type", "value": "text/plain"}],
                     "postData": {"mimeType": "text/plain", "text": orjson.dumps(
                         {**track("Added to Cart"), "writeKey": "browser-key"}).decode()}}},
        {"startedDateTime": "2026-11-29T10:00:02.000Z",
         "request": {"method": "POST", "url": "https://api.segment.io/v1/m",
                     "headers": [], "postData": {"text": "{}"}}},
    ]}}
    path = tmp_path / "shop.har"
    path.write_bytes(orjson.dumps(har))
    store = EventStore(db_path)
    session = store.create_session("browser")
    summary = import_file(path, store, session.id)
    [event] = store.query_events(EventQuery(session_id=session.id)).events
    assert summary.events == 1
    assert (event.name, event.write_key) == ("Added to Cart", "browser-key")
    assert event.payload is not None
    assert event.payload["receivedAt"] == "2026-11-29T10:00:01.000Z"


async def test_csv_has_one_row_per_event(capture: CaptureService) -> None:
    await fill(capture)
    rows = list(csv.DictReader(io.StringIO(export(capture.store, capture.session.id, "csv"))))
    assert [r["event"] for r in rows] == ["Product Viewed", "Order Completed", "", ""]
    assert rows[3]["status"] == "malformed"
    assert rows[3]["violation_kinds"] == "Invalid JSON"
    assert rows[0]["write_key"] == "k"
