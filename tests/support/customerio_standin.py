"""A local Customer.io stand-in (Track API v1/v2 and Pipelines) that enforces the documented rules.

Rules (reference ``customerio-apis.md`` §1-3 and §6):

- 401 on wrong Basic auth (Track: ``site_id:api_key``; Pipelines: ``cdp_key:``).
- 400 bodies in the documented shapes: v1 ``{"meta":{"errors":[...]}}``, merge
  ``{"meta":{"error":"..."}}``, v2 ``{"errors":[{"reason","field","message"}]}``.
- Limits: id/attribute name 150 B, attribute value 1000 B, 300 attributes, event name 100 B,
  event data 100 000 B, v2 operation 32 KB, batch 500 KB.
- v2 batches with some bad operations answer 207 with ``batch_index`` per error.
- Events are deduplicated on ``id`` (Track) or ``messageId`` (Pipelines); ``duplicates`` counts
  the ignored repeats.
- Faults: :meth:`CustomerIOStandIn.inject` queues exact answers for the next requests, and
  ``fault_rate`` answers that fraction of requests with 429/503 (seeded, reproducible).
- What the real API leaves undocumented (non-integer timestamps, non-ULID ids) is recorded in
  ``warnings`` rather than refused.
"""

from __future__ import annotations

import base64
import random
import re
import ssl
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import orjson
from aiohttp import web

__all__ = ["CustomerIOStandIn", "Received"]

_ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")
_PERSON_KEYS = frozenset({"id", "email", "cio_id", "phone", "anonymous_id"})
_V2_PERSON_ACTIONS = frozenset({"identify", "delete", "event", "screen", "page",
                                "add_relationships", "delete_relationships", "add_device",
                                "delete_device", "merge", "suppress", "unsuppress"})
_V2_OBJECT_ACTIONS = frozenset({"identify", "identify_anonymous", "delete",
                                "add_relationships", "delete_relationships"})


@dataclass(slots=True)
class Received:
    """One request as the stand-in saw it (faulted and refused ones included)."""

    method: str
    path: str
    raw_path: str
    headers: dict[str, str]
    body: bytes
    status: int = 0

    def json(self) -> Any:
        """The body parsed as JSON."""
        return orjson.loads(self.body)


@dataclass(slots=True)
class _Fault:
    status: int | None
    retry_after: str | None


