"""Export a filtered view (through :mod:`inspector.core.exchange`), and copy one event as JSON
or cURL (Qt-free)."""

from __future__ import annotations

import shlex
from pathlib import Path

import orjson

from inspector.core.exchange import export_events as core_export
from inspector.core.exchange.export import ExportSummary
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


def export_events(store: EventStore, query: EventQuery, path: Path, fmt: str) -> ExportSummary:
    """Write every event matching ``query`` to ``path`` as ``fmt``; says how many."""
    newline = "" if fmt == "csv" else None  # the csv module writes its own line endings
    with path.open("w", encoding="utf-8", newline=newline) as stream:
        return core_export(store, query, fmt, stream)
