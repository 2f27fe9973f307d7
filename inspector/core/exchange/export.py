"""Export stored events as NDJSON (Segment calls), HAR (the raw requests) or CSV (a table)."""

from __future__ import annotations

import base64
import csv
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

from inspector import __version__
from inspector.core.model import EventRecord
from inspector.core.store import EventQuery, EventStore

__all__ = ["EXPORT_FORMATS", "ExportSummary", "export_events"]

EXPORT_FORMATS = ("ndjson", "har", "csv")

CSV_COLUMNS = (
    "id", "session", "received_at", "write_key", "source", "type", "event", "user_id",
    "anonymous_id", "message_id", "status", "violation_count", "violation_kinds",
    "violation_fields",
)


@dataclass(slots=True)
class ExportSummary:
    """What an export wrote."""

    written: int = 0
    #: Of those, events with no parsable payload (malformed requests) that NDJSON holds as
    #: their raw body, as received (so ``inspector import`` reports them as invalid JSON).
    raw: int = 0


def export_events(
    store: EventStore, query: EventQuery, fmt: str, stream: TextIO
) -> ExportSummary:
    """Write every event matching ``query`` to ``stream`` in format ``fmt``."""
    if fmt == "ndjson":
        return _ndjson(store, store.iter_events(query), stream)
    if fmt == "csv":
        return _csv(store.iter_events(query), stream)
    if fmt == "har":
        return _har(store, store.iter_events(query), stream)
    raise ValueError(f"unknown export format {fmt!r} (choose {', '.join(EXPORT_FORMATS)})")


def _ndjson(store: EventStore, events: Iterator[EventRecord], stream: TextIO) -> ExportSummary:
    summary = ExportSummary()
    for record in events:
        if record.payload is None:
            # A malformed capture is exported too, never dropped: its body as received, on
            # one line (line breaks are whitespace to a JSON reader, so nothing changes).
            stream.write(_raw_line(store, record) + "\n")
            summary.raw += 1
            summary.written += 1
            continue
        # One Segment call per line, as `inspector validate` and `inspector import` read them.
        stream.write(orjson.dumps(record.payload).decode() + "\n")
        summary.written += 1
    return summary


def _raw_line(store: EventStore, record: EventRecord) -> str:
    request = store.get_request(record.request_id) if record.request_id else None
    body = request.get("body") if request else None
    if isinstance(body, bytes | bytearray | memoryview):
        text = bytes(body).decode("utf-8", "replace")
    else:
        text = str(body or "")
    return " ".join(text.splitlines())


def _csv(events: Iterator[EventRecord], stream: TextIO) -> ExportSummary:
    summary = ExportSummary()
    writer = csv.writer(stream)
    writer.writerow(CSV_COLUMNS)
    for record in events:
        writer.writerow(
            [
                record.id, record.session_name,
                datetime.fromtimestamp(record.received_at, UTC).isoformat(),
                record.write_key or "", record.source_name or "", record.type or "",
                record.name or "", record.user_id or "", record.anonymous_id or "",
                record.message_id or "", str(record.status), len(record.violations),
                "; ".join(v.kind for v in record.violations),
                "; ".join(v.field for v in record.violations),
            ]
        )
        summary.written += 1
    return summary


def _har(store: EventStore, events: Iterator[EventRecord], stream: TextIO) -> ExportSummary:
    """One HAR entry per captured request (a batch is one entry, as a browser records it)."""
    summary = ExportSummary()
    entries: list[dict[str, Any]] = []
    seen_requests: set[int] = set()
    for record in events:
        if record.request_id is None or record.request_id in seen_requests:
            continue
        seen_requests.add(record.request_id)
        request = store.get_request(record.request_id)
        if request is None:
            continue
        entries.append(_har_entry(request))
        summary.written += 1
    har = {
        "log": {
            "version": "1.2",
            "creator": {"name": "inspector", "version": __version__},
            "entries": entries,
        }
    }
    stream.write(orjson.dumps(har, option=orjson.OPT_INDENT_2).decode())
    stream.write("\n")
    return summary


def _har_entry(request: dict[str, Any]) -> dict[str, Any]:
    headers: dict[str, str] = request["headers"]
    body: bytes = request["body"] or b""
    encoding = next((v for k, v in headers.items() if k.lower() == "content-encoding"), "")
    post_data: dict[str, Any] = {
        "mimeType": next((v for k, v in headers.items() if k.lower() == "content-type"), ""),
    }
    text: str | None = None
    if encoding.lower() in ("gzip", "deflate", "x-gzip"):
        # HAR carries the body as the browser saw it after decoding; keep the raw bytes too.
        try:
            inflater = zlib.decompressobj(
                zlib.MAX_WBITS | 16 if "gzip" in encoding.lower() else zlib.MAX_WBITS
            )
            text = inflater.decompress(body, 8 * 1024 * 1024).decode("utf-8")
        except (zlib.error, UnicodeDecodeError):
            text = None
    else:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
    if text is None:
        post_data["text"] = base64.b64encode(body).decode()
        post_data["encoding"] = "base64"
    else:
        post_data["text"] = text
    host = headers.get("Host") or headers.get("host") or "127.0.0.1"
    url = f"http://{host}{request['path']}" + (f"?{request['query']}" if request["query"] else "")
    status = request["http_status"]
    return {
        "startedDateTime": datetime.fromtimestamp(request["received_at"], UTC).isoformat(),
        "time": 0,
        "request": {
            "method": request["method"],
            "url": url,
            "httpVersion": "HTTP/1.1",
            "headers": [{"name": k, "value": v} for k, v in headers.items()],
            "queryString": [],
            "cookies": [],
            "headersSize": -1,
            "bodySize": request["body_size"],
            "postData": post_data,
        },
        "response": {
            "status": status,
            "statusText": "OK" if status == 200 else "Bad Request",
            "httpVersion": "HTTP/1.1",
            "headers": [{"name": "Content-Type", "value": "application/json"}],
            "cookies": [],
            "content": {"size": 0, "mimeType": "application/json"},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
        },
        "cache": {},
        "timings": {"send": 0, "wait": 0, "receive": 0},
        "_inspector": {
            "request_id": request["id"],
            "write_key_source": request["write_key_source"],
            "remote_addr": request["remote_addr"],
            "error_code": request["error_code"],
        },
    }
