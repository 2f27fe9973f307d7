"""aiohttp handlers for Segment's Tracking API routes.

Handlers only move bytes: they read the body (bounded), hand it to the
:class:`~inspector.core.capture.ingest.Ingestor`, wait for the group-commit writer to commit it
to SQLite, then answer. A ``200`` therefore always means "committed": it survives a crash or
``kill -9`` of inspector. By default the commit is not fsynced (WAL, ``synchronous=NORMAL``),
so a power cut or an OS crash can still lose the last commits; ``--durable``
(``synchronous=FULL``) fsyncs every commit and closes that gap too.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError as _PayloadError

from inspector.core.capture.ingest import REJECTED_BODY_PREFIX, IncomingRequest
from inspector.core.capture.normalize import ROUTE_TYPES
from inspector.core.query_params import QueryParamError

if TYPE_CHECKING:
    from inspector.core.capture.service import CaptureService
    from inspector.core.store import PendingRequest

__all__ = ["ApiError", "add_tracking_routes", "json_errors_middleware"]

log = logging.getLogger(__name__)

#: Keep at most this much of a request body in memory: twice Segment's 500 KB request limit, so
#: every body Segment accepts (gzip included, which never shrinks past its limit this way) is
#: read whole, and a longer one is known to be too large.
HARD_BODY_CAP = 1024 * 1024
#: Past the cap the rest of a body is read and dropped (hashed, never buffered), so the client
#: can read its 400 answer; past this much the connection is closed instead.
DRAIN_LIMIT = 64 * 1024 * 1024

_SUCCESS = b'{"success":true}'
#: The 1x1 transparent GIF the pixel API answers with.
_PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(data: Any, *, status: int = 200) -> web.Response:
    """A JSON response serialised with orjson."""
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


class ApiError(Exception):
    """An error answered as JSON ``{code, message}`` with an HTTP status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@web.middleware
async def json_errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error as a JSON ``{code, message}`` body, never aiohttp's plain text."""
    try:
        return await handler(request)
    except ApiError as error:
        return json_response({"code": error.code, "message": error.message}, status=error.status)
    except QueryParamError as error:
        return json_response({"code": "invalid_query", "message": error.message}, status=400)
    except web.HTTPNotFound:
        return json_response(
            {"code": "not_found", "message": f"No route for {request.method} {request.path}"},
            status=404,
        )
    except web.HTTPMethodNotAllowed as error:
        allowed = ", ".join(sorted(error.allowed_methods))
        response = json_response(
            {
                "code": "method_not_allowed",
                "message": f"{request.method} is not allowed on {request.path} (use {allowed})",
            },
            status=405,
        )
        response.headers["Allow"] = allowed
        return response
    except web.HTTPException as error:
        return json_response(
            {"code": error.reason.lower().replace(" ", "_"), "message": error.text or error.reason},
            status=error.status,
        )
    except Exception as error:
        log.exception("unexpected error handling %s %s", request.method, request.path)
        return json_response(
            {"code": "internal_error", "message": f"{type(error).__name__}: {error}"}, status=500
        )


@dataclass(slots=True)
class ReadBody:
    """A request body as read: whole, or (``truncated``) a prefix with the whole one's length
    and SHA-256."""

    data: bytes
    size: int
    sha256: str | None = None

    @property
    def truncated(self) -> bool:
        """Only a prefix of the body was kept."""
        return self.sha256 is not None


class BodyNotReceivedError(Exception):
    """The client stopped sending (disconnected, or too slow) before its body was complete."""

    def __init__(self, message: str, *, timed_out: bool) -> None:
        super().__init__(message)
        self.message = message
        self.timed_out = timed_out


