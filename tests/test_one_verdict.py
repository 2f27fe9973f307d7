"""One verdict everywhere: the same calls get the same status and violations through every entry
point (capture over HTTP, re-validation, ``inspector validate``, import, the window's editor)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from inspector.cli import main
from inspector.core.capture import CaptureConfig, CaptureService
from inspector.core.exchange import import_file
from inspector.core.model import Violation
from inspector.core.plan import PlanValidator, load_plan_file
from inspector.core.store import EventQuery, EventStore
from inspector.core.verdict.revalidate import revalidate_session
from inspector.gui.plans import validate_payload

PLAN = {"rules": [
    {"type": "COMMON", "version": 1, "jsonSchema": {
        "type": "object", "properties": {"userId": {"type": "string"}}}},
    {"type": "TRACK", "key": "Order Completed", "version": 1, "jsonSchema": {
        "properties": {"properties": {
            "type": "object",
            "properties": {"order_id": {"type": "string"}, "total": {"type": "number"}},
            "required": ["order_id", "total"]}}}},
    {"type": "IDENTIFY", "version": 1, "jsonSchema": {
        "properties": {"traits": {
            "type": "object", "properties": {"email": {"type": "string"}}}}}},
]}

ORDER = {"order_id": "o-1", "total": 30.0}


def _track(message_id: str, **fields: Any) -> dict[str, Any]:
    call: dict[str, Any] = {"type": "track", "event": "Order Completed", "userId": "u-1",
                            "messageId": message_id, "properties": ORDER,
                            "timestamp": "2026-11-29T10:00:00.000Z"}
    call.update(fields)
    return call


#: messageId -> (the call, the status every entry point must give it).
CALLS: dict[str, tuple[dict[str, Any], str]] = {
    "valid": (_track("valid"), "valid"),
    "invalid": (_track("invalid", properties={"order_id": "o-2", "total": "30"}), "invalid"),
    "unplanned": (_track("unplanned", event="Completed Order"), "unplanned"),
    "unplanned-property": (_track("unplanned-property", properties={**ORDER, "coupon": "X"}),
                           "valid"),
    "no-identity": (_track("no-identity", userId=None), "malformed"),
    # Segment drops a null userId before validating: the COMMON rule's string type then holds.
    "null-user-id": (_track("null-user-id", userId=None, anonymousId="a-1"), "valid"),
    "bad-timestamp": (_track("bad-timestamp", timestamp="yesterday"), "valid"),
    "properties-not-object": (_track("properties-not-object", properties="oops"), "malformed"),
    "identify": ({"type": "identify", "userId": "u-1", "messageId": "identify",
                  "traits": {"email": 5}}, "invalid"),
    "page": ({"type": "page", "name": "Home", "anonymousId": "a-1", "messageId": "page"},
             "valid"),
}

Outcome = tuple[str, list[tuple[str, str, str, str, str]]]


def _outcome(status: str, violations: list[dict[str, Any]] | list[Violation]) -> Outcome:
    rows = [v.to_dict() if isinstance(v, Violation) else v for v in violations]
    return status, [(v["kind"], v["field"], v["message"], v["severity"], v["source"])
                    for v in rows]


def _stored(store: EventStore, session_id: int) -> dict[str, Outcome]:
    events = store.query_events(EventQuery(session_id=session_id, limit=1000)).events
    return {str(e.message_id): _outcome(str(e.status), e.violations) for e in events}


@pytest.fixture
def plan_path(tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(PLAN))
    return path


async def test_every_entry_point_gives_the_same_verdict(
    tmp_path: Path, plan_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db_path = tmp_path / "inspector.db"
    service = CaptureService(CaptureConfig(port=0, db_path=db_path, plan_path=plan_path,
                                           session_name="captured"))
    await service.start()
    try:
        async with httpx.AsyncClient(base_url=service.base_url) as http:
            for call, _ in CALLS.values():
                response = await http.post(f"/v1/{call['type']}", json=call)
                assert response.status_code == 200
        captured_id = service.session.id
    finally:
        await service.stop()

    store = EventStore(db_path)
    captured = _stored(store, captured_id)
    assert {key: status for key, (status, _) in captured.items()} == {
        key: status for key, (_, status) in CALLS.items()}
    # The detail that differs between the layers: each violation names the layer that found it.
    assert captured["bad-timestamp"][1] == [(
        "Invalid Format", "timestamp",
        "Does not match format 'date-time': 'yesterday' is not an ISO-8601 timestamp; "
        "Segment uses receivedAt instead", "warning", "ingestion")]
    assert captured["unplanned-property"][1][0][3:] == ("warning", "plan")
    # Segment rejects it (ingestion), and the plan's schema says why too (plan).
    assert [v[4] for v in captured["properties-not-object"][1]][:1] == ["ingestion"]

    validator = PlanValidator(load_plan_file(plan_path))
    revalidate_session(store, captured_id, validator)
    assert _stored(store, captured_id) == captured

    lines = tmp_path / "calls.ndjson"
    lines.write_text("".join(json.dumps(call) + "\n" for call, _ in CALLS.values()))
    assert main(["validate", "--plan", str(plan_path), str(lines), "--format", "json"]) == 1
    validated = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {row["messageId"]: _outcome(row["status"], row["violations"])
            for row in validated} == captured

    imported = store.create_session("imported")
    import_file(lines, store, imported.id, validator=validator)
    assert _stored(store, imported.id) == captured

    edited = {key: _outcome(*map_status(validate_payload(call, validator)))
              for key, (call, _) in CALLS.items()}
    assert edited == captured
    # The editor judges a stored payload as the call that was sent: the same verdict again.
    stored = store.query_events(EventQuery(session_id=captured_id, limit=1000)).events
    assert {str(e.message_id): _outcome(*map_status(validate_payload(e.payload or {}, validator)))
            for e in stored} == captured
    store.close()


def map_status(verdict: tuple[Any, list[Violation]]) -> tuple[str, list[Violation]]:
    """The editor's (Status, violations) with the status as the string the others print."""
    status, violations = verdict
    return str(status), violations
