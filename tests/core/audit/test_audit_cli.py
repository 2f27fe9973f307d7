"""``inspector audit`` and ``inspector people``: exit codes, formats and configuration errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from inspector.cli import main
from inspector.core.audit.config import AuditConfigError, parse_audit_config
from inspector.core.capture import CaptureService
from tests.core.audit.conftest import Traffic
from tests.core.audit.test_retention_checks import ITEMS, clean_checkout

Audit = Callable[..., Any]


def ghost_cart(traffic: Traffic) -> None:
    clean_checkout(traffic)
    traffic.web("track", anonymousId="ghost-1", event="Added to Cart",
                properties={"cart_id": "c-9", "items": ITEMS})


async def test_audit_fails_on_an_error_finding_and_prints_json(
    audit_traffic: Audit, capture: CaptureService, capsys: pytest.CaptureFixture[str],
) -> None:
    await audit_traffic(ghost_cart)
    code = main(["audit", "--db", str(capture.store.path), "--session", "test",
                 "--format", "json"])
    assert code == 1
    output = json.loads(capsys.readouterr().out)
    assert output["session"]["name"] == "test"
    # The ghost cart is also in the bundled segment "Added to Cart ... email is blank".
    ghost, segment = output["findings"]
    assert {"check", "severity", "message", "message_ids", "person"} <= ghost.keys()
    assert (ghost["check"], ghost["severity"]) == ("identity.anonymous_intent", "error")
    assert (segment["check"], segment["severity"]) == (
        "segment.added_to_cart_in_the_last_day_and_email_is_blank", "warning")


async def test_audit_of_a_clean_session_exits_zero(
    audit_traffic: Audit, capture: CaptureService, capsys: pytest.CaptureFixture[str],
) -> None:
    await audit_traffic(clean_checkout)
    assert main(["audit", "--db", str(capture.store.path)]) == 0
    assert capsys.readouterr().out.endswith("session 'test': 0 errors, 0 warnings, 0 infos\n")


async def test_audit_junit_has_a_case_per_check(
    audit_traffic: Audit, capture: CaptureService, capsys: pytest.CaptureFixture[str],
) -> None:
    await audit_traffic(ghost_cart)
    assert main(["audit", "--db", str(capture.store.path), "--format", "junit"]) == 1
    suite = ElementTree.fromstring(capsys.readouterr().out).find("testsuite")
    assert suite is not None
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert "identity.multiple_user_ids" in cases
    assert cases["identity.anonymous_intent"].find("failure") is not None
    assert cases["identity.multiple_user_ids"].find("failure") is None
    assert suite.get("failures") == "1"


async def test_people_lists_identifiers_traits_and_writers(
    audit_traffic: Audit, capture: CaptureService, capsys: pytest.CaptureFixture[str],
) -> None:
    await audit_traffic(clean_checkout)
    assert main(["people", "--db", str(capture.store.path), "--format", "json"]) == 0
    [person] = json.loads(capsys.readouterr().out)["people"]
    assert person["user_ids"] == [{"value": "81001", "shape": "numeric",
                                   "sources": ["backend", "web"]}]
    assert person["anonymous_ids"] == ["anon-clean"]
    assert person["emails"] == ["ada@shop.test"]
    assert person["traits"]["lifetime_value"]["source"] == "backend"
    assert person["traits"]["first_name"]["source"] == "web"


def test_usage_errors_exit_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--db", str(tmp_path / "missing.sqlite3")]) == 2
    assert "no capture database at" in capsys.readouterr().err
    bad = tmp_path / "audit.yaml"
    bad.write_text("intent_events: [Added to Cart]\nconsent_trait: 3\nthresholds: {}\n")
    assert main(["audit", "--db", str(tmp_path / "x"), "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2:16: consent_trait: Input should be a valid string" in err
    assert f"{bad}:3:1: thresholds: Extra inputs are not permitted" in err
    assert main(["audit", "--url", "http://127.0.0.1:9", "--config", str(bad)]) == 2
    assert "--config applies to --db" in capsys.readouterr().err


def test_config_syntax_errors_name_line_and_column() -> None:
    with pytest.raises(AuditConfigError, match=r"^audit\.json:2:\d+: "):
        parse_audit_config('{"intent_events": ["a",\n  ]]}', "audit.json")
    with pytest.raises(AuditConfigError,
                       match=r"x\.yaml:3:5: placeholder_patterns\.1: Value error, invalid "
                       r"regular expression '\('"):
        parse_audit_config("placeholder_patterns:\n  - ok\n  - '('\n", "x.yaml")
    with pytest.raises(AuditConfigError, match="must be a mapping"):
        parse_audit_config("- a\n")


def test_print_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--print-schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "intent_events" in schema["properties"]
    assert schema["additionalProperties"] is False


def test_the_bundled_example_audit_file_loads() -> None:
    from inspector.core.audit.config import load_audit_config
    from inspector.core.resources import resource_path

    config = load_audit_config(resource_path("audit", "retention-audit.yaml"))
    assert config.allowed_writers("email") == ["backend", "web"]
    assert config.allowed_writers("phone") == ["server", "browser", "mobile"]
    assert config.checks["identity.email_as_user_id"].severity == "error"
    assert config.latency_thresholds("Added to Cart") == (60, 600)
    assert config.latency_thresholds("Order Completed") == (300, 3600)
    assert [env.name for env in config.environments] == ["staging", "production"]
    assert config.environment_map.of_key("x", "web").name == "production"  # type: ignore[union-attr]