async def read_bounded(request: web.Request, timeout: float) -> ReadBody:
    """Read a body, keeping at most :data:`HARD_BODY_CAP` bytes; the rest is hashed and dropped.

    Raises :class:`BodyNotReceivedError` when the body takes longer than ``timeout`` seconds
    to arrive or the client goes away first.
    """
    chunks: list[bytes] = []
    size = 0
    hasher: Any = None
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.content.iter_any():
                size += len(chunk)
                if hasher is None and size <= HARD_BODY_CAP:
                    chunks.append(chunk)
                    continue
                if hasher is None:
                    hasher = hashlib.sha256()
                    for kept in chunks:
                        hasher.update(kept)
                hasher.update(chunk)
                if size > DRAIN_LIMIT:
                    # Not worth reading on: close the connection once answered.
                    request.protocol.keep_alive(False)
                    break
    except TimeoutError:
        raise BodyNotReceivedError(
            f"the body did not arrive within {timeout:g} s ({size:,} bytes received)",
            timed_out=True,
        ) from None
    except (ConnectionError, web.HTTPException, _PayloadError) as error:
        raise BodyNotReceivedError(
            f"the client went away after {size:,} bytes of the body ({type(error).__name__})",
            timed_out=False,
        ) from None
    if hasher is None:
        return ReadBody(b"".join(chunks), size)
    # A rejected body is stored as a prefix only (see ingest.REJECTED_BODY_PREFIX).
    return ReadBody(b"".join(chunks)[:REJECTED_BODY_PREFIX], size, hasher.hexdigest())


