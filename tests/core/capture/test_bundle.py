"""The analytics.js CDN paths: served from a user-installed analytics-next build, or a 404
that says how to install one."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from inspector.core.capture import CaptureConfig, CaptureService
from tests.support.capture import running

LOADER = b"/* analytics-next standalone stand-in */ window.loaded = true;"
CHUNK = b"/* ajs-destination chunk */"


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """The layout of the @segment/analytics-next npm package (contents stand-ins)."""
    umd = tmp_path / "analytics-next" / "dist" / "umd"
    umd.mkdir(parents=True)
    (umd / "standalone.js").write_bytes(LOADER)
    (umd / "standalone.js.gz").write_bytes(gzip.compress(LOADER))
    (umd / "ajs-destination.bundle.40628b.js").write_bytes(CHUNK)
    (tmp_path / "secret.txt").write_text("not for the web")
    return tmp_path / "analytics-next"


@pytest.fixture
async def served(db_path: Path, package: Path) -> AsyncIterator[CaptureService]:
    async with running(CaptureConfig(port=0, db_path=db_path, analytics_js=package)) as service:
        yield service


async def test_the_snippet_paths_serve_the_installed_bundle(served: CaptureService) -> None:
    async with httpx.AsyncClient(base_url=served.base_url) as client:
        loader = await client.get("/analytics.js/v1/web-key/analytics.min.js")
        chunk = await client.get("/analytics-next/bundles/ajs-destination.bundle.40628b.js")
        missing = await client.get("/analytics-next/bundles/other.bundle.js")
        escape = await client.get("/analytics-next/bundles/..%2F..%2Fsecret.txt")
    assert loader.status_code == 200
    assert loader.content == LOADER  # httpx inflates the .gz sibling aiohttp chose
    assert loader.headers["Content-Type"].startswith("application/javascript")
    assert chunk.content == CHUNK
    assert missing.status_code == 404
    assert missing.json()["code"] == "analytics_js_missing"
    assert escape.status_code == 404
    assert "not for the web" not in escape.text


async def test_without_a_bundle_the_404_says_what_to_do(
    capture: CaptureService, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with httpx.AsyncClient(base_url=capture.base_url) as client:
        response = await client.get("/analytics.js/v1/web-key/analytics.min.js")
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "analytics_js_not_installed"
    assert "--analytics-js" in body["message"]
    assert "@segment/analytics-next" in body["message"]
    assert "cdnURL" in body["message"]


async def test_the_environment_variable_configures_the_bundle(
    db_path: Path, package: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INSPECTOR_ANALYTICS_JS", str(package / "dist" / "umd"))
    async with running(CaptureConfig(port=0, db_path=db_path)) as service, \
            httpx.AsyncClient(base_url=service.base_url) as client:
        response = await client.get("/analytics.js/v1/k/analytics.min.js")
    assert response.content == LOADER
