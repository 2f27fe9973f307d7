"""The plan a REST API caller asks for: a path on this machine, or the plan's content.

``POST /inspector/api/plan`` takes ``{"path": FILE, "watch": bool}``, ``{"path": null}`` or
``{"content": PLAN, "name": NAME}`` (``PLAN`` the file's text, or its JSON itself);
``POST revalidate`` takes the same as ``"plan": FILE`` or ``"plan": {"content": ..., "name":
...}``. Paths go through :mod:`inspector.core.plan.reading` (regular files, bounded, off the
loop, with a timeout); content is bounded by the same limit. The window uploads content, so
the child never opens a path it was handed.
"""

from __future__ import annotations

from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from inspector.core.capture.routes import ApiError
from inspector.core.plan.errors import PlanError
from inspector.core.plan.reading import MAX_PLAN_BYTES, MAX_PLAN_TEXT, too_large

if TYPE_CHECKING:
    from inspector.core.capture.service import CaptureService

__all__ = ["PLAN_BODY_LIMIT", "apply_plan_request", "apply_revalidate_plan", "read_plan_body"]

#: A plan's text inside a JSON string grows with escaping (quotes, non-ASCII): twice the plan
#: limit and some room for the other members.
PLAN_BODY_LIMIT = 2 * MAX_PLAN_BYTES + 1024 * 1024
_NAME_LIMIT = 200
_SHAPES = '{"path": FILE}, {"path": null} or {"content": PLAN, "name": NAME}'


def _bad(message: str) -> ApiError:
    return ApiError(400, "invalid_query", message)


async def read_plan_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body, read up to :data:`PLAN_BODY_LIMIT` (aiohttp's own
    ``read()`` stops at 1 MiB, too small for a plan's content)."""
    too_big = ApiError(413, "body_too_large",
                       f"a plan request body may be at most {PLAN_BODY_LIMIT // 2**20} MiB "
                       f"(the plan itself at most {MAX_PLAN_TEXT})")
    if request.content_length is not None and request.content_length > PLAN_BODY_LIMIT:
        raise too_big
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(256 * 1024):
        size += len(chunk)
        if size > PLAN_BODY_LIMIT:
            raise too_big
        chunks.append(chunk)
    try:
        body = orjson.loads(b"".join(chunks) or b"{}")
    except orjson.JSONDecodeError as error:
        raise _bad(f"Invalid JSON: {error.msg}") from error
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    return body


async def apply_plan_request(service: CaptureService, body: dict[str, Any]) -> None:
    """Load or unload the plan ``body`` names (one of :data:`_SHAPES`)."""
    if ("path" in body) == ("content" in body):
        raise _bad(f"expected {_SHAPES}")
    watch = body.get("watch", False)
    if not isinstance(watch, bool):
        raise _bad("watch must be true or false")
    if "content" in body:
        if watch:
            raise _bad("watch needs a path: uploaded content has no file to watch")
        await _upload(service, body)
        return
    path = body["path"]
    if path is not None and not isinstance(path, str):
        raise _bad("path must be a string or null")
    await _guarded(service.replace_plan(Path(path) if path else None, watch=watch))


async def apply_revalidate_plan(service: CaptureService, plan: Any) -> None:
    """Load the ``"plan"`` member of a revalidate request: a path or ``{"content", "name"}``."""
    if isinstance(plan, str) and plan:
        await _guarded(service.replace_plan(Path(plan)))
    elif isinstance(plan, dict) and "content" in plan:
        await _upload(service, plan)
    else:
        raise _bad('plan must be a path or {"content": PLAN, "name": NAME}')


async def _upload(service: CaptureService, body: dict[str, Any]) -> None:
    name = body.get("name") or "uploaded plan"
    if not isinstance(name, str) or len(name) > _NAME_LIMIT:
        raise _bad(f"name must be a string of at most {_NAME_LIMIT} characters")
    content = body["content"]
    if isinstance(content, str):
        raw = content.encode("utf-8", "surrogatepass")
    elif isinstance(content, dict | list):
        raw = orjson.dumps(content)
    else:
        raise _bad("content must be the plan's text (a string) or its JSON (an object or array)")
    if len(raw) > MAX_PLAN_BYTES:
        raise ApiError(413, "plan_too_large", str(too_large(name)))
    await _guarded(service.upload_plan(raw, name))


async def _guarded(loading: Awaitable[None]) -> None:
    try:
        await loading
    except PlanError as error:
        raise ApiError(400, "invalid_plan", str(error)) from error
