"""``serve``'s REST API access options: allowed hosts and origins, the token, what to print.

Kept apart from ``serve.py`` so the options that guard the API live in one place.
"""

from __future__ import annotations

import argparse
import os
from typing import Any
from urllib.parse import urlsplit

from inspector.core.capture import CaptureService
from inspector.core.capture.addresses import host_name, is_loopback, reachable_addresses, url_host
from inspector.core.capture.security import normalize_origin

__all__ = ["AccessOptionError", "access_config", "access_notice", "add_access_options",
           "ready_fields"]


class AccessOptionError(Exception):
    """A bad access option; ``str()`` is one line for a human."""


def add_access_options(parser: argparse.ArgumentParser) -> None:
    """``--allow-host``, ``--api-allow-origin``, ``--api-token-env``."""
    parser.add_argument(
        "--allow-host", action="append", default=[], metavar="NAME",
        help="also answer the REST API for requests naming this host (repeatable; loopback "
        "names and addresses and the --host address are always allowed)",
    )
    parser.add_argument(
        "--api-allow-origin", action="append", default=[], metavar="ORIGIN",
        help="let a web page on ORIGIN (e.g. http://localhost:5173) call the REST API with "
        "CORS (repeatable; by default no page may)",
    )
    parser.add_argument(
        "--api-token-env", metavar="VAR",
        help="the REST API's bearer token is in environment variable VAR (then it is required "
        "even on loopback); by default one is generated when --host is beyond loopback",
    )


def access_config(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`CaptureConfig` fields the options ask for; AccessOptionError if bad."""
    try:
        origins = tuple(normalize_origin(origin) for origin in args.api_allow_origin)
    except ValueError as error:
        raise AccessOptionError(f"--api-allow-origin: {error}") from None
    token: str | None = None
    if args.api_token_env:
        token = os.environ.get(args.api_token_env, "").strip()
        if not token:
            raise AccessOptionError(
                f"--api-token-env {args.api_token_env}: that environment variable is not set "
                "or is empty")
    return {"allow_hosts": tuple(args.allow_host), "api_allow_origins": origins,
            "api_token": token}


def _urls(service: CaptureService) -> list[str]:
    addresses = reachable_addresses(service.config.host)
    scheme = urlsplit(service.base_url).scheme or "http"
    urls = [f"{scheme}://{url_host(address)}:{service.port}" for address in addresses]
    if service.tls_port is not None:
        urls += [f"https://{url_host(address)}:{service.tls_port}" for address in addresses]
    return urls


def ready_fields(service: CaptureService) -> dict[str, Any]:
    """What ``--ready-json`` adds: the reachable URLs, whether the API needs a token, and a
    generated token (the only way the starting program learns it; one it supplied through
    ``--api-token-env`` is not repeated)."""
    fields: dict[str, Any] = {"urls": _urls(service),
                              "token_required": service.access.token_required}
    if service.access.token_generated:
        fields["api_token"] = service.access.token
    return fields


def access_notice(service: CaptureService, args: argparse.Namespace) -> list[str]:
    """Lines for the banner: a warning beyond loopback, where to reach it, the token."""
    lines: list[str] = []
    bind = host_name(service.config.host)
    if not is_loopback(bind):
        lines.append(
            f"inspector: WARNING: listening on {service.config.host}, beyond this machine: "
            "the capture routes (/v1/*, settings, pixel) accept events from anyone who can "
            "reach it, without a token")
        lines.append("  reachable at " + ", ".join(_urls(service)))
    if service.access.token_generated:
        lines.append(f"  REST API token (send Authorization: Bearer <token>): "
                     f"{service.access.token}")
    elif service.access.token_required:
        lines.append(f"  REST API requires Authorization: Bearer <the token in "
                     f"${args.api_token_env}>")
    return lines
