"""Environment checks (staging vs production), each on planted faults sent over real HTTP."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from inspector.cli import main
from inspector.core.audit import AuditConfig, AuditConfigError, FindingSeverity
from inspector.core.audit.config import EnvironmentConfig, parse_audit_config
from inspector.core.capture import CaptureConfig, CaptureService
from inspector.core.environments import EnvironmentMap
from tests.core.audit.conftest import Traffic, checks_found, only

Audit = Callable[..., Any]

STAGING = EnvironmentConfig(
    name="staging", write_keys=["stg-web-key", "stg-backend-key", "stg-ios-key"],
    hosts=["*.staging.shop.test", "staging.shop.test"], app_builds=["*-staging"],
    destination="Staging EU")
#: Production lists its web key by the name the session gives it ("web" is web-key).
PRODUCTION = EnvironmentConfig(
    name="production", production=True, write_keys=["web", "backend-key", "ios-key"],
    hosts=["shop.test", "*.shop.test"], app_namespaces=["com.shop.app"],
    destination="Production")
CONFIG = AuditConfig(environments=[STAGING, PRODUCTION])
ENVIRONMENT_CHECKS = {"environment.wrong_write_key", "environment.mixed",
                      "environment.unknown_key"}


def mid() -> str:
    return str(uuid.uuid4())


def page(url: str) -> dict[str, Any]:
    return {"page": {"url": url, "path": "/", "title": "Shop"}}


async def test_a_production_key_on_a_staging_host_is_an_error(audit_traffic: Audit) -> None:
    ids: list[str] = []

    def staging_site_with_the_production_key(traffic: Traffic) -> None:
        for path in ("/cart", "/checkout"):
            ids.append(traffic.web("track", userId="tester-1", event="Added to Cart",
                                   context=page(f"https://shop.staging.shop.test{path}")))
        # The right key on the same host, and production on its own host: nothing to say.
        traffic.web("page", key="stg-web-key", userId="tester-1",
                    context=page("https://shop.staging.shop.test/"))
        traffic.web("page", userId="81001", context=page("https://www.shop.test/"))

    result = await audit_traffic(staging_site_with_the_production_key, CONFIG)
    [finding] = only(result, "environment.wrong_write_key")
    assert finding.severity is FindingSeverity.ERROR
    assert finding.message_ids == tuple(ids)
    assert finding.message == (
        '2 calls through the production write key "web-key" (web) came from staging '
        '(host "shop.staging.shop.test"): staging tests pollute production Customer.io '
        "people: test profiles, fake orders and test emails land among real customers and "
        "can trigger real campaigns. Use the staging key there.")
    assert finding.data["key_environment"] == "production"
    assert finding.data["origin_environment"] == "staging"


async def test_a_staging_key_on_the_production_site_is_an_error(audit_traffic: Audit) -> None:
    ids: list[str] = []

    def production_site_with_the_staging_key(traffic: Traffic) -> None:
        ids.append(traffic.web("identify", key="stg-web-key", userId="81001",
                               traits={"email": "ada@shop.test"},
                               context=page("https://www.shop.test/account")))
        # A production app build with the staging key: the reverse on mobile.
        ids.append(traffic.ios("track", key="stg-ios-key", userId="81002",
                               event="Product Viewed",
                               context={"app": {"namespace": "com.shop.app",
                                                "build": "4.2.0"}}))

    result = await audit_traffic(production_site_with_the_staging_key, CONFIG)
    web, ios = sorted(only(result, "environment.wrong_write_key"), key=lambda f: f.event_ids)
    assert web.message_ids == (ids[0],)
    assert web.message.startswith(
        '1 call through the staging write key "stg-web-key" came from production '
        '(host "www.shop.test"): production traffic lands in staging: real customers\' '
        "events and personal data go to the staging workspace and never reach production "
        "Customer.io")
    assert ios.message_ids == (ids[1],)
    assert '(app "com.shop.app")' in ios.message
    assert "production traffic lands in staging" in ios.message


async def test_a_staging_build_wins_over_the_shared_app_namespace(audit_traffic: Audit) -> None:
    ids: list[str] = []

    def staging_build(traffic: Traffic) -> None:
        ids.append(traffic.ios("track", userId="tester-2", event="Product Viewed",
                               context={"app": {"namespace": "com.shop.app",
                                                "build": "4.2.0-staging"}}))

    result = await audit_traffic(staging_build, CONFIG)
    [finding] = only(result, "environment.wrong_write_key")
    assert finding.message_ids == tuple(ids)
    assert '(app build "4.2.0-staging")' in finding.message
    assert "staging tests pollute production Customer.io people" in finding.message


async def test_one_person_through_both_environments_is_mixed(audit_traffic: Audit) -> None:
    ids: list[str] = []

    def tester_on_a_real_identity(traffic: Traffic) -> None:
        # Staging site, staging key: right so far.
        ids.append(traffic.web("identify", key="stg-web-key", userId="81001",
                               anonymousId="a-1", traits={"email": "ada@shop.test"},
                               context=page("https://staging.shop.test/")))
        # The production backend (analytics-python) then orders for the same userId.
        ids.append(mid())
        traffic.backend.track("81001", "Order Completed", {"order_id": "o-1"},
                              message_id=ids[-1])
        # Someone else stays in staging: no finding for them.
        staging = traffic.backend_with("stg-backend-key")
        staging.track("tester-9", "Order Completed", {"order_id": "o-9"}, message_id=mid())

    result = await audit_traffic(tester_on_a_real_identity, CONFIG)
    [finding] = only(result, "environment.mixed")
    assert finding.severity is FindingSeverity.ERROR
    assert finding.person == "user:81001"
    assert finding.message_ids == tuple(ids)
    assert finding.message == (
        'ada@shop.test sent calls through the keys of staging (write key "stg-web-key") and '
        'production (write key "backend-key" (backend)): staging test activity reaches a '
        "real customer's production profile, or their real data sits in a test workspace, "
        "and campaigns in each workspace see only part of their activity. Keep test "
        "identities on test keys.")
    assert finding.data["environments"] == ["staging", "production"]
    assert not only(result, "environment.wrong_write_key")


async def test_a_backend_on_the_wrong_key_mixes_a_session(audit_traffic: Audit) -> None:
    # A staging backend configured with the production key: one anonymous browser session
    # (anonymousId a-7) goes through both environments.
    def staging_backend_with_the_production_key(traffic: Traffic) -> None:
        traffic.web("track", key="stg-web-key", anonymousId="a-7", event="Added to Cart",
                    context=page("https://staging.shop.test/cart"))
        traffic.backend.track(anonymous_id="a-7", event="Checkout Started",
                              properties={"cart_id": "c-7"}, message_id=mid())

    result = await audit_traffic(staging_backend_with_the_production_key, CONFIG)
    [finding] = only(result, "environment.mixed")
    assert finding.person == "anon:a-7"
    assert finding.message.startswith("a-7 sent calls through the keys of staging")


async def test_a_key_in_no_environment_is_a_warning(audit_traffic: Audit) -> None:
    ids: list[str] = []

    def quiz_tool(traffic: Traffic) -> None:
        ids.append(traffic.quiz("identify", userId="81001", traits={"vip_tier": "gold"},
                                context=page("https://quiz.staging.shop.test/")))
        traffic.web("page", userId="81001", context=page("https://www.shop.test/"))

    result = await audit_traffic(quiz_tool, CONFIG)
    [finding] = only(result, "environment.unknown_key")
    assert finding.severity is FindingSeverity.WARNING
    assert finding.message_ids == tuple(ids)
    assert finding.message == (
        '1 call came with write key "quiz-key" (quiz tool), which belongs to none of the '
        "configured environments (staging and production): nobody can tell which "
        'Customer.io workspace its calls land in. Its calls come from host '
        '"quiz.staging.shop.test", which is staging. Add it to its environment, or revoke it.')


async def test_without_environments_the_checks_are_silent(audit_traffic: Audit) -> None:
    def everything_wrong(traffic: Traffic) -> None:
        traffic.web("track", userId="81001", event="Added to Cart",
                    context=page("https://shop.staging.shop.test/"))
        traffic.web("track", key="stg-web-key", userId="81001", event="Added to Cart")
        traffic.quiz("identify", userId="81001", traits={})

    result = await audit_traffic(everything_wrong)
    assert not checks_found(result) & ENVIRONMENT_CHECKS


async def test_each_environment_on_its_own_hosts_is_clean(audit_traffic: Audit) -> None:
    def well_kept(traffic: Traffic) -> None:
        traffic.web("identify", key="stg-web-key", userId="tester-1",
                    context=page("https://staging.shop.test/"))
        traffic.web("identify", userId="81001", context=page("https://shop.test/"))
        traffic.ios("track", userId="81001", event="Product Viewed",
                    context={"app": {"namespace": "com.shop.app", "build": "4.2.0"}})
        traffic.backend.track("81001", "Order Completed", {"order_id": "o-1"},
                              message_id=mid())
        # A host no environment lists says nothing about where the call came from.
        traffic.web("page", userId="81001", context=page("http://localhost:3000/"))

    result = await audit_traffic(well_kept, CONFIG)
    assert not checks_found(result) & ENVIRONMENT_CHECKS


def test_the_most_specific_host_pattern_wins() -> None:
    environments = EnvironmentMap([
        EnvironmentConfig(name="production", production=True, hosts=["*.shop.test"]),
        EnvironmentConfig(name="staging", hosts=["*.staging.shop.test"]),
    ])
    assert environments.origin(page("https://a.staging.shop.test:8443/x")).environment.name \
        == "staging"  # type: ignore[union-attr]
    assert environments.origin(page("https://WWW.Shop.Test/")).environment.name \
        == "production"  # type: ignore[union-attr]
    assert environments.origin(page("not a url")) is None
    assert environments.origin({"app": {"build": 42}}) is None
    # The event's environment is its key's; an unlisted key falls back to its origin.
    assert environments.of_event("k", None, page("http://localhost:3000/")) is None
    assert environments.of_event("k", None, page("https://x.staging.shop.test/")).name \
        == "staging"  # type: ignore[union-attr]


def test_a_key_in_two_environments_is_refused_with_its_position() -> None:
    text = ("environments:\n"
            "  - {name: staging, write_keys: [k1]}\n"
            "  - {name: production, production: true, write_keys: [k1]}\n")
    with pytest.raises(AuditConfigError) as raised:
        parse_audit_config(text, "audit.yaml")
    assert "audit.yaml:2:" in str(raised.value)
    assert "write key 'k1' is in both 'staging' and 'production'" in str(raised.value)
    schema = AuditConfig.json_schema()
    assert "environments" in schema["properties"]
    assert "EnvironmentConfig" in schema["$defs"]


ENVIRONMENTS_YAML = """\
environments:
  - name: staging
    write_keys: [stg-web-key]
    hosts: ["*.staging.shop.test"]
  - name: production
    production: true
    write_keys: [web-key]
    hosts: [shop.test]
