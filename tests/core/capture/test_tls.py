"""HTTPS capture with the generated local CA: real TLS clients, the trust page, the key's
mode, reuse across restarts and re-issue of the server certificate."""

from __future__ import annotations

import asyncio
import ssl
import stat
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from segment.analytics import Client

from inspector.core.capture import CaptureConfig, CaptureService
from inspector.core.store import EventQuery
from inspector.core.tls import certificate_hosts, load_or_create_ca, server_ssl_context
from tests.support.capture import running
from tests.support.segment_calls import track


@pytest.fixture
def tls_dir(tmp_path: Path) -> Path:
    return tmp_path / "tls"


@pytest.fixture
async def tls_capture(db_path: Path, tls_dir: Path) -> AsyncIterator[CaptureService]:
    config = CaptureConfig(port=0, db_path=db_path, session_name="tls", tls=True,
                           tls_dir=tls_dir)
    async with running(config) as service:
        yield service


def stored(service: CaptureService) -> list[Any]:
    return service.store.query_events(EventQuery(session_id=service.session.id)).events


def ca_path(service: CaptureService) -> str:
    assert service.tls_ca is not None
    return str(service.tls_ca.cert_path)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_httpx_trusting_only_the_ca_posts_a_batch_over_https(
    tls_capture: CaptureService, host: str
) -> None:
    assert tls_capture.tls_port is not None
    assert tls_capture.tls_port != tls_capture.port
    url = f"https://{host}:{tls_capture.tls_port}/v1/batch"
    trusting = ssl.create_default_context(cafile=ca_path(tls_capture))
    async with httpx.AsyncClient(verify=trusting) as client:
        response = await client.post(url, json={"writeKey": "ios", "batch": [
            track("Order Completed", user_id="u-1"), track("Cart Viewed", user_id="u-1")]})
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert [event.name for event in stored(tls_capture)] == ["Order Completed", "Cart Viewed"]
    assert all(event.write_key == "ios" for event in stored(tls_capture))


async def test_the_plain_port_keeps_working_beside_https(tls_capture: CaptureService) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{tls_capture.base_url}/v1/track",
                                     json=track("Plain", user_id="u-2"))
    assert response.status_code == 200
    assert [event.name for event in stored(tls_capture)] == ["Plain"]


async def test_a_client_that_does_not_trust_the_ca_is_refused(
    tls_capture: CaptureService,
) -> None:
    assert tls_capture.tls_url is not None
    async with httpx.AsyncClient() as client:  # the system store only
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await client.post(f"{tls_capture.tls_url}/v1/track", json=track("X", user_id="u"))
    assert stored(tls_capture) == []


async def test_analytics_python_over_https_with_requests_ca_bundle(
    tls_capture: CaptureService, monkeypatch: pytest.MonkeyPatch
) -> None:
    # requests (under analytics-python) reads REQUESTS_CA_BUNDLE for every request.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_path(tls_capture))
    errors: list[Any] = []
    client = Client("py-key", host=tls_capture.tls_url, sync_mode=True, max_retries=0,
                    on_error=lambda error, batch: errors.append(error))
    await asyncio.get_running_loop().run_in_executor(
        None, lambda: client.track("user-7", "Checkout Started", {"total": 3}))
    assert errors == []
    events = stored(tls_capture)
    assert [(e.name, e.user_id, e.write_key) for e in events] == [
        ("Checkout Started", "user-7", "py-key")]


