"""Connection limits: how many sockets the server holds, for how long, and what a bad one costs.

A process has a file-descriptor limit (often 1,024 on desktops), and every open connection takes
one. Without limits, idle connections exhaust it: ``accept()`` then fails on every attempt, the
API stops answering and asyncio logs a traceback for each failure. So the server

- raises its soft descriptor limit to the hard one at start (:func:`raise_fd_limit`);
- closes idle connections after a keep-alive timeout (aiohttp's ``keepalive_timeout``, which also
  covers a connection that never sends a request) and slow bodies after a body timeout (see
  :func:`inspector.core.capture.routes.read_bounded`);
- holds at most :func:`connection_limit` connections (:class:`ConnectionGate`): past it, a new
  connection first closes the longest-idle one (no request in flight, so nothing acknowledged is
  lost), and when every connection is busy it is answered ``503`` (clients retry later) and
  closed. That is logged once per episode, not per connection.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage, LineTooLong
from aiohttp.web_protocol import RequestHandler

__all__ = [
    "ConnectionGate",
    "GatedTCPSite",
    "JsonErrorRequestHandler",
    "connection_limit",
    "quiet_accept_errors",
    "raise_fd_limit",
]

log = logging.getLogger(__name__)

#: Descriptors kept free for everything that is not a client connection (SQLite files and their
#: WAL, the listening socket, pipes, the plan file, the event loop's own).
_RESERVED_FDS = 64
#: Never raise the soft limit beyond this (some systems have an "unlimited" hard limit).
_FD_CEILING = 65536

#: aiohttp's parser limits for a request head: Segment clients send a dozen short headers, a
#: browser a few dozen (cookies included); more than this is answered 431.
MAX_HEADERS = 64
MAX_FIELD_SIZE = 8190
MAX_LINE_SIZE = 8190

_ACCEPT_ERROR = "socket.accept() out of system resource"


def raise_fd_limit() -> int:
    """Raise the soft ``RLIMIT_NOFILE`` towards the hard limit; the soft limit in force after."""
    try:
        import resource
    except ImportError:  # not on this platform (Windows): nothing to raise
        return 512
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = _FD_CEILING if hard == resource.RLIM_INFINITY else min(hard, _FD_CEILING)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as error:
            log.debug("could not raise the file limit from %d to %d: %s", soft, target, error)
    return int(soft if soft != resource.RLIM_INFINITY else _FD_CEILING)


def connection_limit(fd_limit: int) -> int:
    """How many client connections to hold under a descriptor limit."""
    return max(16, fd_limit - max(_RESERVED_FDS, fd_limit // 8))


def _header_too_large(error: BaseException | None) -> bool:
    return isinstance(error, LineTooLong) or (
        isinstance(error, BadHttpMessage) and "too many headers" in str(error).lower()
    )


class JsonErrorRequestHandler(RequestHandler):
    """aiohttp's connection handler, answering malformed requests in JSON with one log line.

    aiohttp answers a request it cannot parse in plain text and logs a traceback for each; a
    client (or a scanner) sending junk would flood the log. Oversized heads get ``431``.
    """

    __slots__ = ()

    def handle_error(self, request: Any, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        """The error answer for a request aiohttp could not parse (the connection closes)."""
        if status >= 500:
            return super().handle_error(request, status, exc, message)
        if _header_too_large(exc):
            status, code = 431, "request_header_fields_too_large"
            text = (f"Request headers are too large (at most {MAX_HEADERS} headers of "
                    f"{MAX_FIELD_SIZE:,} bytes each)")
        else:
            code, text = "bad_request", f"Malformed HTTP request: {message or exc}"
        log.info("%s from %s: %s", status, request.remote, text)
        if request.writer.output_size > 0:
            raise ConnectionError("Response is sent already, cannot send an error answer")
        response = web.Response(body=orjson.dumps({"code": code, "message": text}),
                                status=status, content_type="application/json")
        response.force_close()
        return response


def _idle(handler: RequestHandler) -> bool:
    # aiohttp has no public "idle" flag: no request running and none queued (pipelined). One
    # closed a moment ago stays listed until the loop's next turn: not a candidate again.
    transport = handler.transport
    return (transport is not None and not transport.is_closing()
            and not getattr(handler, "_request_in_progress", False) and not handler._messages)


class _Refusal(asyncio.Protocol):
    """Answers 503 to a connection over the limit and closes it, reading nothing."""

    _ANSWER = orjson.dumps({
        "code": "too_many_connections",
        "message": "inspector holds as many connections as it can; retry shortly",
    })

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            b"Retry-After: 1\r\nConnection: close\r\n"
            + f"Content-Length: {len(self._ANSWER)}\r\n\r\n".encode() + self._ANSWER
        )
        transport.close()


class ConnectionGate:
    """The protocol factory in front of aiohttp's :class:`~aiohttp.web.Server`, holding at most
    ``limit`` connections (see the module docstring for what happens past it)."""

    def __init__(self, server: web.Server, limit: int) -> None:
        self.server = server
        self.limit = limit
        self.closed_idle = 0
        self.refused = 0
        self._at_limit = False
        self._last_shed = -1e9

    def _warn_once(self, count: int) -> None:
        if not self._at_limit:
            self._at_limit = True
            log.warning(
                "%d connections open, the most this process's file limit allows: closing "
                "the longest-idle ones, and answering 503 while all are busy", count,
            )

    def shed(self) -> None:
        """Descriptors ran out (accepted sockets not handed to the gate yet, or other files,
        hold them too): close a tenth of the idle connections, oldest first."""
        loop = self.server._loop
        if loop.time() - self._last_shed < 0.5:  # asyncio reports each failed accept() of a burst
            return
        self._last_shed = loop.time()
        connections = self.server.connections
        self._warn_once(len(connections))
        idle = [handler for handler in connections if _idle(handler)]
        for handler in idle[: max(8, len(connections) // 10)]:
            self.closed_idle += 1
            handler.force_close()

    def __call__(self) -> asyncio.Protocol:
        connections = self.server.connections  # oldest first
        if len(connections) >= self.limit:
            self._warn_once(len(connections))
            victim = next((handler for handler in connections if _idle(handler)), None)
            if victim is None:
                self.refused += 1
                return _Refusal()
            self.closed_idle += 1
            victim.force_close()
        elif self._at_limit and len(connections) < self.limit * 9 // 10:
            self._at_limit = False
            log.info("back under the connection limit (%d idle connections closed, %d refused)",
                     self.closed_idle, self.refused)
        # aiohttp's Server() would build a plain RequestHandler with these same settings.
        return JsonErrorRequestHandler(self.server, loop=self.server._loop, **self.server._kwargs)


class GatedTCPSite(web.TCPSite):
    """aiohttp's TCP site with a :class:`ConnectionGate` as its protocol factory."""

    __slots__ = ("gate",)

    def __init__(self, runner: web.BaseRunner, host: str, port: int, *, gate: ConnectionGate,
                 backlog: int = 128, ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(runner, host, port, backlog=backlog, ssl_context=ssl_context)
        self.gate = gate

    async def start(self) -> None:
        """Listen (as :meth:`web.TCPSite.start`, with the gate in front)."""
        await web.BaseSite.start(self)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self.gate, self._host, self._port, ssl=self._ssl_context, backlog=self._backlog,
            reuse_address=self._reuse_address, reuse_port=self._reuse_port,
        )
        sockets = self._server.sockets
        self._bound_port = sockets[0].getsockname()[1] if sockets else self._port

    @property
    def bound_port(self) -> int:
        """The port actually bound (``port=0`` picks one)."""
        return self._bound_port or self._port


def quiet_accept_errors(loop: asyncio.AbstractEventLoop, on_exhausted: Callable[[], None]) -> None:
    """Log asyncio's "out of descriptors in accept()" at most once a minute, without a
    traceback, and call ``on_exhausted`` to free some.

    asyncio already backs off (it retries accepting a second later), but Python 3.11 reports the
    failure, and schedules a retry, for every remaining turn of its accept loop (up to the
    backlog) with a full traceback each; those retries then fail again, with another traceback,
    if the server has closed meanwhile. Other errors go to the previous handler.
    """
    previous = loop.get_exception_handler()
    last_logged = [-1e9]

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") == _ACCEPT_ERROR:
            on_exhausted()
            now = loop.time()
            if now - last_logged[0] > 60:
                last_logged[0] = now
                log.warning("cannot accept connections: %s (retrying every second; this is "
                            "logged at most once a minute)", context.get("exception"))
            return
        callback = getattr(context.get("handle"), "_callback", None)
        if getattr(callback, "__name__", "") == "_start_serving" and isinstance(
            context.get("exception"), ValueError
        ):
            return  # one of those retries, after the listening socket was closed
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
