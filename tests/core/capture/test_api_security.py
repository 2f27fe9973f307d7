"""The REST API driven as a hostile web page would, and the capture routes still open to pages.

A page on another origin must not read the API (foreign ``Origin``, ``Sec-Fetch-Site``), change
anything with the simple POSTs a browser sends without a preflight, or reach it by pointing
its own domain at 127.0.0.1 (DNS rebinding: a foreign ``Host``). Bound beyond loopback the
API needs a bearer token. Capture routes keep answering CORS (and Private Network Access)
for any origin, with no token. Plans are read only from bounded regular files, or uploaded.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from inspector.core.capture import CaptureConfig, CaptureService
from inspector.core.capture.addresses import host_name, is_loopback, reachable_addresses
from inspector.core.plan import PlanError
from inspector.core.plan.reading import MAX_PLAN_BYTES
from inspector.core.plan.watch import PlanWatcher
from inspector.core.resources import example_plan_path
from inspector.core.store import EventQuery
from tests.support.processes import start_serve
from tests.support.segment_calls import track

API = "/inspector/api"
EVIL = "http://evil.example"
DASHBOARD = "http://localhost:5173"

#: Every state-changing API route, with a body that would change something if processed.
STATE_CHANGING = [
    ("POST", "/reset", {"name": "pwned"}),
    ("POST", "/plan", {"path": None}),
    ("POST", "/revalidate", {"plan": "OTHER_PLAN"}),
    ("PUT", "/write-keys/web-key", {"name": "pwned"}),
]
READS = ["/events?session=all", "/events/1", "/summary", "/sessions", "/health", "/write-keys"]


@asynccontextmanager
async def running(db_path: Path, **config: Any) -> AsyncIterator[CaptureService]:
    """A capture service on a free port with ``config``, stopped afterwards."""
    service = CaptureService(CaptureConfig(port=0, db_path=db_path, session_name="test",
                                           **config))
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


@pytest.fixture
def other_plan(tmp_path: Path) -> Path:
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"rules": [{"type": "TRACK", "key": "Only This", "version": 1,
                                           "jsonSchema": {}}]}))
    return path


@pytest.fixture
async def victim(db_path: Path, plan_file: Path) -> AsyncIterator[CaptureService]:
    """A service with a plan, captured events and a named write key: something to steal."""
    async with running(db_path, plan_path=plan_file) as service:
        async with httpx.AsyncClient(base_url=service.base_url) as http:
            batch = [track("Order Completed", user_id="user-1"),
                     {"type": "identify", "userId": "user-1",
                      "traits": {"email": "secret@example.com"}}]
            assert (await http.post("/v1/batch", json={"batch": batch,
                                                       "writeKey": "web-key"})).status_code == 200
            named = await http.put(f"{API}/write-keys/web-key", json={"name": "staging web"})
            assert named.status_code == 200
        yield service


def state(service: CaptureService) -> tuple[Any, ...]:
    """Everything a state-changing route could change."""
    events = service.store.query_events(EventQuery(session_id=None)).events
    return (service.session.id, len(service.store.list_sessions()),
            service.store.write_key_names(), service.plan_description,
            [(event.id, event.status) for event in events])


def body_for(body: dict[str, Any], other_plan: Path) -> dict[str, Any]:
    return {key: (str(other_plan) if value == "OTHER_PLAN" else value)
            for key, value in body.items()}


def assert_no_cors(response: httpx.Response) -> None:
    for header in ("Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
                   "Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
                   "Access-Control-Allow-Private-Network"):
        assert header not in response.headers, (header, response.headers)


# ---- reads


@pytest.mark.parametrize("path", READS)
async def test_a_foreign_origin_reads_nothing(victim: CaptureService, path: str) -> None:
    async with httpx.AsyncClient(base_url=victim.base_url) as http:
        response = await http.get(API + path, headers={"Origin": EVIL})
    assert response.status_code == 403
    assert response.json()["code"] == "cross_origin_refused"
    assert "secret@example.com" not in response.text
    assert "staging web" not in response.text
    assert_no_cors(response)


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
async def test_a_page_without_origin_reads_nothing(victim: CaptureService, site: str) -> None:
    # <script src> or <img src> from a page: no Origin, but the browser says where it came from.
    async with httpx.AsyncClient(base_url=victim.base_url) as http:
        response = await http.get(f"{API}/events?session=all", headers={"Sec-Fetch-Site": site})
    assert response.status_code == 403
    assert response.json()["code"] == "cross_site_refused"
    assert "secret@example.com" not in response.text


@pytest.mark.parametrize("site", ["none", "same-origin"])
async def test_typing_the_url_in_the_address_bar_still_reads(victim: CaptureService,
                                                             site: str) -> None:
    async with httpx.AsyncClient(base_url=victim.base_url) as http:
        response = await http.get(f"{API}/events?session=all", headers={"Sec-Fetch-Site": site})
    assert response.status_code == 200
    assert "secret@example.com" in response.text


# ---- writes


@pytest.mark.parametrize(("method", "path", "body"), STATE_CHANGING)
@pytest.mark.parametrize("encoding", ["text/plain", "form", "multipart", "json"])
async def test_a_foreign_origin_changes_nothing(
    victim: CaptureService, other_plan: Path, method: str, path: str, body: dict[str, Any],
    encoding: str,
) -> None:
    before = state(victim)
    payload = body_for(body, other_plan)
    headers = {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"}
    request: dict[str, Any]
    if encoding == "text/plain":
        request = {"content": orjson.dumps(payload), "headers": {**headers,
                                                                "Content-Type": "text/plain"}}
    elif encoding == "form":
        request = {"data": {k: str(v) for k, v in payload.items()}, "headers": headers}
    elif encoding == "multipart":
        request = {"files": {"file": ("x.json", orjson.dumps(payload))}, "headers": headers}
    else:  # needs a preflight, which fails; a careless page might still try
        request = {"json": payload, "headers": headers}
    async with httpx.AsyncClient(base_url=victim.base_url) as http:
        response = await http.request(method, API + path, **request)
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "cross_origin_refused"
    assert_no_cors(response)
    assert state(victim) == before


@pytest.mark.parametrize(("method", "path", "body"), STATE_CHANGING)
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
async def test_a_simple_body_changes_nothing_even_without_origin(
    victim: CaptureService, other_plan: Path, method: str, path: str, body: dict[str, Any],
    content_type: str,
) -> None:
    # A browser that sends neither Origin nor Sec-Fetch-Site can still only send these types
    # cross-origin without a preflight: JSON is the API's only way in.
    before = state(victim)
    async with httpx.AsyncClient(base_url=victim.base_url) as http:
        response = await http.request(method, API + path,
                                      content=orjson.dumps(body_for(body, other_plan)),
                                      headers={"Content-Type": content_type})
    assert response.status_code == 415, response.text
    assert response.json()["code"] == "unsupported_media_type"
    assert "application/json" in response.json()["message"]
    assert state(victim) == before


async def test_scripts_still_change_things_with_json(victim: CaptureService) -> None:
    async with httpx.AsyncClient(base_url=victim.base_url) as http:
        first = victim.session.id
        assert (await http.post(f"{API}/reset")).status_code == 200  # no body at all
        assert victim.session.id != first
        assert (await http.post(f"{API}/reset", json={"name": "next"})).status_code == 200
        assert victim.session.name == "next"


# ---- preflights


async def test_api_preflights_get_no_allowance(victim: CaptureService) -> None:
    async with httpx.AsyncClient(base_url=victim.base_url) as http:
        for path in ("/reset", "/events", "/write-keys/web-key"):
            response = await http.options(API + path, headers={
                "Origin": EVIL, "Access-Control-Request-Method": "PUT",
                "Access-Control-Request-Headers": "content-type",
                "Access-Control-Request-Private-Network": "true"})
            assert response.status_code == 403
            assert_no_cors(response)


async def test_capture_routes_answer_cors_and_private_network_preflights(
    victim: CaptureService,
) -> None:
    origin = "https://shop.example"
    async with httpx.AsyncClient(base_url=victim.base_url) as http:
        preflight = await http.options("/v1/t", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
            "Access-Control-Request-Private-Network": "true"})
        assert preflight.status_code == 204
        assert preflight.headers["Access-Control-Allow-Origin"] == origin
        assert preflight.headers["Access-Control-Allow-Private-Network"] == "true"
        assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
        plain = await http.options("/v1/t", headers={"Origin": origin,
                                                     "Access-Control-Request-Method": "POST"})
        assert "Access-Control-Allow-Private-Network" not in plain.headers
        # analytics-next posts text/plain from the app's own origin: still captured.
        before = victim.store.summary(victim.session.id)["total"]
        post = await http.post("/v1/t", content=orjson.dumps(track("Cart Viewed")),
                               headers={"Origin": origin, "Content-Type": "text/plain",
                                        "Sec-Fetch-Site": "cross-site"})
        assert post.status_code == 200
        assert post.headers["Access-Control-Allow-Origin"] == origin
        assert post.headers["Access-Control-Allow-Credentials"] == "true"
        assert victim.store.summary(victim.session.id)["total"] == before + 1
        settings = await http.get("/v1/projects/web-key/settings", headers={"Origin": origin})
        assert settings.status_code == 200
        assert settings.headers["Access-Control-Allow-Origin"] == origin
        pixel = await http.get("/v1/pixel/track", params={"data": "e30"},
                               headers={"Origin": origin})
        assert pixel.headers["Access-Control-Allow-Origin"] == origin


# ---- DNS rebinding


async def test_a_rebinding_host_gets_no_data_and_changes_nothing(victim: CaptureService) -> None:
    host = f"rebind.evil.example:{victim.port}"
    before = state(victim)
    async with httpx.AsyncClient(base_url=victim.base_url) as http:
        read = await http.get(f"{API}/events?session=all", headers={"Host": host})
        assert read.status_code == 403
        assert read.json()["code"] == "misdirected_request"
        assert "--allow-host" in read.json()["message"]
        assert "secret@example.com" not in read.text
        reset = await http.post(f"{API}/reset", json={}, headers={"Host": host})
        assert reset.status_code == 403
        assert state(victim) == before
        settings = await http.get("/v1/projects/web-key/settings", headers={"Host": host})
        assert settings.status_code == 200
        assert "evil" not in settings.text
        segment = settings.json()["integrations"]["Segment.io"]
        assert segment["apiHost"] == f"127.0.0.1:{victim.port}/v1"  # the bound address
        # An address is no rebinding vector: the Android emulator reaches this machine so.
        emulator = await http.get("/v1/projects/web-key/settings",
                                  headers={"Host": f"10.0.2.2:{victim.port}"})
        assert emulator.json()["integrations"]["Segment.io"]["apiHost"] == (
            f"10.0.2.2:{victim.port}/v1")
        assert (await http.get(f"{API}/health", headers={"Host": "10.0.2.2"})).status_code == 403


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST.", "127.0.0.1", "127.8.9.10", "[::1]"])
async def test_loopback_hosts_are_answered_and_echoed(victim: CaptureService, host: str) -> None:
    named = f"{host}:{victim.port}"
    async with httpx.AsyncClient(base_url=victim.base_url) as http:
        assert (await http.get(f"{API}/health", headers={"Host": named})).status_code == 200
        settings = await http.get("/projects/web-key/settings", headers={"Host": named})
    assert settings.json()["integrations"]["Segment.io"]["apiHost"] == f"{named}/v1"


async def test_an_allowed_host_and_origin_work(db_path: Path) -> None:
    async with (
        running(db_path, allow_hosts=("inspector.test",), api_allow_origins=(DASHBOARD,))
        as service,
        httpx.AsyncClient(base_url=service.base_url) as http,
    ):
        host = {"Host": f"inspector.test:{service.port}"}
        assert (await http.get(f"{API}/health", headers=host)).status_code == 200
        settings = await http.get("/v1/projects/k/settings", headers=host)
        assert settings.json()["integrations"]["Segment.io"]["apiHost"] == (
            f"inspector.test:{service.port}/v1")
        other = await http.get(f"{API}/health", headers={"Host": "other.test"})
        assert other.status_code == 403

        dashboard = {"Origin": DASHBOARD, "Sec-Fetch-Site": "same-site"}
        read = await http.get(f"{API}/events", headers=dashboard)
        assert read.status_code == 200
        assert read.headers["Access-Control-Allow-Origin"] == DASHBOARD
        assert "Access-Control-Allow-Credentials" not in read.headers
        preflight = await http.options(f"{API}/reset", headers={
            **dashboard, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})
        assert preflight.status_code == 204
        assert preflight.headers["Access-Control-Allow-Origin"] == DASHBOARD
        assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
        reset = await http.post(f"{API}/reset", json={"name": "from the dashboard"},
                                headers=dashboard)
        assert reset.status_code == 200
        assert service.session.name == "from the dashboard"
        refused = await http.get(f"{API}/events", headers={"Origin": EVIL})
        assert refused.status_code == 403


# ---- beyond loopback: the token


async def test_bound_to_every_address_the_api_needs_the_token(db_path: Path) -> None:
    async with running(db_path, host="0.0.0.0") as service:
        token = service.access.token
        assert token is not None
        assert len(token) >= 32
        url = f"http://127.0.0.1:{service.port}"
        async with httpx.AsyncClient(base_url=url) as http:
            missing = await http.get(f"{API}/events")
            assert missing.status_code == 401
            assert missing.json()["code"] == "unauthorized"
            assert missing.headers["WWW-Authenticate"].startswith("Bearer")
            wrong = await http.post(f"{API}/reset", json={},
                                    headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            first = service.session.id
            assert service.session.id == first
            good = {"Authorization": f"Bearer {token}"}
            assert (await http.get(f"{API}/events", headers=good)).status_code == 200
            assert (await http.post(f"{API}/reset", json={}, headers=good)).status_code == 200
            assert service.session.id != first
            # A phone on the LAN names the machine's address: an IP literal is no rebinding.
            lan = await http.get(f"{API}/health", headers={**good, "Host": "192.0.2.7:1"})
            assert lan.status_code == 200
            # SDKs cannot send a token: capture stays open.
            assert (await http.post("/v1/t", json=track())).status_code == 200


async def test_a_supplied_token_is_required_even_on_loopback(db_path: Path) -> None:
    async with running(db_path, api_token="ci-secret") as service:
        assert service.access.token == "ci-secret"
        assert "ci-secret" not in repr(service.config)
        async with httpx.AsyncClient(base_url=service.base_url) as http:
            assert (await http.get(f"{API}/health")).status_code == 401
            ok = await http.get(f"{API}/health", headers={"Authorization": "Bearer ci-secret"})
            assert ok.status_code == 200


async def test_loopback_needs_no_token(victim: CaptureService) -> None:
    assert victim.access.token is None
    async with httpx.AsyncClient(base_url=victim.base_url) as http:
        assert (await http.get(f"{API}/health")).status_code == 200


def test_serve_beyond_loopback_prints_the_token_and_a_warning(db_path: Path) -> None:
    process, base_url = start_serve(db_path, "--host", "0.0.0.0", "--quiet")
    # The banner is printed whole even if SIGTERM arrives first: read it all at exit (from
    # the text stream, which already buffers what followed the first line).
    process.send_signal(signal.SIGTERM)
    assert process.stdout is not None
    text = process.stdout.read()
    process.communicate(timeout=20)
    lines = text.splitlines()
    assert "WARNING" in text
    assert "capture routes" in text
    assert f"http://127.0.0.1:{base_url.rsplit(':', 1)[1]}" in text  # a reachable URL
    [token_line] = [line for line in lines if "REST API token" in line]
    token = token_line.rsplit(" ", 1)[1].strip()
    assert len(token) >= 32


def test_serve_token_works_and_api_token_env_supplies_it(db_path: Path) -> None:
    env = {"CI_INSPECTOR_TOKEN": "from-the-environment"}
    process, base_url = start_serve(db_path, "--host", "0.0.0.0", "--quiet",
                                    "--api-token-env", "CI_INSPECTOR_TOKEN", env=env)
    try:
        assert httpx.get(f"{base_url}/inspector/api/health").status_code == 401
        response = httpx.get(f"{base_url}/inspector/api/health",
                             headers={"Authorization": "Bearer from-the-environment"})
        assert response.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.stdout is not None
        out = process.stdout.read()
        process.communicate(timeout=20)
    assert "REST API requires Authorization: Bearer <the token in $CI_INSPECTOR_TOKEN>" in out
    assert "from-the-environment" not in out  # supplied, so never printed


def test_serve_ready_json_carries_a_generated_token(db_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "inspector", "serve", "--host", "0.0.0.0", "--port", "0",
         "--db", str(db_path), "--quiet", "--ready-json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert process.stdout is not None
        ready = json.loads(process.stdout.readline())
        assert ready["token_required"] is True
        assert f"http://127.0.0.1:{ready['port']}" in ready["urls"]
        response = httpx.get(f"{ready['url']}/inspector/api/health",
                             headers={"Authorization": f"Bearer {ready['api_token']}"})
        assert response.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)


@pytest.mark.parametrize(("args", "message"), [
    (["--api-allow-origin", "*"], "--api-allow-origin"),
    (["--api-allow-origin", "http://localhost:5173/app"], "--api-allow-origin"),
    (["--api-token-env", "SURELY_NOT_SET_ANYWHERE"], "SURELY_NOT_SET_ANYWHERE"),
])
def test_bad_access_options_are_usage_errors(db_path: Path, args: list[str],
                                             message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "inspector", "serve", "--port", "0", "--db", str(db_path), *args],
        capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert message in line


# ---- plans: regular files only, bounded, or uploaded


def _unreadable_paths(tmp_path: Path) -> dict[str, Path]:
    fifo = tmp_path / "plan.fifo"
    os.mkfifo(fifo)
    directory = tmp_path / "a-directory.json"
    directory.mkdir()
    return {"dev-zero": Path("/dev/zero"), "dev-stdin": Path("/dev/stdin"), "fifo": fifo,
            "directory": directory, "missing": tmp_path / "missing.json"}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and /dev")
@pytest.mark.parametrize("kind", ["dev-zero", "dev-stdin", "fifo", "directory", "missing"])
@pytest.mark.parametrize("route", ["plan", "revalidate"])
async def test_a_plan_path_that_is_no_regular_file_is_a_prompt_400(
    victim: CaptureService, tmp_path: Path, kind: str, route: str,
) -> None:
    path = _unreadable_paths(tmp_path)[kind]
    before = victim.plan_description
    body = {"path": str(path)} if route == "plan" else {"plan": str(path)}
    async with httpx.AsyncClient(base_url=victim.base_url) as http:
        response = await asyncio.wait_for(http.post(f"{API}/{route}", json=body), 10)
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_plan",
        # The same words whatever the path is: no oracle for what exists.
        "message": f"cannot read plan {path} (a plan must be a regular file inspector can "
                   "read, at most 20 MiB)",
    }
    assert victim.plan_description == before  # the previous plan stays in force


async def test_an_oversized_plan_file_is_refused_unread(victim: CaptureService,
                                                        tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as handle:
        handle.truncate(MAX_PLAN_BYTES + 1)  # sparse: nothing is written, nothing is read
    before = victim.plan_description
    async with httpx.AsyncClient(base_url=victim.base_url) as http:
        response = await http.post(f"{API}/plan", json={"path": str(big)})
    assert response.status_code == 400
    assert response.json()["message"] == f"plan {big} is larger than the 20 MiB limit"
    assert victim.plan_description == before


async def test_plan_content_upload(victim: CaptureService, other_plan: Path) -> None:
    async with httpx.AsyncClient(base_url=victim.base_url) as http:
        uploaded = await http.post(f"{API}/plan", json={"content": other_plan.read_text(),
                                                        "name": "other.json"})
        assert uploaded.status_code == 200, uploaded.text
        plan = uploaded.json()["plan"]
        assert (plan["path"], plan["source"], plan["rules"]) == (None, "other.json", 1)
        await http.post("/v1/t", json=track("Order Completed"))
        [latest] = (await http.get(f"{API}/events", params={"order": "desc", "limit": "1"})
                    ).json()["events"]
        assert latest["status"] == "unplanned"  # validated against the uploaded plan
        as_json = await http.post(f"{API}/plan", json={"content": orjson.loads(
            example_plan_path().read_bytes())})
        assert as_json.status_code == 200
        assert as_json.json()["plan"]["source"] == "uploaded plan"
        before = victim.plan_description
        broken = await http.post(f"{API}/plan", json={"content": '{"rules": [\n  {,}\n]}',
                                                      "name": "mine.json"})
        assert broken.status_code == 400
        assert broken.json()["message"].startswith("mine.json:2:")
        watched = await http.post(f"{API}/plan", json={"content": "{}", "watch": True})
        assert watched.status_code == 400
        both = await http.post(f"{API}/plan", json={"content": "{}", "path": "x"})
        assert both.status_code == 400
        assert victim.plan_description == before
        report = await http.post(f"{API}/revalidate", json={
            "plan": {"content": other_plan.read_text(), "name": "again.json"}})
        assert report.status_code == 200
        assert report.json()["plan"]["source"] == "again.json"


async def test_oversized_plan_content_is_refused(victim: CaptureService) -> None:
    before = victim.plan_description
    async with httpx.AsyncClient(base_url=victim.base_url, timeout=60) as http:
        response = await http.post(f"{API}/plan",
                                   json={"content": " " * (MAX_PLAN_BYTES + 1), "name": "huge"})
    assert response.status_code == 413
    assert response.json() == {"code": "plan_too_large",
                               "message": "plan huge is larger than the 20 MiB limit"}
    assert victim.plan_description == before


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
async def test_the_plan_watcher_never_blocks_on_a_fifo(plan_file: Path) -> None:
    errors: list[PlanError] = []
    watcher = PlanWatcher(plan_file, lambda plan: None, on_error=errors.append)
    plan_file.unlink()
    os.mkfifo(plan_file)  # a save that left a FIFO behind: reading it would wait for ever
    assert await asyncio.wait_for(asyncio.to_thread(watcher.check), 10) is None
    [error] = errors
    assert str(error).startswith(f"cannot read plan {plan_file} ")


@pytest.mark.parametrize(("header", "name", "loopback"), [
    ("[::1]:8787", "::1", True),
    ("LocalHost.:80", "localhost", True),
    ("127.255.0.1", "127.255.0.1", True),
    ("[::ffff:127.0.0.1]:1", "::ffff:127.0.0.1", True),
    ("localhost.evil.example", "localhost.evil.example", False),
    ("127.0.0.1.nip.io:8787", "127.0.0.1.nip.io", False),
    ("[2001:db8::1]:8787", "2001:db8::1", False),
])
def test_host_names_are_read_as_browsers_send_them(header: str, name: str,
                                                   loopback: bool) -> None:
    assert host_name(header) == name
    assert is_loopback(host_name(header)) is loopback


def test_a_wildcard_bind_lists_loopback_last_and_a_specific_one_only_itself() -> None:
    everywhere = reachable_addresses("0.0.0.0")
    assert everywhere[-1] == "127.0.0.1"
    assert all(":" not in address for address in everywhere)
    assert reachable_addresses("192.0.2.5") == ["192.0.2.5"]
    assert reachable_addresses("::")[-1] == "::1"