def test_the_ca_key_is_private_and_the_ca_is_reused_and_the_cert_reissued(
    tls_dir: Path,
) -> None:
    first = load_or_create_ca(tls_dir)
    if sys.platform != "win32":
        assert stat.S_IMODE(first.key_path.stat().st_mode) == 0o600
        assert stat.S_IMODE(tls_dir.stat().st_mode) == 0o700
    key_bytes = first.key_path.read_bytes()
    server_ssl_context(certificate_hosts("127.0.0.1"), tls_dir)
    issued = (tls_dir / "server.pem").read_bytes()
    if sys.platform != "win32":
        assert stat.S_IMODE((tls_dir / "server.pem").stat().st_mode) == 0o600  # holds its key
    # A restart with the same addresses: same CA, same key, same server certificate.
    again = load_or_create_ca(tls_dir)
    server_ssl_context(certificate_hosts("127.0.0.1"), tls_dir)
    assert again.fingerprint == first.fingerprint
    assert again.key_path.read_bytes() == key_bytes
    assert (tls_dir / "server.pem").read_bytes() == issued
    # Bound to another address: a new server certificate covering it, from the same CA.
    server_ssl_context(certificate_hosts("127.0.0.2"), tls_dir)
    reissued = x509.load_pem_x509_certificate((tls_dir / "server.pem").read_bytes())
    names = reissued.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    covered = {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} | set(
        names.get_values_for_type(x509.DNSName))
    assert {"localhost", "127.0.0.1", "::1", "127.0.0.2"} <= covered
    assert reissued.issuer == first.certificate.subject
    assert load_or_create_ca(tls_dir).fingerprint == first.fingerprint


async def test_the_ca_survives_a_restart_of_the_service(db_path: Path, tls_dir: Path) -> None:
    fingerprints = []
    for _ in range(2):
        async with running(CaptureConfig(port=0, db_path=db_path, tls=True,
                                         tls_dir=tls_dir)) as service:
            assert service.tls_ca is not None
            fingerprints.append(service.tls_ca.fingerprint)
            trusting = ssl.create_default_context(cafile=service.tls_ca.cert_path)
            async with httpx.AsyncClient(verify=trusting) as client:
                response = await client.post(f"{service.tls_url}/v1/t",
                                             json=track("A", user_id="u"))
            assert response.status_code == 200
    assert fingerprints[0] == fingerprints[1]


async def test_the_trust_page_serves_instructions_and_only_the_public_certificate(
    tls_capture: CaptureService,
) -> None:
    assert tls_capture.tls_ca is not None
    async with httpx.AsyncClient(base_url=tls_capture.base_url) as client:
        text = await client.get("/inspector/tls")
        page = await client.get("/inspector/tls", headers={"Accept": "text/html"})
        pem = await client.get("/inspector/tls/inspector-ca.pem")
        der = await client.get("/inspector/tls/inspector-ca.crt")
        write = await client.post("/inspector/tls")
    assert text.status_code == 200
    for expected in ("xcrun simctl keychain booted add-root-cert", "network_security_config",
                     "update-ca-certificates", "security add-trusted-cert", "certutil",
                     tls_capture.tls_ca.fingerprint):
        assert expected in text.text
    assert page.headers["Content-Type"].startswith("text/html")
    assert "inspector-ca.crt" in page.text
    assert pem.content == tls_capture.tls_ca.cert_path.read_bytes()
    assert der.content == tls_capture.tls_ca.der()
    for body in (text.text, page.text, pem.text):
        assert "PRIVATE KEY" not in body
    assert write.status_code == 405  # read-only


async def test_without_tls_the_trust_page_says_how_to_turn_it_on(
    capture: CaptureService,
) -> None:
    async with httpx.AsyncClient(base_url=capture.base_url) as client:
        response = await client.get("/inspector/tls/inspector-ca.pem")
    assert response.status_code == 404
    assert response.json()["code"] == "tls_off"
    assert "--tls" in response.json()["message"]


async def test_cdn_settings_send_analytics_next_to_the_https_port(
    tls_capture: CaptureService,
) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(
            f"http://localhost:{tls_capture.port}/v1/projects/web-key/settings")
    segment = response.json()["integrations"]["Segment.io"]
    assert segment["apiHost"] == f"localhost:{tls_capture.tls_port}/v1"
    assert segment["protocol"] == "https"


def test_processes_creating_the_ca_at_once_end_up_with_one_ca(tmp_path: Path) -> None:
    import concurrent.futures

    folder = tmp_path / "tls"
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        made = list(pool.map(lambda _: load_or_create_ca(folder).fingerprint, range(8)))
    assert len(set(made)) == 1
    assert load_or_create_ca(folder).fingerprint == made[0]
    # The key on disk signs what the certificate on disk says.
    server_ssl_context(certificate_hosts("127.0.0.1"), folder)
