"""The ingest pipeline: one HTTP request in, one durable-ready :class:`PendingRequest` out.

decode → parse → split the batch → the verdict on each call
(:class:`~inspector.core.verdict.Classifier`: normalise, ingestion checks, plan, status) →
rows for the store. Nothing here does I/O, so the whole pipeline runs (and is tested) without a
server; the aiohttp handlers in :mod:`inspector.core.capture.routes` only move bytes in and out.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from inspector.core.capture.decode import (
    RequestError,
    big_integers,
    decode_body,
    parse_json,
    write_key_from,
)
from inspector.core.capture.normalize import split_request
from inspector.core.model import Status, Violation, ViolationKind
from inspector.core.store.writer import PendingEvent, PendingRequest
from inspector.core.timeutil import format_iso
from inspector.core.verdict import Classifier, EventValidator, ingestion_violation
from inspector.core.verdict.checks import MAX_EVENT_BYTES, MAX_REQUEST_BYTES
from inspector.core.verdict.storable import storable_json

__all__ = ["REJECTED_BODY_PREFIX", "EventValidator", "IncomingRequest", "Ingestor"]

#: Of a rejected request's body only this prefix is stored, with its full length and SHA-256:
#: enough to see what a client sent, without letting a client fill the disk with junk.
REJECTED_BODY_PREFIX = 64 * 1024
#: Characters of one header value stored (cookies and user agents fit; padding does not).
MAX_STORED_HEADER_VALUE = 1024


@dataclass(slots=True)
class IncomingRequest:
    """An HTTP request as the server library handed it over."""

    method: str
    path: str
    query: str | None
    headers: Mapping[str, str]
    body: bytes
    remote_addr: str | None
    received: datetime
    #: The call type the path implies; ``None`` for a batch route.
    route_type: str | None
    #: For single-call routes Segment's limit is per event; for batches, per request.
    single_call: bool
    #: The server stopped keeping the body at its hard cap: ``body`` is only a prefix.
    truncated: bool = False
    #: With ``truncated``: the length of the whole body as sent, and its SHA-256 (hex).
    full_size: int | None = None
    full_sha256: str | None = None


class Ingestor:
    """Turns requests into rows, remembering messageIds to flag duplicates within a session.

    Not thread-safe: one ingestor belongs to one event loop, as the server's handlers do.
    """

    def __init__(
        self,
        session_id: int,
        *,
        validator: EventValidator | None = None,
        seen_message_ids: set[str] | None = None,
    ) -> None:
        self.session_id = session_id
        #: The session's messageIds, shared with the classifier, which flags repeats.
        self._seen = seen_message_ids if seen_message_ids is not None else set()
        self.classifier = Classifier(validator, seen_message_ids=self._seen)

    @property
    def validator(self) -> EventValidator | None:
        """The plan new captures are validated against (``None``: not validated)."""
        return self.classifier.validator

    @validator.setter
    def validator(self, validator: EventValidator | None) -> None:
        self.classifier.validator = validator

    def switch_session(self, session_id: int, seen_message_ids: set[str]) -> None:
        """Start filing requests under another session."""
        self.session_id = session_id
        self.classifier.seen = self._seen = seen_message_ids

    def forget(self, request: PendingRequest) -> None:
        """Undo duplicate tracking for a request that could not be stored (its client retries)."""
        for event in request.events:
            if event.message_id is not None:
                self._seen.discard(event.message_id)

    def bare_request(self, incoming: IncomingRequest) -> PendingRequest:
        """The request row alone, without parsing any events out of it (analytics.js
        telemetry, stored only to be forwarded); a long body keeps only a prefix."""
        pending = self._request_row(incoming)
        _keep_prefix(pending, incoming)
        return pending

    def _request_row(self, incoming: IncomingRequest) -> PendingRequest:
        # Header names arrive as aiohttp's case-insensitive ``istr``; store plain strings.
        # The server takes at most 64 headers of 8 KB; only a prefix of a long value is kept.
        headers = {
            str(name): value if len(value) <= MAX_STORED_HEADER_VALUE else _cut_header(value)
            for name, value in incoming.headers.items()
        }
        return PendingRequest(
            session_id=self.session_id,
            received_at=incoming.received.timestamp(),
            method=incoming.method,
            path=incoming.path,
            query=incoming.query,
            remote_addr=incoming.remote_addr,
            headers_json=orjson.dumps(headers).decode(),
            body=incoming.body,
            body_size=len(incoming.body),
            http_status=200,
        )

    def process(self, incoming: IncomingRequest) -> tuple[PendingRequest, RequestError | None]:
        """Build the rows for one request; the error, if any, is what to answer with."""
        received_at = incoming.received.timestamp()
        pending = self._request_row(incoming)
        limit = MAX_EVENT_BYTES if incoming.single_call else MAX_REQUEST_BYTES
        body: Any = None
        try:
            if incoming.truncated:
                size = incoming.full_size or len(incoming.body)
                raise RequestError(
                    "payload_too_large",
                    f"Payload is too large: {size:,} bytes, the limit is {limit:,} bytes",
                )
            decoded = decode_body(
                incoming.body, _header(incoming.headers, "Content-Encoding"), limit=limit,
            )
            body = parse_json(decoded)
            items, envelope = split_request(incoming.route_type, body)
        except RequestError as raised:
            # Answer with a fresh copy: the raised one holds a traceback, whose frames (with
            # the request body in their locals) would form a reference cycle with the caller's
            # frame that only the (rarely run, in serve) cyclic collector could free.
            error = RequestError(raised.code, raised.message, http_status=raised.http_status)
            del raised
            write_key, source = write_key_from(
                _header(incoming.headers, "Authorization"), body if isinstance(body, dict) else None
            )
            pending.write_key, pending.write_key_source = write_key, source
            pending.http_status = error.http_status
            pending.error_code, pending.error_message = error.code, error.message
            pending.events.append(self._malformed_request_row(incoming, error, write_key))
            _keep_prefix(pending, incoming)
            return pending, error

        write_key, source = write_key_from(_header(incoming.headers, "Authorization"), body)
        pending.write_key, pending.write_key_source = write_key, source
        received_iso = format_iso(incoming.received)
        parsed_sent: dict[str, datetime | None] = {}
        big = _big_integers_by_item(decoded, incoming.route_type is None, len(items))
        for index, item in enumerate(items):
            pending.events.append(
                self._event_row(item, envelope, incoming, received_at, received_iso, write_key,
                                single=incoming.single_call,
                                batch_size=len(items), parsed_sent=parsed_sent,
                                big_integers=big.get(index, ()))
            )
        return pending, None

    def _event_row(
        self,
        item: Any,
        envelope: dict[str, Any],
        incoming: IncomingRequest,
        received_at: float,
        received_iso: str,
        write_key: str | None,
        *,
        single: bool,
        batch_size: int,
        parsed_sent: dict[str, datetime | None],
        big_integers: tuple[tuple[str, str], ...] = (),
    ) -> PendingEvent:
        verdict = self.classifier.classify(
            item, received=incoming.received, received_iso=received_iso, envelope=envelope,
            parsed_sent=parsed_sent, batch_size=batch_size, single=single,
            big_integers=big_integers,
        )
        return _row(received_at, write_key, verdict.payload, verdict.violations, verdict.status,
                    verdict.payload_json)

    def _malformed_request_row(
        self, incoming: IncomingRequest, error: RequestError, write_key: str | None
    ) -> PendingEvent:
        kind = {
            "invalid_json": ViolationKind.INVALID_JSON,
            "payload_too_large": ViolationKind.PAYLOAD_TOO_LARGE,
        }.get(error.code, ViolationKind.INVALID_JSON)
        violation = ingestion_violation(kind, "", error.message)
        return PendingEvent(
            received_at=incoming.received.timestamp(),
            write_key=write_key,
            type=incoming.route_type,
            name=None,
            user_id=None,
            anonymous_id=None,
            message_id=None,
            library=None,
            status=str(Status.MALFORMED),
            violation_count=1,
            violations_json=orjson.dumps([violation.to_dict()]).decode(),
            payload_json=None,
        )


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # aiohttp's headers are case-insensitive already; plain dicts (tests, importers) may not be.
    value = headers.get(name)
    if value is None and isinstance(headers, dict):  # only plain dicts are case-sensitive
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def _cut_header(value: str) -> str:
    return f"{value[:MAX_STORED_HEADER_VALUE]}… ({len(value):,} characters, truncated)"


def _keep_prefix(pending: PendingRequest, incoming: IncomingRequest) -> None:
    """Store only a prefix of a long rejected body, with its full length and hash."""
    if not incoming.truncated and len(incoming.body) <= REJECTED_BODY_PREFIX:
        return
    pending.body_size = incoming.full_size or len(incoming.body)
    pending.body_sha256 = incoming.full_sha256 or hashlib.sha256(incoming.body).hexdigest()
    pending.body = incoming.body[:REJECTED_BODY_PREFIX]


def _big_integers_by_item(
    body: bytes, batch: bool, count: int
) -> dict[int, tuple[tuple[str, str], ...]]:
    """Integers beyond 64 bits per item index, as (dotted field, literal) pairs."""
    found = big_integers(body)
    if not found:
        return {}
    by_item: dict[int, list[tuple[str, str]]] = {}
    for path, literal in found:
        if not batch:
            by_item.setdefault(0, []).append((_dotted(path), literal))
        elif len(path) > 2 and path[0] == "batch" and isinstance(path[1], int):
            by_item.setdefault(path[1], []).append((_dotted(path[2:]), literal))
        elif path and path[0] in ("context", "integrations"):
            # The envelope's context and integrations are merged into every item.
            for index in range(count):
                by_item.setdefault(index, []).append((_dotted(path), literal))
    return {index: tuple(sorted(pairs)) for index, pairs in by_item.items()}


def _dotted(path: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in path)


def _text(value: Any) -> str | None:
    """An id column value: Segment accepts numeric ids and stores them as strings; an object or
    array id (a violation) is kept as its compact JSON, so it can still be searched for."""
    if value is None:
        return None
    if isinstance(value, dict | list):
        return storable_json(value)[0]
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


@functools.lru_cache(maxsize=4096)
def _violation_json(violation: Violation) -> str:
    """One violation as JSON. The validator hands out shared, immutable violations (the same
    "Unplanned Property" for every event that carries that key), so most are cache hits."""
    return orjson.dumps(violation.to_dict()).decode()


@functools.lru_cache(maxsize=256)
def _library_label(name: object, version: object) -> str | None:
    """``context.library`` as one label; few distinct values, so cached."""
    return " ".join(str(part) for part in (name, version) if part) or None


#: Types whose values the library-label cache can take (hashable JSON scalars).
_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})


def _row(
    received_at: float,
    write_key: str | None,
    payload: dict[str, Any] | None,
    violations: list[Violation],
    status: Status,
    payload_json: str,
) -> PendingEvent:
    # Runs once per captured event: plain type() checks instead of isinstance() with unions,
    # which cost several times more on this path.
    payload = payload or {}
    get = payload.get
    call_type = get("type")
    name = get("event") if call_type == "track" else get("name")
    library = None
    context = get("context")
    if type(context) is dict:
        lib = context.get("library")
        if type(lib) is dict:
            lib_name, lib_version = lib.get("name"), lib.get("version")
            if type(lib_name) in _SCALAR_TYPES and type(lib_version) in _SCALAR_TYPES:
                library = _library_label(lib_name, lib_version)
    user_id = get("userId")
    anonymous_id = get("anonymousId")
    message_id = get("messageId")
    return PendingEvent(
        received_at,
        write_key,
        call_type if type(call_type) is str else None,
        # Ids are almost always strings already; _text() handles the rest.
        name if type(name) is str else _text(name),
        user_id if type(user_id) is str else _text(user_id),
        anonymous_id if type(anonymous_id) is str else _text(anonymous_id),
        message_id if type(message_id) is str else _text(message_id),
        library,
        str(status),
        len(violations),
        "[" + ",".join(_violation_json(v) for v in violations) + "]" if violations else "[]",
        payload_json,
    )
