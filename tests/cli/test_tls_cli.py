"""``inspector tls`` and ``inspector serve --tls`` as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from inspector.cli import main
from inspector.core.tls import default_tls_dir
from tests.support.segment_calls import track


def test_ca_path_prints_the_public_certificate_and_show_says_how_to_trust_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["tls", "ca-path"]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path == default_tls_dir() / "inspector-ca.pem"
    assert path.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert main(["tls", "show"]) == 0
    shown = capsys.readouterr().out
    assert "SHA-256 fingerprint" in shown
    assert f"xcrun simctl keychain booted add-root-cert {path}" in shown
    assert "PRIVATE KEY" not in shown


def test_serve_tls_answers_on_both_ports(db_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "inspector", "serve", "--port", "0", "--tls", "--db",
         str(db_path), "--quiet", "--ready-json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        ready = json.loads(process.stdout.readline())
        assert ready["tls_url"].startswith("https://127.0.0.1:")
        assert ready["tls_port"] != ready["port"]
        trusting = ssl.create_default_context(cafile=ready["tls_ca"])
        secure = httpx.post(f"{ready['tls_url']}/v1/track", json=track("Over TLS", user_id="u"),
                            verify=trusting)
        plain = httpx.post(f"{ready['url']}/v1/track", json=track("Plain", user_id="u"))
        assert (secure.status_code, plain.status_code) == (200, 200)
        events = httpx.get(f"{ready['url']}/inspector/api/events").json()
        assert sorted(event["event"] for event in events["events"]) == ["Over TLS", "Plain"]
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)
    assert process.returncode == 0
