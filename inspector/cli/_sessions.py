"""Where a command's session comes from: a database file (``--db``) or a running serve
(``--url``), answered in the same JSON shape either way."""

from __future__ import annotations

import argparse
from typing import Any

from inspector.cli._common import (
    CaptureDatabaseError,
    api_headers,
    error_message,
    open_capture_session,
)

__all__ = ["SessionSourceError", "load_session_json"]


class SessionSourceError(Exception):
    """The session cannot be read; the message says why in one line (exit code 2)."""


def load_session_json(args: argparse.Namespace, what: str) -> dict[str, Any]:
    """``what`` ("audit" or "people") of the chosen session, as the REST API returns it."""
    if args.url:
        if args.db is not None:
            raise SessionSourceError("give either --db or --url, not both")
        if args.config is not None:
            raise SessionSourceError(
                "--config applies to --db; a running serve audits with its own "
                "configuration (start it with `inspector serve --audit FILE`)")
        return _from_url(args, what)
    return _from_db(args, what)


def _from_url(args: argparse.Namespace, what: str) -> dict[str, Any]:
    import httpx

    params: dict[str, str] = {}
    if args.session:
        params["session"] = args.session
    mode = getattr(args, "mode", None)
    if mode:
        params["mode"] = mode
    url = args.url.rstrip("/") + f"/inspector/api/{what}"
    try:
        response = httpx.get(url, params=params, headers=api_headers(), timeout=120.0)
    except httpx.HTTPError as error:
        raise SessionSourceError(f"cannot reach {args.url}: {error}") from error
    if response.status_code != 200:
        raise SessionSourceError(
            f"{url}: HTTP {response.status_code}: {error_message(response)}")
    data: dict[str, Any] = response.json()
    return data


def _from_db(args: argparse.Namespace, what: str) -> dict[str, Any]:
    from inspector.core.audit import AuditConfigError, load_audit_config
    from inspector.core.audit.report import audit_json, people_json

    try:
        config = load_audit_config(args.config)
    except AuditConfigError as error:
        raise SessionSourceError(str(error)) from error
    try:
        store, session = open_capture_session(args.db, args.session)
    except CaptureDatabaseError as error:
        raise SessionSourceError(str(error)) from error
    try:
        if what == "audit":
            return audit_json(store, session, config)
        return people_json(store, session, config, getattr(args, "mode", None))
    finally:
        store.close()
