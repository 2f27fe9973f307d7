"""Who may use the REST API, while the capture routes stay open to every web page.

Two kinds of route share one port:

* capture routes (``/v1/*``, the CDN settings, the pixel): analytics.js runs on the app's own
  origin and posts here, so they answer CORS for any origin (and Chrome's Private Network
  Access preflights) and need no token: SDKs cannot send one.
* the REST API under ``/inspector/api/``: for the window, scripts and CI, never for a web page.
  :class:`ApiAccessPolicy` refuses, in this order:

  1. a ``Host`` that is not loopback, the bound address or ``--allow-host`` (403
     ``misdirected_request``): a DNS-rebinding page names its own domain there;
  2. a browser context: an ``Origin`` that is not ``--api-allow-origin``, or
     ``Sec-Fetch-Site: cross-site``/``same-site`` (403); API preflights get no allowance;
  3. a missing or wrong ``Authorization: Bearer`` token when one is required (401): when bound
     beyond loopback, or when a token was supplied;
  4. a state-changing request whose body is a form or ``text/plain`` (415): the only bodies a
     page can send without a preflight, refused even from browsers that send no ``Origin``.

A refused request never reaches a handler, so nothing changes.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aiohttp import web

from inspector.core.capture.addresses import host_name, ip_literal, is_loopback, is_wildcard
from inspector.core.capture.api import API_PREFIX
from inspector.core.capture.routes import json_response

if TYPE_CHECKING:
    from inspector.core.capture.service import CaptureConfig

__all__ = ["ApiAccessPolicy", "normalize_origin"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_CAPTURE_HEADERS = "Authorization, Content-Type, Content-Encoding, X-Retry-Count, X-Requested-With"
_API_HEADERS = "Authorization, Content-Type"
_API_METHODS = "GET, POST, PUT, DELETE"
#: The Content-Types a page may send cross-origin without a preflight (the Fetch standard's
#: CORS-safelisted request header values).
_SIMPLE_BODIES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data",
                            "text/plain"})
_BROWSER_SITES = frozenset({"cross-site", "same-site"})
_READ_METHODS = frozenset({"GET", "HEAD"})


def normalize_origin(value: str) -> str:
    """``scheme://host[:port]`` as browsers send it in ``Origin``; ValueError if it is not one."""
    text = value.strip().rstrip("/").lower()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or (
        parts.query or parts.fragment or parts.username or parts.password
    ):
        raise ValueError(f"expected an origin like http://localhost:5173, got {value!r}")
    return text


def _is_api(request: web.Request) -> bool:
    if request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/"):
        return True
    # Also by the route that will answer, should the raw path and the router ever disagree.
    route = getattr(request.match_info, "route", None)
    resource = getattr(route, "resource", None)
    canonical = getattr(resource, "canonical", "") or ""
    return str(canonical).startswith(API_PREFIX + "/")


def _refusal(status: int, code: str, message: str) -> web.Response:
    return json_response({"code": code, "message": message}, status=status)


def _shown(value: str) -> str:
    """A header value fit to quote in a message (it is the caller's own, but bounded)."""
    return repr(value if len(value) <= 100 else value[:100] + "...")


