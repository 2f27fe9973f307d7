"""``inspector replay`` end to end against the stand-in (on its own thread)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from inspector.cli import main
from tests.support.customerio_standin import CustomerIOStandIn


def _inline(server: CustomerIOStandIn, db: Path, *extra: str) -> list[str]:
    return ["replay", "--db", str(db), "--session", "qa", "--mode", "classic",
            "--site-id", server.site_id, "--api-key-env", "CIO_TEST_KEY",
            "--track-host", server.base_url, *extra]


def test_dry_run_prints_requests_and_sends_nothing(
    server: CustomerIOStandIn, db: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CIO_TEST_KEY", server.api_key)
    assert main(_inline(server, db, "--dry-run")) == 0
    captured = capsys.readouterr()
    lines = [orjson.loads(line) for line in captured.out.splitlines()]
    assert [(line["method"], line["url"]) for line in lines] == [
        ("PUT", f"{server.base_url}/api/v1/customers/u1"),
        ("POST", f"{server.base_url}/api/v1/customers/u1/events"),
    ]
    assert set(lines[1]) == {"method", "url", "body"}
    assert "Classic would drop this" in captured.err
    assert server.api_key not in captured.out + captured.err
    assert server.requests == []


def test_inline_replay_sends_and_prints_a_summary(
    server: CustomerIOStandIn, db: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CIO_TEST_KEY", server.api_key)
    assert main(_inline(server, db, "--send-anonymous")) == 0
    summary = orjson.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["counts"]["sent"] == 3
    assert len(server.events) == 2
    assert "u1" in server.people


def test_saved_production_destination_needs_unlock(
    server: CustomerIOStandIn, db: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CIO_TEST_KEY", server.api_key)
    assert main(["replay", "--db", str(db), "--add-destination", "Prod", "--mode", "classic",
                 "--site-id", server.site_id, "--api-key-env", "CIO_TEST_KEY",
                 "--track-host", server.base_url, "--production"]) == 0
    monkeypatch.delenv("CIO_TEST_KEY")  # from now on the key comes from the keyring
    base = ["replay", "--db", str(db), "--session", "qa", "--destination", "Prod"]
    assert main(base) == 2
    assert "production" in capsys.readouterr().err
    assert server.requests == []
    assert main([*base, "--unlock", "Prod", "--event", "Signed Up"]) == 0
    assert len(server.requests) == 1
    assert main(["replay", "--db", str(db), "--destination", "Prod", "--test-connection"]) == 0


def test_missing_key_variable_is_a_usage_error(
    server: CustomerIOStandIn, db: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CIO_TEST_KEY", raising=False)
    assert main(_inline(server, db)) == 2
    assert "CIO_TEST_KEY is not set" in capsys.readouterr().err
