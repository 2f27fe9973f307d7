"""Import captures from NDJSON (one Segment call or batch per line) or a browser's HAR file.

Imported traffic goes through the same ingest pipeline as live traffic, so it gets the same
verdict (:class:`~inspector.core.verdict.Classifier`) and lands in the store the same way.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from inspector.core.capture.ingest import IncomingRequest, Ingestor
from inspector.core.capture.normalize import ROUTE_TYPES
from inspector.core.store import EventStore, GroupCommitWriter
from inspector.core.timeutil import parse_timestamp
from inspector.core.verdict import EventValidator
from inspector.core.verdict.normalize import as_sent

__all__ = ["ImportFileError", "ImportSummary", "import_file"]


class ImportFileError(Exception):
    """The file cannot be imported at all (not NDJSON, not HAR)."""


@dataclass(slots=True)
class ImportSummary:
    """What an import stored."""

    requests: int = 0
    events: int = 0
    #: Lines or entries that were not Segment calls, with why (line/entry number first).
    skipped: list[str] = field(default_factory=list)


def import_file(
    path: Path,
    store: EventStore,
    session_id: int,
    *,
    validator: EventValidator | None = None,
) -> ImportSummary:
    """Import ``path`` into session ``session_id``; the format is detected from the content."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ImportFileError(f"cannot read {path}: {error.strerror}") from error
    ingestor = Ingestor(session_id, validator=validator,
                        seen_message_ids=store.message_ids(session_id))
    writer = GroupCommitWriter(store.path, durable=store.durable)
    writer.start()
    try:
        requests = list(_har_requests(data) if _looks_like_har(data) else _ndjson_requests(data))
        summary = ImportSummary()
        futures = []
        for item in requests:
            if isinstance(item, str):
                summary.skipped.append(item)
                continue
            pending, _ = ingestor.process(item)
            futures.append(writer.submit(pending))
        for future in futures:
            _, committed = future.result()
            summary.requests += 1
            summary.events += len(committed)
        return summary
    finally:
        writer.stop()


def _looks_like_har(data: bytes) -> bool:
    head = data[:4096].lstrip()
    return head.startswith(b"{") and b'"log"' in head


def _ndjson_requests(data: bytes) -> list[IncomingRequest | str]:
    results: list[IncomingRequest | str] = []
    now = datetime.now(UTC)
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            results.append(f"line {number}: invalid JSON ({error.msg})")
            continue
        if not isinstance(item, dict):
            results.append(f"line {number}: not a JSON object")
            continue
        received = now
        if "batch" in item:
            route_type = None
        else:
            route_type = item.get("type") if isinstance(item.get("type"), str) else None
            if route_type not in ("identify", "track", "page", "screen", "group", "alias"):
                results.append(f"line {number}: no Segment call type")
                continue
            # An exported event already carries Segment's timestamps: judge it as it was sent
            # and received, so normalising again gives the same values, not "now".
            item, sent_received = as_sent(item)
            received = sent_received or now
        results.append(
            IncomingRequest(
                method="POST", path=f"/import/ndjson#L{number}", query=None,
                headers={"Content-Type": "application/json"}, body=orjson.dumps(item),
                remote_addr=None, received=received, route_type=route_type,
                single_call=route_type is not None,
            )
        )
    return results


def _har_requests(data: bytes) -> list[IncomingRequest | str]:
    try:
        har = orjson.loads(data)
        entries = har["log"]["entries"]
    except (orjson.JSONDecodeError, KeyError, TypeError) as error:
        raise ImportFileError(f"not a HAR file: {error}") from error
    results: list[IncomingRequest | str] = []
    for number, entry in enumerate(entries, start=1):
        request: dict[str, Any] = entry.get("request", {})
        url = urlsplit(request.get("url", ""))
        parts = [part for part in url.path.split("/") if part]
        if len(parts) < 2 or parts[-2] != "v1" or parts[-1] not in ROUTE_TYPES:
            continue  # not a Segment call (a HAR holds every request the page made)
        if request.get("method", "").upper() != "POST":
            continue
        post = request.get("postData") or {}
        text = post.get("text")
        if text is None:
            results.append(f"entry {number}: {url.path} has no body in the HAR")
            continue
        body = base64.b64decode(text) if post.get("encoding") == "base64" else text.encode()
        headers = {
            h["name"]: h["value"] for h in request.get("headers", [])
            # The HAR body is already decoded; its Content-Encoding no longer applies.
            if h.get("name", "").lower() not in ("content-encoding", "content-length")
        }
        received = parse_timestamp(entry.get("startedDateTime")) or datetime.now(UTC)
        route_type = ROUTE_TYPES[parts[-1]]
        results.append(
            IncomingRequest(
                method="POST", path=url.path, query=url.query or None, headers=headers,
                body=body, remote_addr=entry.get("serverIPAddress"), received=received,
                route_type=route_type, single_call=route_type is not None,
            )
        )
    return results
