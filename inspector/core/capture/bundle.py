"""The analytics.js CDN paths, served from an analytics-next build the user installed.

Segment's snippet loads ``https://cdn.segment.com/analytics.js/v1/<writeKey>/analytics.min.js``,
which then loads its lazy chunks from ``<cdn>/analytics-next/bundles/``. inspector does not
ship that JavaScript (a third party's build that changes weekly); with ``--analytics-js DIR``
(or ``INSPECTOR_ANALYTICS_JS``) pointing at the ``@segment/analytics-next`` npm package, or its
``dist/umd`` folder, both paths are answered from there, so a page whose snippet points at
inspector runs the real library. Without it, those paths answer 404 with what to do.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from inspector.core.capture.routes import ApiError

if TYPE_CHECKING:
    from inspector.core.capture.service import CaptureService

__all__ = ["ANALYTICS_JS_ENV", "add_bundle_routes", "bundle_folder"]

ANALYTICS_JS_ENV = "INSPECTOR_ANALYTICS_JS"
#: Chunk names as webpack writes them; anything else (a path, "..") is not a chunk.
_CHUNK = re.compile(r"^[A-Za-z0-9_.-]+\.js(\.map)?$")
_HOW = ("install it beside inspector (`npm pack @segment/analytics-next` and unpack it, or "
        "`npm install @segment/analytics-next`) and start inspector with --analytics-js "
        f"node_modules/@segment/analytics-next (or {ANALYTICS_JS_ENV}=that folder); or load "
        "analytics-next from npm with cdnURL pointing at inspector (see the README)")


def bundle_folder(configured: Path | None) -> Path | None:
    """The folder holding ``standalone.js``: ``configured`` (or the environment variable)
    itself or its ``dist/umd``; ``None`` when not configured."""
    if configured is None:
        value = os.environ.get(ANALYTICS_JS_ENV)
        configured = Path(value) if value else None
    if configured is None:
        return None
    umd = configured / "dist" / "umd"
    return umd if (umd / "standalone.js").is_file() else configured


def add_bundle_routes(app: web.Application, service: CaptureService) -> None:
    """Register the analytics.js loader and chunk paths."""
    folder = bundle_folder(service.config.analytics_js)

    def serve(name: str) -> web.FileResponse:
        if folder is None:
            raise ApiError(404, "analytics_js_not_installed",
                           "inspector does not ship the analytics.js bundle: " + _HOW)
        path = folder / name
        if not path.is_file():
            raise ApiError(404, "analytics_js_missing",
                           f"{name} is not in {folder} (--analytics-js): point it at the "
                           "@segment/analytics-next package or its dist/umd folder")
        # FileResponse serves a sibling name.gz itself when the client accepts gzip.
        response = web.FileResponse(path)
        response.content_type = "application/json" if name.endswith(".map") else \
            "application/javascript"
        return response

    async def loader(request: web.Request) -> web.FileResponse:
        return serve("standalone.js")

    async def chunk(request: web.Request) -> web.FileResponse:
        name = request.match_info["name"]
        if not _CHUNK.match(name):
            raise web.HTTPNotFound()
        return serve(name)

    app.router.add_get("/analytics.js/v1/{write_key}/analytics.min.js", loader)
    app.router.add_get("/analytics-next/bundles/{name}", chunk)
