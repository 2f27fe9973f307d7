"""Fetching a tracking plan from the Segment Public API, with the token kept in the keyring.

Two calls, as Typewriter makes them: ``GET /tracking-plans/{id}`` for the plan's metadata, then
``GET /tracking-plans/{id}/rules`` page by page (``pagination.count``/``pagination.cursor``) until
``pagination.next`` is empty. The result is saved as ``{"trackingPlan": {...}, "rules": [...]}``,
which :class:`TrackingPlan` loads as the Public API format.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from inspector.core.plan.errors import PlanFetchError
from inspector.core.plan.formats import load_data
from inspector.core.plan.rules import TrackingPlan
from inspector.core.secrets import KeyringInfo, SecretStoreError, read_secret, store_secret

__all__ = [
    "DEFAULT_BASE_URL",
    "KEYRING_SERVICE",
    "fetch_plan",
    "fetch_plan_data",
    "load_token",
    "store_token",
]

DEFAULT_BASE_URL = "https://api.segmentapis.com"
KEYRING_SERVICE = "inspector.segment-public-api"
#: A guard against a server that keeps answering with the same cursor.
_MAX_PAGES = 1000


def store_token(name: str, token: str, *, allow_plaintext: bool = False) -> KeyringInfo:
    """Keep a Public API token in the keyring under ``name``; the backend it went to.

    A plaintext backend is refused unless ``allow_plaintext`` (see :mod:`inspector.core.secrets`).
    """
    try:
        return store_secret(KEYRING_SERVICE, name, token, allow_plaintext=allow_plaintext)
    except SecretStoreError as error:
        raise PlanFetchError(f"token not stored: {error}") from None


def load_token(name: str) -> str:
    """The Public API token stored under ``name``; PlanFetchError when there is none."""
    try:
        token = read_secret(KEYRING_SERVICE, name)
    except SecretStoreError as error:
        raise PlanFetchError(str(error)) from None
    if not token:
        raise PlanFetchError(
            f"no Segment Public API token named {name!r} in the keyring; "
            f"store one with `inspector plan token {name}`"
        )
    return token


def fetch_plan_data(
    plan_id: str,
    token: str,
    *,
    base_url: str = DEFAULT_BASE_URL,
    client: httpx.Client | None = None,
    page_size: int = 200,
) -> dict[str, Any]:
    """The plan's metadata and every rule, as ``{"trackingPlan": ..., "rules": [...]}``."""
    if plan_id.startswith("rs_"):
        raise PlanFetchError(
            f"{plan_id} is a legacy Config API id; the Public API needs the tp_... id "
            "(Protocols → the plan → Settings)"
        )
    own = client is None
    http = client or httpx.Client(timeout=30.0)
    try:
        root = f"{base_url.rstrip('/')}/tracking-plans/{quote(plan_id, safe='')}"
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        plan = _get(http, root, headers, {}).get("trackingPlan") or {"id": plan_id}
        rules: list[Any] = []
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(_MAX_PAGES):
            params: dict[str, str | int] = {"pagination.count": page_size}
            if cursor:
                params["pagination.cursor"] = cursor
            page = _get(http, f"{root}/rules", headers, params)
            rules.extend(page.get("rules") or [])
            pagination = page.get("pagination") or {}
            cursor = pagination.get("next") if isinstance(pagination, dict) else None
            if not cursor or cursor in seen:
                break
            seen.add(cursor)
        return {"trackingPlan": plan, "rules": rules}
    finally:
        if own:
            http.close()


def fetch_plan(plan_id: str, token: str, **options: Any) -> TrackingPlan:
    """Fetch and load a plan straight from the Public API."""
    return load_data(fetch_plan_data(plan_id, token, **options), source=f"segment:{plan_id}")


def _get(
    http: httpx.Client, url: str, headers: dict[str, str], params: dict[str, str | int]
) -> dict[str, Any]:
    try:
        response = http.get(url, headers=headers, params=params)
    except httpx.HTTPError as error:
        raise PlanFetchError(f"cannot reach the Segment Public API: {error}") from None
    if response.status_code in (401, 403):
        raise PlanFetchError(
            f"the Segment Public API refused the token (HTTP {response.status_code}); it needs "
            "Protocols read access"
        )
    if response.status_code == 404:
        raise PlanFetchError(f"no such tracking plan: {url}")
    if response.status_code >= 400:
        raise PlanFetchError(f"the Segment Public API answered HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        raise PlanFetchError("the Segment Public API answered with invalid JSON") from None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise PlanFetchError("unexpected answer from the Segment Public API (no data object)")
    return data
