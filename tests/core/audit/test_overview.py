"""The Audit panel's overview in the core: per check counts, sparklines over arrival time,
the first findings; and the REST routes the window asks its capture child."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from inspector.core.audit import Auditor
from inspector.core.audit.overview import Arrivals, audit_overview, event_ids_of, mark_people
from inspector.core.capture import CaptureService
from inspector.core.observed import ObservedEvent
from tests.core.audit.test_customerio_holdings import fragmented_shopper

Audit = Callable[..., Any]


def test_sparkline_buckets_by_arrival_time_not_by_count() -> None:
    arrivals = Arrivals()
    # 10 calls in the first second, one at 99 s: a burst, then quiet.
    arrivals.add(range(1, 11), [1000.0 + n / 10 for n in range(10)])
    arrivals.add([50], [1099.0])
    assert arrivals.sparkline([1, 5, 10, 50], buckets=4) == [3, 0, 0, 1]
    assert arrivals.sparkline([7, 999], buckets=4) == [1, 0, 0, 0]  # 999: not audited here
    assert Arrivals().sparkline([1], buckets=3) == [0, 0, 0]
    one = Arrivals()
    one.add([3], [5.0])
    assert one.sparkline([3], buckets=2) == [1, 0]


def _ghosts(count: int) -> Auditor:
    auditor = Auditor()
    auditor.feed(
        ObservedEvent.build(
            id=number, received_at=1_800_000_000.0 + number, write_key="k", type="track",
            name="Added to Cart", user_id=None, anonymous_id=f"ghost-{number}",
            message_id=f"m-{number}", payload={}, write_key_names={},
        )
        for number in range(1, count + 1))
    return auditor


def test_overview_counts_lists_the_first_and_sums_areas() -> None:
    auditor = _ghosts(25)
    arrivals = Arrivals()
    arrivals.add(range(1, 26), [1_800_000_000.0 + n for n in range(1, 26)])
    findings = auditor.findings()
    overview = audit_overview(auditor.checks, findings, arrivals=arrivals, per_check=10,
                              buckets=5)
    checks = {row["id"]: row for row in overview["checks"]}
    ghost = checks["identity.anonymous_intent"]
    assert ghost["counts"] == {"error": 25, "warning": 0, "info": 0}
    assert ghost["worst"] == "error"
    assert (ghost["findings"], ghost["events"], ghost["more"]) == (25, 25, 15)
    assert [row["event_ids"] for row in ghost["shown"]] == [[n] for n in range(1, 11)]
    assert ghost["sparkline"] == [5, 5, 5, 5, 5]
    assert checks["identity.multiple_user_ids"]["worst"] is None
    identity = next(area for area in overview["areas"] if area["area"] == "identity")
    assert identity["findings"] == sum(checks[c]["findings"] for c in identity["checks"])
    assert sum(identity["sparkline"]) == sum(
        sum(checks[c]["sparkline"]) for c in identity["checks"])
    assert overview["counts"]["error"] == sum(1 for f in findings if f.severity == "error")
    assert event_ids_of(findings, ["identity.anonymous_intent"], skip=20) == [21, 22, 23, 24,
                                                                             25]


def test_people_are_marked_with_their_findings() -> None:
    auditor = _ghosts(2)
    people = mark_people([person.to_dict() for person in auditor.people()],
                         auditor.findings(), per_person=1)
    assert [person["worst"] for person in people] == ["error", "error"]
    assert all(person["findings_count"] >= 1 and len(person["findings"]) == 1
               for person in people)


async def get(capture: CaptureService, path: str, **params: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=capture.base_url + "/inspector/api") as client:
        return await client.get(path, params=params)


async def test_the_overview_route_is_what_the_window_shows(
    audit_traffic: Audit, capture: CaptureService,
) -> None:
    await audit_traffic(fragmented_shopper)
    answer = (await get(capture, "/audit/overview", per_check="1", people="1")).json()
    checks = {row["id"]: row for row in answer["checks"]}
    ghost = checks["identity.anonymous_intent"]
    assert ghost["findings"] == 1
    assert len(ghost["shown"]) == 1
    assert sum(ghost["sparkline"]) == ghost["events"] >= 1
    assert answer["people_total"] == 2
    assert len(answer["people"]) == 1  # the most recently active: the ghost
    assert answer["people"][0]["id"] == "anon:ghost"
    assert answer["people"][0]["worst"] == "error"
    assert answer["through_event_id"] == capture.store.session_last_event_id(
        capture.session.id)
    assert "kept" not in answer
    kept = (await get(capture, "/audit/overview", keep="true", people="0")).json()
    assert kept["kept"] is True
    assert kept["people"] == []

    events = (await get(capture, "/audit/events", check="identity.anonymous_intent")).json()
    assert events["event_ids"] == ghost["shown"][0]["event_ids"]
    one = events["event_ids"][0]
    naming = (await get(capture, "/audit", event_id=str(one))).json()["findings"]
    assert naming
    assert all(one in finding["event_ids"] for finding in naming)
    assert "identity.anonymous_intent" in {finding["check"] for finding in naming}


@pytest.mark.parametrize(("path", "params", "message"), [
    ("/audit/overview", {"per_check": "-1"}, "per_check must be a whole number from 0"),
    ("/audit/overview", {"people": "lots"}, "people must be a whole number from 0"),
    ("/audit/overview", {"keep": "yes"}, "keep must be true or false"),
    ("/audit/overview", {"check": "x"}, "unknown parameter check; valid: session"),
    ("/audit/events", {}, "give check"),
    ("/audit/events", {"check": "identity.nope"}, "unknown check identity.nope"),
    ("/audit", {"event_id": "x"}, "event_id must be a whole number"),
])
async def test_the_window_routes_refuse_bad_queries(
    capture: CaptureService, path: str, params: dict[str, str], message: str,
) -> None:
    response = await get(capture, path, **params)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_query"
    assert response.json()["message"].startswith(message)


async def test_an_unknown_session_is_a_404(capture: CaptureService) -> None:
    response = await get(capture, "/audit/overview", session="nope")
    assert response.status_code == 404


async def test_an_audit_segments_events_are_asked_by_its_id(
    audit_traffic: Audit, capture: CaptureService,
) -> None:
    """Segment checks come from the audit file, not the built-in list: their ids are valid
    wherever a check is named (the window asks a segment's events by its id)."""
    segment = "segment.order_completed_missing_order_id_or_total"

    def order(traffic: Any) -> None:
        traffic.backend.track("8412", "Order Completed", {"total": 25.0})  # no order_id

    await audit_traffic(order)
    answer = (await get(capture, "/audit/events", check=segment)).json()
    assert len(answer["event_ids"]) == 1
    found = (await get(capture, "/audit", check=segment)).json()["findings"]
    assert [finding["event_ids"] for finding in found] == [answer["event_ids"]]
