"""Ingestion checks in the Tracking API's own words."""

from __future__ import annotations

from typing import Any

import pytest

from inspector.core.verdict.checks import ingestion_violations


def kinds(payload: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(v.kind, v.field, v.message) for v in ingestion_violations(payload)]


def test_valid_calls_have_no_ingestion_violations() -> None:
    assert kinds({"type": "track", "event": "X", "userId": "u"}) == []
    assert kinds({"type": "identify", "anonymousId": "a", "traits": {}}) == []
    assert kinds({"type": "alias", "previousId": "a", "userId": "u"}) == []
    assert kinds({"type": "group", "userId": "u", "groupId": "g"}) == []


def test_missing_identity() -> None:
    assert kinds({"type": "page", "name": "Home"}) == [
        ("Missing userId or anonymousId", "userId", "Missing userId or anonymousId")
    ]
    assert kinds({"type": "identify", "userId": "", "anonymousId": None})[0][0] == (
        "Missing userId or anonymousId"
    )


def test_track_without_event_and_with_a_non_string_event() -> None:
    assert kinds({"type": "track", "userId": "u"}) == [
        ("Missing event key for track call", "event", "Missing event key for track call")
    ]
    assert kinds({"type": "track", "userId": "u", "event": 5}) == [
        ("Invalid Field Type", "event", "Event must be a string")
    ]


def test_group_and_alias_required_ids() -> None:
    assert kinds({"type": "group", "userId": "u"}) == [
        ("Missing Required Field", "groupId", "groupId is required for group calls")
    ]
    assert [k[1] for k in kinds({"type": "alias"})] == ["previousId", "userId"]


@pytest.mark.parametrize("call_type", [None, "Track", "purchase"])
def test_unknown_types(call_type: str | None) -> None:
    found = kinds({"type": call_type, "userId": "u"} if call_type else {"userId": "u"})
    assert found[0][0] == "Unknown Call Type"


def test_wrong_container_types() -> None:
    found = kinds({"type": "track", "event": "X", "userId": "u", "properties": [1],
                   "context": "web"})
    assert ("Invalid Field Type", "properties",
            "properties must be an object, given: array") in found
    assert ("Invalid Field Type", "context", "context must be an object, given: string") in found


def test_message_id_length_and_type() -> None:
    assert kinds({"type": "track", "event": "X", "userId": "u", "messageId": "m" * 100}) == []
    found = kinds({"type": "track", "event": "X", "userId": "u", "messageId": "m" * 101})
    assert found == [("messageId Too Long", "messageId",
                      "messageId is 101 characters; Segment requires fewer than 100")]
    assert kinds({"type": "track", "event": "X", "userId": "u", "messageId": 7})[0][0] == (
        "Invalid Field Type"
    )
