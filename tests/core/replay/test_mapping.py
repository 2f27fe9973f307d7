"""Mappings (Classic v1, Actions v2, Pipelines), batching limits and stable ids."""

from __future__ import annotations

from typing import Any

import orjson

from inspector.core.replay import (
    Destination,
    Dropped,
    Mode,
    PlannedRequest,
    Rejected,
    ReplayItem,
    mapper_for,
    preview_requests,
    stable_event_id,
)
from inspector.core.replay.ids import is_ulid
from inspector.core.replay.mapping.classic import ClassicMapper
from tests.support.events import make_event


def _plan(mode: Mode, *events: dict[str, Any], **fields: Any) -> list[Any]:
    destination = Destination(name="d", mode=mode, **fields)
    return mapper_for(destination).plan(
        [ReplayItem(seq, seq + 1, event) for seq, event in enumerate(events)]
    )


def test_stable_ids_are_ulid_shaped_and_depend_only_on_the_message_id() -> None:
    a = make_event(index=1)
    edited = dict(a, event="Renamed", timestamp="2020-01-01T00:00:00Z")
    assert is_ulid(stable_event_id(a))
    assert stable_event_id(a) == stable_event_id(edited)
    assert stable_event_id(a) != stable_event_id(make_event(index=2))
    ulid = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    assert stable_event_id(make_event(messageId=ulid.lower())) == ulid


def test_classic_identify_converts_created_at_and_iso_traits() -> None:
    event = make_event("identify", userId="u 1", anonymousId="anon",
                       traits={"createdAt": "2024-01-02T03:04:05Z", "email": "a@b.co",
                               "birthday": "1990-05-01", "plan": "pro"})
    (planned,) = _plan(Mode.CLASSIC, event)
    assert planned.request.method == "PUT"
    assert planned.request.url == "https://track.customer.io/api/v1/customers/u%201"
    assert planned.request.body == {"email": "a@b.co", "birthday": 641520000, "plan": "pro",
                                    "created_at": 1704164645, "anonymous_id": "anon"}
    (kept,) = _plan(Mode.CLASSIC, event, convert_to_unix_time=False)
    assert kept.request.body["birthday"] == "1990-05-01"
    assert kept.request.body["created_at"] == 1704164645  # always seconds


def test_classic_page_screen_and_anonymous_rules() -> None:
    page_by_url = make_event("page", userId="u", name=None,
                             properties={"url": "https://x.io/a"})
    screen = make_event("screen", userId="u", name=None)
    anonymous = make_event("track", anonymousId="anon")
    page, scr, drop = _plan(Mode.CLASSIC, page_by_url, screen, anonymous)
    assert page.request.body["name"] == "https://x.io/a"
    assert page.request.body["type"] == "page"
    assert scr.request.body["name"] == "Viewed Undefined Screen"
    assert isinstance(drop, Dropped)
    assert "Classic would drop this" in drop.reason
    (sent,) = _plan(Mode.CLASSIC, anonymous, send_anonymous=True, region="eu")
    assert sent.request.url == "https://track-eu.customer.io/api/v1/events"
    assert sent.request.body["anonymous_id"] == "anon"


def test_classic_rejects_oversized_event_data() -> None:
    big = make_event("track", userId="u", properties={"blob": "x" * 100_001})
    (rejected,) = ClassicMapper(Destination(name="d")).plan([ReplayItem(0, 1, big)])
    assert isinstance(rejected, Rejected)


def test_actions_identify_follows_segment_create_update_person() -> None:
    event = make_event("identify", userId="abc123", anonymousId="unknown_123",
                       timestamp="2024-01-02T03:04:05Z",
                       traits={"email": "a@b.co", "createdAt": "2024-01-01T00:00:00Z",
                               "person": {"birthdate": "1990-05-01T00:00:00Z"}, "tags": ["x"]})
    (planned,) = _plan(Mode.ACTIONS, event)
    assert planned.request.url == "https://track.customer.io/api/v2/batch"
    (operation,) = planned.request.body["batch"]
    assert operation == {
        "type": "person", "action": "identify", "identifiers": {"id": "abc123"},
        "timestamp": 1704164645,
        "attributes": {"email": "a@b.co", "person": {"birthdate": 641520000}, "tags": ["x"],
                       "created_at": 1704067200, "anonymous_id": "unknown_123"},
    }


def test_actions_events_identifiers_and_merge() -> None:
    track = make_event("track", index=1, userId="cio_42", event="Bought",
                       properties={"when": "2024-01-01"})
    anon = make_event("track", index=2, anonymousId="an", event="Looked")
    page = make_event("page", index=3, userId="x@y.co", properties={"url": "https://p"})
    alias = make_event("alias", index=4, userId="new", previousId="old@y.co")
    deleted = make_event("track", index=5, userId="gone", event="User Deleted")
    (planned,) = _plan(Mode.ACTIONS, track, anon, page, alias, deleted)
    ops = planned.request.body["batch"]
    assert ops[0]["identifiers"] == {"cio_id": "42"}
    assert ops[0]["id"] == stable_event_id(track)
    assert ops[0]["attributes"] == {"when": 1704067200}
    assert ops[1]["identifiers"] == {"anonymous_id": "an"}
    assert "anonymous_id" not in ops[1]["attributes"]
    assert (ops[2]["action"], ops[2]["name"], ops[2]["identifiers"]) == (
        "page", "https://p", {"email": "x@y.co"})
    assert ops[3] == {"type": "person", "action": "merge", "primary": {"id": "new"},
                      "secondary": {"email": "old@y.co"}}
    assert ops[4] == {"type": "person", "action": "delete", "identifiers": {"id": "gone"}}
    assert planned.seqs == (0, 1, 2, 3, 4)


def test_batches_respect_count_size_and_operation_limits() -> None:
    events = [make_event("track", index=i, userId=f"u{i}", properties={"pad": "x" * 20_000})
              for i in range(60)]
    events.insert(5, make_event("track", index=99, userId="big",
                                properties={"blob": "y" * 40_000}))
    plan = _plan(Mode.ACTIONS, *events, batch_size=100)
    requests = [entry for entry in plan if isinstance(entry, PlannedRequest)]
    rejected = [entry for entry in plan if isinstance(entry, Rejected)]
    assert [r.seq for r in rejected] == [5]
    assert all(len(orjson.dumps(r.request.body)) <= 500_000 for r in requests)
    assert len(requests) == 3
    # Order is preserved across batches.
    assert [seq for r in requests for seq in r.seqs] == [s for s in range(61) if s != 5]
    small = _plan(Mode.ACTIONS, *events[:12], batch_size=5)
    assert [len(r.seqs) for r in small if isinstance(r, PlannedRequest)] == [5, 5, 1]


def test_pipelines_keeps_segment_payloads_and_strict_mode() -> None:
    event = make_event("track", userId="u", event="E")
    (planned,) = _plan(Mode.PIPELINES, event, region="eu")
    assert planned.request.url == "https://cdp-eu.customer.io/v1/batch"
    assert planned.request.headers["X-Strict-Mode"] == "1"
    (call,) = planned.request.body["batch"]
    assert call["messageId"] == event["messageId"]
    assert call["timestamp"] == event["timestamp"]
    assert "receivedAt" not in call


def test_preview_redacts_the_authorization_header() -> None:
    destination = Destination(name="d")
    (planned,) = preview_requests(destination, [ReplayItem(0, 1, make_event(userId="u"))])
    shown = planned.request.preview()
    assert shown["headers"]["Authorization"] == "Basic <redacted>"
    assert shown["method"] == "POST"
