"""Findings kept with their session: reused while current, computed again when not."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from inspector.cli import main
from inspector.core.audit import AuditConfig, Auditor
from inspector.core.audit.storage import config_hash, load_stored_audit
from inspector.core.capture import CaptureService
from tests.core.audit.conftest import Traffic
from tests.core.audit.test_retention_checks import ITEMS

Audit = Callable[..., Any]


def ghost(traffic: Traffic) -> None:
    traffic.web("track", anonymousId="ghost-1", event="Added to Cart",
                properties={"cart_id": "c-1", "items": ITEMS})


def another_ghost(traffic: Traffic) -> None:
    traffic.web("track", anonymousId="ghost-2", event="Added to Cart",
                properties={"cart_id": "c-2", "items": ITEMS})


def _cli_audit(capture: CaptureService, capsys: pytest.CaptureFixture[str],
               *extra: str) -> dict[str, Any]:
    assert main(["audit", "--db", str(capture.store.path), "--format", "json", *extra]) == 1
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


async def test_the_cli_keeps_findings_and_reuses_them_while_current(
    audit_traffic: Audit, capture: CaptureService, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await audit_traffic(ghost)
    first = _cli_audit(capture, capsys)
    checks = [check.id for check in Auditor().checks]
    kept = load_stored_audit(capture.store, capture.session.id, AuditConfig(), checks)
    assert kept is not None
    assert kept.through_event_id == capture.store.session_last_event_id(capture.session.id)
    assert [f.to_dict() for f in kept.findings] == first["findings"]

    # Current: answered from what was kept (a from-scratch audit would fail here).
    import inspector.core.audit.report as report

    def no_audit(*args: object) -> None:
        raise AssertionError("audited again")

    monkeypatch.setattr(report, "audit_session", no_audit)
    assert _cli_audit(capture, capsys)["findings"] == first["findings"]
    monkeypatch.undo()

    # A new event: computed again, and kept again.
    await audit_traffic(another_ghost)
    again = _cli_audit(capture, capsys)
    assert [f["person"] for f in again["findings"]] == ["anon:ghost-1", "anon:ghost-2", None]
    kept = load_stored_audit(capture.store, capture.session.id, AuditConfig(), checks)
    assert kept is not None
    assert len(kept.findings) == 3  # two ghost carts, and the bundled cart segment


async def test_another_configuration_is_kept_apart(
    audit_traffic: Audit, capture: CaptureService, capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    await audit_traffic(ghost)
    _cli_audit(capture, capsys)
    config_file = tmp_path / "audit.yaml"
    config_file.write_text("checks:\n  identity.anonymous_intent: {severity: warning}\n")
    assert main(["audit", "--db", str(capture.store.path), "--format", "json",
                 "--config", str(config_file)]) == 0  # now a warning: no error finding
    assert json.loads(capsys.readouterr().out)["findings"][0]["severity"] == "warning"
    rows = capture.store._reader().execute(
        "SELECT count(*) FROM audit_findings WHERE session_id = ?",
        (capture.session.id,)).fetchone()[0]
    assert rows == 2
    # Deleting the session deletes what was kept with it.
    capture.store.delete_session(capture.session.id)
    assert capture.store.load_audit(capture.session.id, config_hash(AuditConfig(), [])) is None
    assert capture.store._reader().execute(
        "SELECT count(*) FROM audit_findings").fetchone()[0] == 0


def test_a_read_only_database_still_audits(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from inspector.core.audit.storage import store_audit
    from inspector.core.store import EventStore

    store = EventStore(tmp_path / "x.sqlite3")
    session = store.create_session("s")

    def refuse(*args: object) -> None:
        import sqlite3

        raise sqlite3.OperationalError("attempt to write a readonly database")

    store.save_audit = refuse  # type: ignore[method-assign]
    assert store_audit(store, session.id, AuditConfig(), [], 0, 0, []) is False
    store.close()