@dataclass
class CustomerIOStandIn:
    """The stand-in's state and its aiohttp application."""

    site_id: str = "site-123"
    api_key: str = "track-key-456"
    cdp_key: str = "cdp-key-789"
    region: str = "us"
    fault_rate: float = 0.0
    fault_statuses: tuple[int, ...] = (429, 503)
    fault_retry_after: str | None = "0"
    seed: int = 0
    requests: list[Received] = field(default_factory=list)
    #: Accepted events by dedupe id, in first-arrival order.
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: (person, dedupe id) in arrival order, for ordering checks.
    timeline: list[tuple[str, str]] = field(default_factory=list)
    people: dict[str, dict[str, Any]] = field(default_factory=dict)
    merges: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0
    warnings: list[str] = field(default_factory=list)
    faults_sent: int = 0

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._queued: deque[_Fault] = deque()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # ---- control

    def inject(self, *statuses: int | None, retry_after: str | None = None) -> None:
        """Answer the next ``len(statuses)`` requests with these statuses, in order.

        ``None`` lets that request through to the normal rules.
        """
        self._queued.extend(_Fault(status, retry_after) for status in statuses)

    def set_fault_rate(self, rate: float, *, seed: int = 0) -> None:
        """Answer ``rate`` of the requests with a random one of ``fault_statuses`` (seeded)."""
        self.fault_rate = rate
        self._random = random.Random(seed)

    async def start(self, ssl_context: ssl.SSLContext | None = None) -> str:
        """Serve on 127.0.0.1 on a free port; returns the base URL (http or https)."""
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=ssl_context)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def track_auth(self) -> str:
        """The valid Track API Authorization header."""
        return "Basic " + base64.b64encode(f"{self.site_id}:{self.api_key}".encode()).decode()

    # ---- dispatch

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        received = Received(request.method, request.path, request.raw_path,
                            dict(request.headers), body)
        self.requests.append(received)
        response = self._answer(request, received)
        received.status = response.status
        return response

    def _answer(self, request: web.Request, received: Received) -> web.Response:
        path = request.path
        pipelines = path.startswith("/v1/")
        expected = (base64.b64encode(f"{self.cdp_key}:".encode()).decode() if pipelines else
                    base64.b64encode(f"{self.site_id}:{self.api_key}".encode()).decode())
        if request.headers.get("Authorization") != f"Basic {expected}":
            return web.Response(status=401, text="Unauthorized request")
        fault = self._fault(path)
        if fault is not None and fault.status is not None:
            self.faults_sent += 1
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            return web.json_response({"meta": {"error": "injected fault"}},
                                     status=fault.status, headers=headers)
        if path == "/api/v1/accounts/region" and request.method == "GET":
            host = "https://track-eu.customer.io" if self.region == "eu" else \
                "https://track.customer.io"
            return web.json_response({"url": host, "region": self.region,
                                      "environment_id": 1})
        try:
            data = orjson.loads(received.body) if received.body else None
        except orjson.JSONDecodeError:
            data = _INVALID
        if path.startswith("/api/v2/"):
            return self._v2(path, data)
        if pipelines:
            return self._pipelines(path, data, request.headers.get("X-Strict-Mode") == "1")
        return self._v1(request, data)

    def _fault(self, path: str) -> _Fault | None:
        if self._queued:
            return self._queued.popleft()
        if self.fault_rate and path != "/api/v1/accounts/region" and \
                self._random.random() < self.fault_rate:
            return _Fault(self._random.choice(self.fault_statuses), self.fault_retry_after)
        return None

    # ---- Track v1

    def _v1(self, request: web.Request, data: Any) -> web.Response:
        # Split the raw path, then decode each segment: an id may contain an encoded "/".
        raw = request.raw_path.split("?", 1)[0].lstrip("/")
        parts = [unquote(part) for part in raw.split("/")]
        method = request.method
        if data is _INVALID or (data is not None and not isinstance(data, dict)):
            return _v1_errors(["malformed JSON body"])
        data = data or {}
        if parts[:2] != ["api", "v1"]:
            return web.json_response({"meta": {"errors": ["not found"]}}, status=404)
        rest = parts[2:]
        if rest == ["merge_customers"] and method == "POST":
            return self._merge(data)
        if rest == ["events"] and method == "POST":
            anonymous_id = data.get("anonymous_id")
            return self._event(data, f"a:{anonymous_id}" if anonymous_id else "invite")
        if len(rest) >= 2 and rest[0] == "customers":
            customer = rest[1]
            if len(customer.encode()) > 150:
                return _v1_errors(["identifier is longer than 150 bytes"])
            if len(rest) == 2 and method == "PUT":
                return self._identify(customer, data)
            if len(rest) == 3 and rest[2] == "events" and method == "POST":
                return self._event(data, f"u:{customer}")
            if method in ("DELETE", "POST"):
                return web.json_response({})
        return web.json_response({"meta": {"errors": ["not found"]}}, status=404)

    def _identify(self, customer: str, attributes: dict[str, Any]) -> web.Response:
        errors = _attribute_errors(attributes)
        if errors:
            return _v1_errors(errors)
        if "created_at" in attributes and not isinstance(attributes["created_at"], int):
            self.warnings.append(f"created_at is not integer seconds: {attributes['created_at']}")
        person = self.people.setdefault(customer, {})
        person.update(attributes)
        self.timeline.append((f"u:{customer}", "identify"))
        return web.json_response({})

    def _event(self, data: dict[str, Any], person: str) -> web.Response:
        errors = []
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            errors.append("name is required")
        elif len(name.encode()) > 100:
            errors.append("event name is longer than 100 bytes")
        if len(orjson.dumps(data.get("data") or {})) > 100_000:
            errors.append("event data is larger than 100000 bytes")
        if errors:
            return _v1_errors(errors)
        self._check_event_fields(data)
        self._accept(str(data.get("id") or f"noid-{len(self.events)}"), person, data)
        return web.json_response({})

    def _merge(self, data: dict[str, Any]) -> web.Response:
        for side in ("primary", "secondary"):
            value = data.get(side)
            if not isinstance(value, dict) or len(value) != 1:
                return web.json_response(
                    {"meta": {"error": f"{side} must have exactly one identifier"}}, status=400
                )
            if next(iter(value)) not in ("id", "email", "cio_id"):
                return web.json_response(
                    {"meta": {"error": f"{side} identifier must be id, email or cio_id"}},
                    status=400,
                )
        self.merges.append(data)
        return web.json_response({})

    # ---- Track v2

    def _v2(self, path: str, data: Any) -> web.Response:
        if data is _INVALID or not isinstance(data, dict):
            return _v2_errors([{"reason": "invalid", "field": "", "message": "malformed JSON"}])
        if path == "/api/v2/entity":
            error = self._v2_operation(data)
            return _v2_errors([error]) if error else web.json_response({})
        if path != "/api/v2/batch":
            return web.json_response({"errors": [{"message": "not found"}]}, status=404)
        if len(orjson.dumps(data)) > 500_000:
            return _v2_errors([{"reason": "too_large", "field": "batch",
                                "message": "batch is larger than 500 KB"}])
        batch = data.get("batch")
        if not isinstance(batch, list) or not batch:
            return _v2_errors([{"reason": "required", "field": "batch",
                                "message": "batch must be a non-empty list"}])
        errors = []
        for index, operation in enumerate(batch):
            error = self._v2_operation(operation)
            if error:
                errors.append({"batch_index": index, **error})
        if errors:
            return web.json_response({"errors": errors}, status=207)
        return web.json_response({})

    def _v2_operation(self, op: Any) -> dict[str, str] | None:
        if not isinstance(op, dict):
            return {"reason": "invalid", "field": "", "message": "operation must be an object"}
        if len(orjson.dumps(op)) > 32_000:
            return {"reason": "too_large", "field": "", "message": "operation over 32 KB"}
        kind, action = op.get("type"), op.get("action")
        allowed = _V2_PERSON_ACTIONS if kind == "person" else (
            _V2_OBJECT_ACTIONS if kind == "object" else frozenset())
        if action not in allowed:
            return {"reason": "invalid", "field": "action",
                    "message": f"unknown {kind}/{action}"}
        if action == "merge":
            for side in ("primary", "secondary"):
                value = op.get(side)
                if not isinstance(value, dict) or len(value) != 1:
                    return {"reason": "invalid", "field": side,
                            "message": f"{side} must have exactly one identifier"}
            self.merges.append(op)
            return None
        identifiers = op.get("identifiers")
        if kind == "person":
            if not isinstance(identifiers, dict) or len(identifiers) != 1 or \
                    not set(identifiers) <= _PERSON_KEYS:
                return {"reason": "invalid", "field": "identifiers",
                        "message": "exactly one of id, email, cio_id is required"}
        elif not isinstance(identifiers, dict) or "object_id" not in identifiers:
            return {"reason": "required", "field": "identifiers.object_id",
                    "message": "object_id is required"}
        attributes = op.get("attributes") or {}
        if action == "identify" and kind == "person":
            errors = _attribute_errors(attributes)
            if errors:
                return {"reason": "invalid", "field": "attributes", "message": errors[0]}
            key = next(iter(identifiers.items()))
            self.people.setdefault(f"{key[0]}:{key[1]}", {}).update(attributes)
            self.timeline.append((_person(identifiers), "identify"))
        if action in ("event", "page", "screen"):
            name = op.get("name")
            if not isinstance(name, str) or not name.strip():
                return {"reason": "required", "field": "name", "message": "name is required"}
            self._check_event_fields(op)
            self._accept(str(op.get("id") or f"noid-{len(self.events)}"),
                         _person(identifiers), op)
        return None

    # ---- Pipelines

    def _pipelines(self, path: str, data: Any, strict: bool) -> web.Response:
        def refuse(message: str) -> web.Response:
            if strict:
                return web.json_response({"errors": [{"message": message}]}, status=400)
            # Documented: over-limit or malformed requests get 200 and are dropped silently.
            self.warnings.append(f"silently dropped: {message}")
            return web.json_response({})

        if path != "/v1/batch":
            return web.json_response({"errors": [{"message": "not found"}]}, status=404)
        if data is _INVALID or not isinstance(data, dict) or not isinstance(
                data.get("batch"), list):
            return refuse("body must be {\"batch\": [...]}")
        if len(orjson.dumps(data)) > 500_000:
            return refuse("batch over 500 KB")
        for call in data["batch"]:
            if not isinstance(call, dict) or call.get("type") not in (
                    "identify", "track", "page", "screen", "group", "alias"):
                return refuse("invalid call type")
            if not (call.get("userId") or call.get("anonymousId")):
                return refuse("userId or anonymousId is required")
            if len(orjson.dumps(call)) > 32_000:
                return refuse("call over 32 KB")
        for call in data["batch"]:
            person = f"u:{call['userId']}" if call.get("userId") else f"a:{call['anonymousId']}"
            self._accept(str(call.get("messageId") or f"noid-{len(self.events)}"), person, call)
        return web.json_response({})

    # ---- helpers

    def _accept(self, dedupe_id: str, person: str, event: dict[str, Any]) -> None:
        if dedupe_id in self.events:
            self.duplicates += 1
            return
        self.events[dedupe_id] = event
        self.timeline.append((person, dedupe_id))

    def _check_event_fields(self, data: dict[str, Any]) -> None:
        if "timestamp" in data and not isinstance(data["timestamp"], int):
            self.warnings.append(f"timestamp is not integer seconds: {data['timestamp']!r}")
        if "id" in data and not _ULID.fullmatch(str(data["id"])):
            self.warnings.append(f"id is not a ULID: {data['id']!r}")