def _without_port(host: str) -> str:
    """``name:port`` or ``[v6]:port`` without the port."""
    if host.startswith("["):
        return host[: host.index("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def incoming_request(request: web.Request, read: ReadBody, received: datetime,
                     route_type: str | None = None, single: bool = False) -> IncomingRequest:
    """What the ingestor needs to know of a request."""
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return IncomingRequest(
        method=request.method,
        path=request.path,
        query=request.query_string or None,
        headers=request.headers,
        body=read.data,
        remote_addr=peer[0] if isinstance(peer, tuple) else request.remote,
        received=received,
        route_type=route_type,
        single_call=single,
        truncated=read.truncated,
        full_size=read.size,
        full_sha256=read.sha256,
    )


def add_tracking_routes(app: web.Application, service: CaptureService) -> None:
    """Register every Tracking API route on ``app``."""

    async def read_body(request: web.Request) -> ReadBody | web.Response:
        try:
            return await read_bounded(request, service.body_timeout)
        except BodyNotReceivedError as error:
            # Never acknowledged, so the client (if it is still there) sends it again; half a
            # body is not stored as if it were a request.
            log.info("%s %s from %s: client stopped sending: %s; nothing stored",
                     request.method, request.path, request.remote, error.message)
            status, code = (408, "request_timeout") if error.timed_out else (
                400, "incomplete_body")
            response = json_response({"code": code, "message": f"Incomplete request: "
                                      f"{error.message}"}, status=status)
            # Answer, then close at once: aiohttp would otherwise linger reading the rest.
            with contextlib.suppress(ConnectionError):
                await response.prepare(request)
                await response.write_eof()
            request.protocol.force_close()
            return response

    async def commit(pending: PendingRequest) -> web.Response | None:
        """Commit ``pending``; the answer to give instead of a success if it could not be."""
        try:
            await service.writer.submit_async(pending)
        except Exception as store_error:
            log.error("capture not stored: %s", store_error)
            service.after_capture(pending, committed=False)
            # 5xx makes every official client keep the events and retry: nothing is lost.
            return json_response(
                {"code": "storage_error", "message": f"Could not store the request: {store_error}"},
                status=503,
            )
        service.after_capture(pending, committed=True)
        return None

    async def capture(request: web.Request, route_type: str | None, single: bool,
                      body: bytes | None = None) -> web.Response:
        received = datetime.now(UTC)
        read = ReadBody(body, len(body)) if body is not None else await read_body(request)
        if isinstance(read, web.Response):
            return read
        body = read.data
        incoming = incoming_request(request, read, received, route_type, single)
        pending, error = service.ingestor.process(incoming)
        # A pixel GET goes upstream as the GET it was, without the body decoded from its query.
        service.queue_forward(pending, request, b"" if request.method == "GET" else body,
                              cut=read.truncated)
        failure = await commit(pending)
        if failure is not None:
            service.ingestor.forget(pending)
            return failure
        if error is not None:
            return json_response(error.to_body(), status=error.http_status)
        if route_type == "pixel":
            return web.Response(body=_PIXEL_GIF, content_type="image/gif")
        return web.Response(body=_SUCCESS, content_type="application/json")

    async def tracking(request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        if kind not in ROUTE_TYPES:
            raise web.HTTPNotFound()
        route_type = ROUTE_TYPES[kind]
        return await capture(request, route_type, single=route_type is not None)

    async def metrics(request: web.Request) -> web.Response:
        # analytics.js telemetry ({"series": [...]}): not an event. Drain and acknowledge; with
        # --forward, also store it as a request without events and send it on.
        received = datetime.now(UTC)
        read = await read_body(request)
        if isinstance(read, web.Response):
            return read
        if service.forwarder is not None:
            pending = service.ingestor.bare_request(incoming_request(request, read, received))
            service.queue_forward(pending, request, read.data, cut=read.truncated)
            failure = await commit(pending)
            if failure is not None:
                return failure
        return web.Response(body=_SUCCESS, content_type="application/json")

    async def pixel(request: web.Request) -> web.Response:
        call_type = request.match_info["kind"]
        if call_type not in ("identify", "group", "alias", "page", "screen", "track"):
            raise web.HTTPNotFound()
        data = request.query.get("data", "")
        try:
            # The pixel API takes base64 JSON; tolerate URL-safe alphabets and lost padding.
            body = base64.b64decode(
                data.replace("-", "+").replace("_", "/") + "=" * (-len(data) % 4), validate=True
            )
        except (binascii.Error, ValueError):
            body = data.encode()
        response = await capture(request, call_type, single=True, body=body)
        if response.status == 200:
            return web.Response(body=_PIXEL_GIF, content_type="image/gif")
        return response

    async def project_settings(request: web.Request) -> web.Response:
        write_key = request.match_info["write_key"]
        # Echo the Host only when the API would accept it: a DNS-rebinding page must not
        # have its own domain handed back as the place to send events.
        host = service.access.public_host(request.headers.get("Host"), service.bound_netloc)
        scheme = request.scheme
        if service.tls_port is not None:
            # analytics-next's batching posts to https://<apiHost> whatever this says, so with
            # --tls every browser call goes to the HTTPS port, under the name the page used.
            host, scheme = f"{_without_port(host)}:{service.tls_port}", "https"
        return json_response(
            {
                "integrations": {
                    "Segment.io": {
                        "apiKey": write_key,
                        "apiHost": f"{host}/v1",
                        "protocol": scheme,
                        "unbundledIntegrations": [],
                        "addBundledMetadata": True,
                    }
                },
                "plan": {"track": {"__default": {"enabled": True, "integrations": {}}},
                         "identify": {"__default": {"enabled": True}},
                         "group": {"__default": {"enabled": True}}},
                "edgeFunction": {},
                "analyticsNextEnabled": True,
                "middlewareSettings": {},
                "enabledMiddleware": {},
                "metrics": {"sampleRate": 0},
                "legacyVideoPluginsEnabled": False,
                "remotePlugins": [],
            }
        )

    router = app.router
    for suffix in ("", "/"):
        router.add_post("/v1/m" + suffix, metrics)
        router.add_post("/v1/{kind}" + suffix, tracking)
        router.add_get("/v1/pixel/{kind}" + suffix, pixel)
        router.add_get("/v1/projects/{write_key}/settings" + suffix, project_settings)
        router.add_get("/projects/{write_key}/settings" + suffix, project_settings)