class ApiAccessPolicy:
    """The allow-lists and token that guard the REST API, and the aiohttp middleware that
    applies them (and answers CORS on the capture routes)."""

    def __init__(
        self,
        *,
        bind_host: str = "127.0.0.1",
        allow_hosts: Iterable[str] = (),
        allow_origins: Iterable[str] = (),
        token: str | None = None,
    ) -> None:
        self.bind_host = host_name(bind_host)
        self.allow_hosts = frozenset(host_name(name) for name in allow_hosts)
        self.allow_origins = frozenset(normalize_origin(origin) for origin in allow_origins)
        #: Beyond loopback anyone on the network could call the API: then a token is required
        #: (generated here unless supplied). A supplied token is required on loopback too.
        self.token_generated = token is None and not is_loopback(self.bind_host)
        self.token: str | None = secrets.token_urlsafe(32) if self.token_generated else token

    @classmethod
    def from_config(cls, config: CaptureConfig) -> ApiAccessPolicy:
        """The policy a :class:`CaptureConfig` asks for."""
        return cls(bind_host=config.host, allow_hosts=config.allow_hosts,
                   allow_origins=config.api_allow_origins, token=config.api_token)

    @property
    def token_required(self) -> bool:
        """Whether API requests must carry ``Authorization: Bearer <token>``."""
        return self.token is not None

    # ---- the checks

    def host_allowed(self, header: str | None) -> bool:
        """Whether the REST API answers a request whose ``Host`` header is ``header``.

        No header (HTTP/1.0 scripts) passes: a browser always sends one. On a wildcard bind any
        IP literal passes: it reached a socket bound to every address, the machine's addresses
        cannot all be known (NAT, container port mappings) and DNS rebinding needs a name.
        """
        if header is None:
            return True
        name = host_name(header)
        if is_loopback(name) or name == self.bind_host or name in self.allow_hosts:
            return True
        return is_wildcard(self.bind_host) and ip_literal(name) is not None

    def origin_allowed(self, origin: str) -> bool:
        """Whether ``origin`` was allow-listed with ``--api-allow-origin``."""
        return origin.strip().rstrip("/").lower() in self.allow_origins

    def public_host(self, header: str | None, fallback: str) -> str:
        """What the CDN settings answer calls this server: the request's ``Host`` when it is
        an IP address (never a rebinding vector; e.g. 10.0.2.2, how the Android emulator
        reaches this machine) or a name the API would accept, else ``fallback`` (the bound
        address): a foreign name is never echoed."""
        if header and (self.host_allowed(header) or ip_literal(host_name(header)) is not None):
            return header
        return fallback

    def refuse_api(self, request: web.Request) -> web.Response | None:
        """The answer refusing an API request, or ``None`` when it may proceed."""
        host = request.headers.get("Host")
        if not self.host_allowed(host):
            return _refusal(
                403, "misdirected_request",
                f"this inspector does not answer for host {_shown(host or '')}: the REST API "
                "answers only for localhost, loopback addresses, the address it is bound to and "
                "names given with --allow-host (a web page that points its own domain at this "
                "machine, DNS rebinding, looks like this)",
            )
        origin = request.headers.get("Origin")
        if origin is not None and self.origin_allowed(origin):
            return None
        if origin is not None:
            return _refusal(
                403, "cross_origin_refused",
                f"the REST API does not answer web pages (Origin {_shown(origin)}): it is for "
                "the window, scripts and CI; start inspector with --api-allow-origin ORIGIN to "
                "let a dashboard use it",
            )
        site = request.headers.get("Sec-Fetch-Site", "").strip().lower()
        if site in _BROWSER_SITES:
            return _refusal(
                403, "cross_site_refused",
                f"the REST API does not answer requests a web page makes (Sec-Fetch-Site: "
                f"{site}); it is for the window, scripts and CI",
            )
        return None

    def refuse_unauthorized(self, request: web.Request) -> web.Response | None:
        """401 when a token is required and the request does not carry it."""
        if self.token is None:
            return None
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), self.token.encode()
        ):
            return None
        response = _refusal(
            401, "unauthorized",
            "the REST API needs the header Authorization: Bearer <token> (inspector printed the "
            "token when it started, or it is the one given with --api-token-env)",
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="inspector"'
        return response

    @staticmethod
    def refuse_simple_body(request: web.Request) -> web.Response | None:
        """415 for a state-changing request with a body any page could send unasked."""
        if request.method in _READ_METHODS or request.content_type not in _SIMPLE_BODIES:
            return None
        return _refusal(
            415, "unsupported_media_type",
            f"send the body as JSON with Content-Type: application/json "
            f"({request.content_type} is refused: any web page can send it unasked)",
        )

    # ---- the middleware

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Guard the API, answer CORS on the capture routes."""
        if _is_api(request):
            return await self._api(request, handler)
        return await self._capture(request, handler)

    async def _api(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        allowed_origin = origin if origin is not None and self.origin_allowed(origin) else None
        response: web.StreamResponse | None = self.refuse_api(request)
        if response is None and request.method == "OPTIONS":
            if allowed_origin is None:
                response = _refusal(403, "cors_refused",
                                    "the REST API answers no CORS preflight (it is not for web "
                                    "pages; see --api-allow-origin)")
            else:
                response = web.Response(status=204)
                response.headers["Access-Control-Allow-Methods"] = _API_METHODS
                response.headers["Access-Control-Allow-Headers"] = _API_HEADERS
                response.headers["Access-Control-Max-Age"] = "600"
        if response is None:
            response = self.refuse_unauthorized(request) or self.refuse_simple_body(request)
        if response is None:
            response = await handler(request)
        if allowed_origin is not None:
            # No Allow-Credentials: the API uses no cookies, and a token is a plain header.
            response.headers["Access-Control-Allow-Origin"] = allowed_origin
        response.headers["Vary"] = "Origin"
        return response

    @staticmethod
    async def _capture(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Any page may post events: answer preflights and echo the origin, as Segment does."""
        origin = request.headers.get("Origin")
        if request.method == "OPTIONS":
            response: web.StreamResponse = web.Response(status=204)
            requested = request.headers.get("Access-Control-Request-Headers")
            response.headers["Access-Control-Allow-Headers"] = (
                f"{_CAPTURE_HEADERS}, {requested}" if requested else _CAPTURE_HEADERS
            )
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, DELETE, OPTIONS"
            response.headers["Access-Control-Max-Age"] = "600"
            if request.headers.get("Access-Control-Request-Private-Network", "").lower() == "true":
                # Chrome's Private Network Access: a public page may reach this local endpoint.
                response.headers["Access-Control-Allow-Private-Network"] = "true"
        else:
            response = await handler(request)
        if origin:
            # Echoing the origin (not "*") is what lets pages that send credentials through.
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Vary"] = "Origin"
        else:
            response.headers["Access-Control-Allow-Origin"] = "*"
        return response