_INVALID: Any = object()


def _person(identifiers: dict[str, Any]) -> str:
    key, value = next(iter(identifiers.items()))
    return {"id": "u", "email": "u", "anonymous_id": "a"}.get(key, key) + f":{value}"


def _attribute_errors(attributes: Any) -> list[str]:
    if not isinstance(attributes, dict):
        return ["attributes must be an object"]
    errors = []
    if len(attributes) > 300:
        errors.append(f"{len(attributes)} attributes, more than 300")
    for name, value in attributes.items():
        if len(name.encode()) > 150:
            errors.append(f"attribute name {name[:20]!r}... is longer than 150 bytes")
        size = len(value.encode()) if isinstance(value, str) else len(orjson.dumps(value))
        if size > 1000:
            errors.append(f"attribute {name!r} value is larger than 1000 bytes")
    return errors


def _v1_errors(errors: list[str]) -> web.Response:
    return web.json_response({"meta": {"errors": errors}}, status=400)


def _v2_errors(errors: list[dict[str, str]]) -> web.Response:
    return web.json_response({"errors": errors}, status=400)


class StandInThread:
    """The stand-in on its own event loop thread, for synchronous callers (CLI tests)."""

    def __init__(self, standin: CustomerIOStandIn) -> None:
        import asyncio
        import threading

        self.standin = standin
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> CustomerIOStandIn:
        import asyncio

        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.standin.start(), self._loop).result()
        return self.standin

    def __exit__(self, *exc_info: object) -> None:
        import asyncio

        asyncio.run_coroutine_threadsafe(self.standin.stop(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
