"""Export a filtered view, and copy one event as JSON or cURL (Qt-free).

Exports go through :mod:`inspector.core.exchange` when this build has it; until then a small
local writer produces the same three formats.
"""

from __future__ import annotations

import csv
import importlib
import shlex
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from inspector.core.model import EventRecord
from inspector.core.store import EventQuery, EventStore

__all__ = ["FORMATS", "curl_command", "event_json", "export_events"]

#: Export format → (file-dialog label, extension).
FORMATS = {"ndjson": ("NDJSON (*.ndjson)", ".ndjson"), "har": ("HAR (*.har)", ".har"),
           "csv": ("CSV (*.csv)", ".csv")}

_TYPE_PATHS = {"track": "track", "identify": "identify", "page": "page", "screen": "screen",
               "group": "group", "alias": "alias"}


def event_json(record: EventRecord) -> str:
    """The event's payload as indented JSON."""
    return orjson.dumps(record.payload or {}, option=orjson.OPT_INDENT_2).decode()


def curl_command(record: EventRecord, base_url: str) -> str:
    """A cURL command that re-sends the event to ``base_url`` (the Tracking API shape)."""
    path = _TYPE_PATHS.get(record.type or "", "track")
    body = orjson.dumps(record.payload or {}).decode()
    parts = ["curl", "-X", "POST", f"{base_url.rstrip('/')}/v1/{path}",
             "-H", "Content-Type: application/json"]
    if record.write_key:
        parts += ["-u", f"{record.write_key}:"]
    parts += ["--data-raw", body]
    return " ".join(shlex.quote(part) for part in parts)


def export_events(store: EventStore, query: EventQuery, path: Path, fmt: str) -> int:
    """Write every event matching ``query`` to ``path`` as ``fmt``; returns how many."""
    try:
        exchange: Any = importlib.import_module("inspector.core.exchange")
    except ImportError:
        exchange = None
    function = getattr(exchange, "export_events", None) if exchange is not None else None
    if function is not None:
        result = function(store, query, path, fmt)
        return int(result) if isinstance(result, int) else 0
    return _export_fallback(store, query, path, fmt)


def _export_fallback(store: EventStore, query: EventQuery, path: Path, fmt: str) -> int:
    count = 0
    if fmt == "ndjson":
        with path.open("wb") as out:
            for record in store.iter_events(query):
                out.write(orjson.dumps(record.payload or {}) + b"\n")
                count += 1
    elif fmt == "csv":
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["id", "received_at", "type", "event", "userId", "anonymousId",
                             "write_key", "status", "violations", "payload"])
            for record in store.iter_events(query):
                writer.writerow([
                    record.id,
                    datetime.fromtimestamp(record.received_at, UTC).isoformat(),
                    record.type, record.name, record.user_id, record.anonymous_id,
                    record.write_key, str(record.status),
                    "; ".join(f"{v.kind}: {v.field}: {v.message}" for v in record.violations),
                    orjson.dumps(record.payload or {}).decode(),
                ])
                count += 1
    elif fmt == "har":
        entries = []
        for record in store.iter_events(query):
            body = orjson.dumps(record.payload or {}).decode()
            entries.append({
                "startedDateTime": datetime.fromtimestamp(record.received_at, UTC).isoformat(),
                "time": 0,
                "request": {"method": "POST", "url": f"/v1/{record.type or 'track'}",
                            "httpVersion": "HTTP/1.1", "headers": [], "queryString": [],
                            "cookies": [], "headersSize": -1, "bodySize": len(body),
                            "postData": {"mimeType": "application/json", "text": body}},
                "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1",
                             "headers": [], "cookies": [], "content": {"size": 0,
                             "mimeType": "application/json"}, "redirectURL": "",
                             "headersSize": -1, "bodySize": -1},
                "cache": {}, "timings": {"send": 0, "wait": 0, "receive": 0},
                "comment": f"{record.status}: {len(record.violations)} violation(s)",
            })
            count += 1
        har = {"log": {"version": "1.2", "creator": {"name": "inspector", "version": "0.1"},
                       "entries": entries}}
        path.write_bytes(orjson.dumps(har, option=orjson.OPT_INDENT_2))
    else:
        raise ValueError(f"unknown export format: {fmt}")
    return count