"""


async def test_inspector_audit_and_the_rest_api_report_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    audit_file = tmp_path / "audit.yaml"
    audit_file.write_text(ENVIRONMENTS_YAML, encoding="utf-8")
    db = tmp_path / "captures.sqlite3"
    service = CaptureService(CaptureConfig(port=0, db_path=db, session_name="envs",
                                           audit_path=audit_file))
    await service.start()
    try:
        async with httpx.AsyncClient(base_url=service.base_url) as client:
            response = await client.post("/v1/t", json={
                "type": "track", "event": "Added to Cart", "userId": "tester-1",
                "writeKey": "web-key", "messageId": "m-wrong",
                "context": {"library": {"name": "analytics.js"},
                            "page": {"url": "https://shop.staging.shop.test/cart"}}})
            response.raise_for_status()
            answer = (await client.get("/inspector/api/audit",
                                       params={"check": "environment.wrong_write_key"})).json()
        [finding] = answer["findings"]
        assert finding["severity"] == "error"
        assert finding["message_ids"] == ["m-wrong"]
        assert "staging tests pollute production Customer.io people" in finding["message"]
    finally:
        await service.stop()
    code = main(["audit", "--db", str(db), "--session", "envs", "--config", str(audit_file),
                 "--format", "json"])
    assert code == 1
    checks = {item["check"] for item in json.loads(capsys.readouterr().out)["findings"]}
    assert "environment.wrong_write_key" in checks
