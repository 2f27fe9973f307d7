"""``inspector replay`` end to end against the stand-in (on its own thread)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from inspector.cli import main
from tests.support.customerio_standin import CustomerIOStandIn
from tests.support.events import add_events, make_event


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


def _environments_file(tmp_path: Path) -> Path:
    path = tmp_path / "audit.yaml"
    path.write_text(
        "environments:\n"
        "  - {name: staging, write_keys: [stg-key], destination: Staging}\n"
        "  - {name: production, production: true, write_keys: [prod-key], "
        "destination: Prod}\n", encoding="utf-8")
    return path


@pytest.fixture
def production_db(tmp_path: Path) -> Path:
    """Session "prod": two events captured with the production write key."""
    path = tmp_path / "prod.sqlite"
    events = [make_event("identify", index=0, userId="u1"),
              make_event("track", index=1, userId="u1", event="Signed Up")]
    store, _, _ = add_events(path, events, session="prod", write_key="prod-key")
    store.close()
    return path


def test_production_events_to_staging_need_allow_cross_environment(
    server: CustomerIOStandIn, production_db: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CIO_TEST_KEY", server.api_key)
    audit = _environments_file(tmp_path)
    assert main(["replay", "--db", str(production_db), "--add-destination", "Staging",
                 "--mode", "classic", "--site-id", server.site_id, "--api-key-env",
                 "CIO_TEST_KEY", "--track-host", server.base_url]) == 0
    base = ["replay", "--db", str(production_db), "--session", "prod", "--destination",
            "Staging", "--audit", str(audit)]
    capsys.readouterr()
    assert main(base) == 2
    err = capsys.readouterr().err
    assert ("inspector: warning: 2 events to replay were captured with production write "
            "keys, and 'Staging' is the staging workspace: real customers' personal data "
            "would land in a test workspace") in err
    assert "--allow-cross-environment" in err
    assert server.requests == []
    # A dry run warns and sends nothing either way.
    assert main([*base, "--dry-run"]) == 0
    assert "warning: 2 events" in capsys.readouterr().err
    assert main([*base, "--allow-cross-environment"]) == 0
    assert len(server.requests) == 2
    # Without the environments nothing is known: no warning.
    capsys.readouterr()
    assert main([*base[:-2], "--dry-run"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_staging_events_to_production_need_both_the_unlock_and_the_flag(
    server: CustomerIOStandIn, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "stg.sqlite"
    store, _, _ = add_events(path, [make_event("identify", index=0, userId="tester")],
                             session="stg", write_key="stg-key")
    store.close()
    monkeypatch.setenv("CIO_TEST_KEY", server.api_key)
    assert main(["replay", "--db", str(path), "--add-destination", "Prod", "--mode",
                 "classic", "--site-id", server.site_id, "--api-key-env", "CIO_TEST_KEY",
                 "--track-host", server.base_url, "--production"]) == 0
    base = ["replay", "--db", str(path), "--session", "stg", "--destination", "Prod",
            "--audit", str(_environments_file(tmp_path)), "--unlock", "Prod"]
    capsys.readouterr()
    assert main(base) == 2
    assert "captured with staging write keys, and 'Prod' is a production workspace: test " \
        "profiles" in capsys.readouterr().err
    assert main([*base, "--allow-cross-environment"]) == 0
    assert len(server.requests) == 1


def test_a_broken_audit_file_is_a_usage_error(
    server: CustomerIOStandIn, db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CIO_TEST_KEY", server.api_key)
    broken = tmp_path / "audit.yaml"
    broken.write_text("environments: [{name: staging, colour: red}]\n", encoding="utf-8")
    assert main(_inline(server, db, "--audit", str(broken))) == 2
    assert "audit configuration:" in capsys.readouterr().err
    assert server.requests == []
