"""Each retention check on a planted-fault session sent over real HTTP, and a clean session."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inspector.core.audit import AuditConfig, FindingSeverity
from inspector.core.audit.config import load_audit_config
from tests.core.audit.conftest import Traffic, checks_found, only

Audit = Callable[..., Any]

ITEMS = [{"sku": "MUG-11", "name": "Mug", "variant": "black", "price": 12.5, "quantity": 2}]


def mid() -> str:
    return str(uuid.uuid4())


def clean_checkout(traffic: Traffic) -> None:
    """A shopper done right: one userId everywhere, email and consent before the cart."""
    traffic.web("page", anonymousId="anon-clean", name="Home")
    traffic.web("identify", anonymousId="anon-clean", userId="81001",
                traits={"email": "ada@shop.test", "marketing_opt_in": True, "first_name": "Ada"})
    traffic.web("track", anonymousId="anon-clean", userId="81001", event="Added to Cart",
                properties={"cart_id": "c-1", "items": ITEMS})
    traffic.web("track", anonymousId="anon-clean", userId="81001", event="Checkout Started",
                properties={"cart_id": "c-1", "items": ITEMS})
    # With its items: an order confirmation lists them (items.incomplete).
    traffic.backend.track("81001", "Order Completed",
                          {"order_id": "o-1", "total": 25.0, "items": ITEMS}, message_id=mid())
    traffic.backend.identify("81001", {"email": "ada@shop.test", "lifetime_value": 25.0},
                             message_id=mid())


async def test_a_clean_checkout_has_no_findings(audit_traffic: Audit) -> None:
    result = await audit_traffic(clean_checkout)
    assert result.findings == []
    assert len(result.auditor.graph) == 1


async def test_one_shopper_with_three_user_ids_is_one_person_and_an_error(
    audit_traffic: Audit,
) -> None:
    ids: dict[str, str] = {}

    def fragmented(traffic: Traffic) -> None:
        ids["web"] = traffic.web("identify", anonymousId="anon-1", userId="jane@shop.test",
                                 traits={"email": "jane@shop.test"})
        ids["backend"] = mid()
        traffic.backend.identify("8412", {"email": "Jane@Shop.test"}, message_id=ids["backend"])
        ids["ios"] = traffic.ios("identify", userId="5f0c7a8e-2b1d-4c3e-9f6a-0a1b2c3d4e5f",
                                 anonymousId="device-anon", traits={"email": "jane@shop.test"})

    result = await audit_traffic(fragmented)
    assert len(result.auditor.graph) == 1
    [finding] = only(result, "identity.multiple_user_ids")
    assert finding.severity is FindingSeverity.ERROR
    assert finding.message_ids == (ids["web"], ids["backend"], ids["ios"])
    assert finding.person == "user:jane@shop.test"
    for text in ('web sends "jane@shop.test" (an email)', 'backend sends "8412" (a number)',
                 'ios sends "5f0c7a8e-2b1d-4c3e-9f6a-0a1b2c3d4e5f" (a UUID)',
                 "Customer.io will create 3 people"):
        assert text in finding.message
    [shape] = only(result, "identity.user_id_shape")
    assert shape.severity is FindingSeverity.WARNING
    assert "backend sends a number; ios sends a UUID; web sends an email" in shape.message
    [email_id] = only(result, "identity.email_as_user_id")
    assert email_id.message_ids == (ids["web"],)
    assert 'userId "jane@shop.test" from web is an email' in email_id.message


async def test_user_id_shapes_differ_between_unlinked_sources(audit_traffic: Audit) -> None:
    def unlinked(traffic: Traffic) -> None:
        traffic.web("identify", anonymousId="a-1", userId="u_ada",
                    traits={"email": "ada@shop.test", "marketing_opt_in": True})
        traffic.backend.identify("1234", {"email": "bob@shop.test", "marketing_opt_in": False},
                                 message_id=mid())

    result = await audit_traffic(unlinked)
    assert len(result.auditor.graph) == 2
    assert checks_found(result) == {"identity.user_id_shape"}
    [finding] = only(result, "identity.user_id_shape")
    assert "backend sends a number; web sends another format" in finding.message


async def test_a_ghost_cart_is_reported_once(audit_traffic: Audit) -> None:
    ids: list[str] = []

    def ghost(traffic: Traffic) -> None:
        traffic.web("page", anonymousId="ghost-1", name="Product")
        ids.append(traffic.web("track", anonymousId="ghost-1", event="Added to Cart",
                               properties={"cart_id": "c-9", "items": ITEMS}))
        ids.append(traffic.web("track", anonymousId="ghost-1", event="Checkout Started",
                               properties={"cart_id": "c-9", "items": ITEMS}))

    result = await audit_traffic(ghost)
    # The bundled segment "Added to Cart in the last day and email is blank" holds it too.
    assert checks_found(result) == {"identity.anonymous_intent",
                                    "segment.added_to_cart_in_the_last_day_and_email_is_blank"}
    [finding] = only(result, "identity.anonymous_intent")
    assert finding.severity is FindingSeverity.ERROR
    assert finding.message_ids == tuple(ids)
    assert finding.message.startswith(
        'Ghost cart: anonymousId "ghost-1" sent 2 intent events '
        "(Added to Cart and Checkout Started)")


async def test_an_alias_merges_an_anonymous_cart(audit_traffic: Audit) -> None:
    def merged(traffic: Traffic) -> None:
        traffic.web("track", anonymousId="anon-7", event="Added to Cart",
                    properties={"cart_id": "c-7", "items": ITEMS})
        traffic.backend.alias("anon-7", "81007", message_id=mid())
        traffic.backend.identify("81007", {"email": "cy@shop.test", "marketing_opt_in": True},
                                 message_id=mid())

    result = await audit_traffic(merged)
    assert len(result.auditor.graph) == 1
    # Linked, so no ghost cart; but the cart came before the email was known.
    assert checks_found(result) == {"email.intent_without_email"}
    [finding] = result.findings
    assert finding.message.startswith("1 of 1 intent event from cy@shop.test (Added to Cart)")


async def test_one_anonymous_id_identified_as_two_users(audit_traffic: Audit) -> None:
    ids: list[str] = []

    def switched(traffic: Traffic) -> None:
        for user, email in (("81010", "dan@shop.test"), ("81011", "eve@shop.test")):
            ids.append(traffic.web("identify", anonymousId="shared-laptop", userId=user,
                                   traits={"email": email, "marketing_opt_in": True}))

    result = await audit_traffic(switched)
    [finding] = only(result, "identity.user_id_changed")
    assert finding.severity is FindingSeverity.WARNING
    assert finding.message_ids == tuple(ids)
    assert 'anonymousId "shared-laptop" was identified as "81010" and "81011"' in finding.message
    # Linked through the shared anonymousId, so also one person with two userIds.
    assert only(result, "identity.multiple_user_ids")


async def test_a_new_anonymous_id_on_every_page_is_churn(audit_traffic: Audit) -> None:
    def churn(traffic: Traffic) -> None:
        traffic.web("identify", anonymousId="a-0", userId="81020",
                    traits={"email": "fay@shop.test", "marketing_opt_in": True})
        for page in range(4):
            traffic.web("page", anonymousId=f"a-{page + 1}", userId="81020", name=f"P{page}")

    result = await audit_traffic(churn)
    [finding] = only(result, "identity.anonymous_id_churn")
    assert finding.severity is FindingSeverity.WARNING
    assert finding.message.startswith('userId "81020" had 5 anonymousIds over 5 calls')
    assert len(finding.event_ids) == 5


async def test_a_device_with_a_new_anonymous_id_every_launch_is_churn(
    audit_traffic: Audit,
) -> None:
    def churn(traffic: Traffic) -> None:
        for launch in range(3):
            traffic.ios("track", anonymousId=f"launch-{launch}", event="Application Opened",
                        context={"device": {"id": "ipad-1"}})

    result = await audit_traffic(churn)
    [finding] = only(result, "identity.anonymous_id_churn")
    assert finding.message.startswith('device "ipad-1" had 3 anonymousIds')


async def test_intent_before_the_email_is_known(audit_traffic: Audit) -> None:
    ids: list[str] = []

    def late(traffic: Traffic) -> None:
        traffic.web("identify", anonymousId="a-30", userId="81030",
                    traits={"first_name": "Gus"})
        ids.append(traffic.web("track", anonymousId="a-30", userId="81030",
                               event="Added to Cart",
                               properties={"cart_id": "c-30", "items": ITEMS}))
        traffic.web("identify", anonymousId="a-30", userId="81030",
                    traits={"email": "gus@shop.test", "marketing_opt_in": True})
        traffic.web("track", anonymousId="a-30", userId="81030", event="Added to Cart",
                    properties={"cart_id": "c-30", "items": ITEMS})

    result = await audit_traffic(late)
    assert checks_found(result) == {"email.intent_without_email"}
    [finding] = result.findings
    assert finding.severity is FindingSeverity.ERROR
    assert finding.message_ids == tuple(ids)
    assert finding.message.startswith("1 of 2 intent events from gus@shop.test")
    assert "their email was only sent later" in finding.message


async def test_email_captured_only_after_checkout(audit_traffic: Audit) -> None:
    ids: list[str] = []

    def late(traffic: Traffic) -> None:
        ids.append(traffic.web("track", anonymousId="a-40", userId="81040",
                               event="Checkout Started", properties={"cart_id": "c-40"}))
        ids.append(traffic.web("identify", anonymousId="a-40", userId="81040",
                               traits={"email": "hal@shop.test", "marketing_opt_in": True}))

    result = await audit_traffic(late)
    [finding] = only(result, "email.captured_late")
    assert finding.severity is FindingSeverity.WARNING
    assert finding.message_ids == tuple(ids)
    assert "became known only after Checkout Started" in finding.message


async def test_a_quiz_tool_writing_critical_traits_is_unauthorised(audit_traffic: Audit) -> None:
    ids: list[str] = []

    def quiz(traffic: Traffic) -> None:
        traffic.backend.identify("81050", {"email": "ivy@shop.test", "vip_tier": "gold",
                                           "marketing_opt_in": True}, message_id=mid())
        ids.append(traffic.quiz("identify", userId="81050", traits={"vip_tier": "quiz-winner"}))

    result = await audit_traffic(quiz)
    [finding] = only(result, "traits.unauthorized_writer")
    assert finding.severity is FindingSeverity.ERROR
    assert finding.message_ids == tuple(ids)
    assert finding.message.startswith(
        "quiz tool wrote the critical trait vip_tier on 1 identify call, but only server, "
        "browser and mobile may write it")
    [overwritten] = only(result, "traits.overwritten")
    assert overwritten.severity is FindingSeverity.WARNING
    assert '"gold" by backend' in overwritten.message
    assert '"quiz-winner" by quiz tool' in overwritten.message
    assert overwritten.message.endswith('Customer.io holds "quiz-winner" from quiz tool.')
    assert [step["source"] for step in overwritten.data["timeline"]] == ["backend", "quiz tool"]


async def test_allowed_writers_from_the_audit_file(audit_traffic: Audit, tmp_path: Path) -> None:
    config_file = tmp_path / "audit.yaml"
    config_file.write_text("critical_traits:\n  email:\n    allowed_writers: [backend]\n")
    config = load_audit_config(config_file)

    def browser_writes_email(traffic: Traffic) -> None:
        traffic.web("identify", anonymousId="a-60", userId="81060",
                    traits={"email": "jo@shop.test", "marketing_opt_in": True})

    result = await audit_traffic(browser_writes_email, config)
    [finding] = only(result, "traits.unauthorized_writer")
    assert "web wrote the critical trait email" in finding.message
    assert "only backend may write it" in finding.message


async def test_placeholder_values(audit_traffic: Audit) -> None:
    def placeholders(traffic: Traffic) -> None:
        traffic.web("identify", anonymousId="a-70", userId="81070",
                    traits={"email": "test@test.com", "first_name": "N/A", "phone": "",
                            "marketing_opt_in": True})
        traffic.web("identify", anonymousId="a-71", userId="81071",
                    traits={"email": "test@test.com", "marketing_opt_in": False})

    result = await audit_traffic(placeholders)
    findings = only(result, "traits.placeholder_value")
    assert {f.data["field"]: (f.data["value"], f.data["calls"]) for f in findings} == {
        "traits.email": ("test@test.com", 2),
        "traits.first_name": ("N/A", 1),
        "traits.phone": ("", 1),
    }
    assert all(f.severity is FindingSeverity.ERROR for f in findings)
    # A placeholder email links nobody: two testers typing it are not one shopper.
    assert len(result.auditor.graph) == 2


async def test_a_trait_sent_with_two_types(audit_traffic: Audit) -> None:
    def types(traffic: Traffic) -> None:
        traffic.backend.identify("81080", {"email": "kim@shop.test", "marketing_opt_in": "true"},
                                 message_id=mid())
        traffic.backend.identify("81080", {"marketing_opt_in": True}, message_id=mid())

    result = await audit_traffic(types)
    [finding] = only(result, "traits.type_changed")
    assert finding.severity is FindingSeverity.WARNING
    assert finding.message.startswith(
        "Trait marketing_opt_in is sent as string in 50% and boolean in 50% of 2 identify calls")


async def test_consent_missing(audit_traffic: Audit) -> None:
    def no_consent(traffic: Traffic) -> None:
        traffic.backend.identify("81090", {"email": "lu@shop.test"}, message_id=mid())

    result = await audit_traffic(no_consent)
    assert checks_found(result) == {"consent.missing"}
    [finding] = result.findings
    assert finding.severity is FindingSeverity.WARNING
    assert "lu@shop.test has an email but no explicit marketing_opt_in" in finding.message


async def test_a_check_turned_off_or_downgraded(audit_traffic: Audit) -> None:
    config = AuditConfig.model_validate({
        "checks": {"consent.missing": {"enabled": False},
                   "identity.anonymous_intent": {"severity": "info"}}})

    def both(traffic: Traffic) -> None:
        traffic.backend.identify("81100", {"email": "mo@shop.test"}, message_id=mid())
        traffic.web("track", anonymousId="ghost-2", event="Added to Cart",
                    properties={"cart_id": "c-2", "items": ITEMS})

    result = await audit_traffic(both, config)
    assert [(f.check, f.severity) for f in result.findings] == [
        ("segment.added_to_cart_in_the_last_day_and_email_is_blank", FindingSeverity.WARNING),
        ("identity.anonymous_intent", FindingSeverity.INFO)]
