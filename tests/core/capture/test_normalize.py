"""Segment's server-side normalisation: envelopes, null ids and the clock-skew rule."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from inspector.core.capture.decode import RequestError
from inspector.core.capture.normalize import split_request
from inspector.core.model import ViolationKind
from inspector.core.verdict.normalize import normalise_call

RECEIVED = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)
RECEIVED_ISO = "2026-11-29T12:00:00.000Z"


def test_single_route_sets_type_from_the_path() -> None:
    items, envelope = split_request("track", {"type": "identify", "event": "X"})
    assert items == [{"type": "track", "event": "X"}]
    assert envelope == {}


def test_batch_envelope_is_split_and_shared() -> None:
    body = {"batch": [{"type": "track"}], "sentAt": "s", "writeKey": "k",
            "context": {"ip": "1.2.3.4"}}
    items, envelope = split_request(None, body)
    assert items == [{"type": "track"}]
    assert envelope == {"sentAt": "s", "writeKey": "k", "context": {"ip": "1.2.3.4"}}


@pytest.mark.parametrize(
    ("route", "body", "message"),
    [
        (None, [1, 2], "Expected a JSON object, got list"),
        ("track", "text", "Expected a JSON object, got str"),
        (None, {"events": []}, 'needs a "batch" array'),
        (None, {"batch": {}}, 'needs a "batch" array of calls, got dict'),
    ],
)
def test_requests_that_are_json_but_not_segment(route: str | None, body: object,
                                                message: str) -> None:
    with pytest.raises(RequestError, match=message):
        split_request(route, body)


def test_envelope_context_merges_under_the_items_own() -> None:
    envelope = {"context": {"ip": "1.2.3.4", "library": {"name": "outer"}},
                "integrations": {"All": True}}
    item = {"type": "track", "context": {"library": {"name": "inner"}}}
    payload = normalise_call(item, envelope, RECEIVED, RECEIVED_ISO).payload
    assert payload["context"] == {"ip": "1.2.3.4", "library": {"name": "inner"}}
    assert payload["integrations"] == {"All": True}


def test_null_ids_count_as_absent() -> None:
    item = {"type": "page", "userId": None, "anonymousId": "a", "name": None, "category": None}
    payload = normalise_call(item, {}, RECEIVED, RECEIVED_ISO).payload
    assert "userId" not in payload
    assert "name" not in payload
    assert "category" not in payload
    assert payload["anonymousId"] == "a"


def test_clock_skew_rule_with_offsets() -> None:
    # The device clock is 10 minutes fast (+02:00 local offset, as analytics-python sends).
    item = {"type": "track", "timestamp": "2026-11-29T14:09:00.000+02:00"}
    envelope = {"sentAt": "2026-11-29T14:10:00.000000+02:00"}
    payload = normalise_call(item, envelope, RECEIVED, RECEIVED_ISO).payload
    assert payload["originalTimestamp"] == "2026-11-29T14:09:00.000+02:00"
    assert payload["sentAt"] == "2026-11-29T14:10:00.000000+02:00"
    assert payload["receivedAt"] == RECEIVED_ISO
    # receivedAt - (sentAt - originalTimestamp) = 12:00 - 1 minute
    assert payload["timestamp"] == "2026-11-29T11:59:00.000Z"


def test_timestamp_without_sent_at_is_kept_and_missing_one_is_received_at() -> None:
    with_ts = normalise_call({"type": "track", "timestamp": "2026-01-01T00:00:00Z"}, {},
                             RECEIVED, RECEIVED_ISO).payload
    assert with_ts["timestamp"] == "2026-01-01T00:00:00.000Z"
    without = normalise_call({"type": "track"}, {}, RECEIVED, RECEIVED_ISO).payload
    assert without["timestamp"] == RECEIVED_ISO
    assert "originalTimestamp" not in without


def test_unreadable_timestamp_is_a_warning_and_falls_back() -> None:
    call = normalise_call({"type": "track", "timestamp": "yesterday"}, {}, RECEIVED, RECEIVED_ISO)
    assert call.payload["timestamp"] == RECEIVED_ISO
    assert [(w.kind, w.field, str(w.severity)) for w in call.warnings] == [
        (ViolationKind.INVALID_FORMAT, "timestamp", "warning")
    ]


def test_write_key_fields_do_not_leak_into_the_event() -> None:
    payload = normalise_call({"type": "track", "writeKey": "k", "secret": "s"}, {},
                             RECEIVED, RECEIVED_ISO).payload
    assert "writeKey" not in payload
    assert "secret" not in payload


def test_a_shared_unreadable_sent_at_warns_on_every_call() -> None:
    # normalise_call() caches parsed sentAt values per request; an unparsable one is cached too.
    parsed_sent: dict[str, datetime | None] = {}
    calls = [
        normalise_call({"type": "track", "timestamp": "2026-11-29T11:59:00Z"},
                       {"sentAt": "soon"}, RECEIVED, RECEIVED_ISO, parsed_sent)
        for _ in range(2)
    ]
    for call in calls:
        assert [(w.field, str(w.severity)) for w in call.warnings] == [("sentAt", "warning")]
        assert call.payload["timestamp"] == "2026-11-29T11:59:00.000Z"
    assert parsed_sent == {"soon": None}
