"""Re-validation after a plan change, the file watcher, suggestions and the Public API fetch."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import orjson
import pytest

from inspector.core.model import Source, Status, Violation, ViolationKind
from inspector.core.plan import (
    PlanError,
    PlanValidator,
    TrackingPlan,
    compile_plan,
    load_data,
    read_plan,
)
from inspector.core.plan.fetch import fetch_plan, load_token, store_token
from inspector.core.plan.suggest import Suggester
from inspector.core.plan.watch import PlanWatcher
from inspector.core.store import EventStore, GroupCommitWriter, PendingEvent, PendingRequest
from inspector.core.verdict.revalidate import revalidate_session
from tests.core.plan.conftest import FIXTURES, track
from tests.support.keyring import MemoryKeyring


def _store_events(path: Path, payloads: list[dict[str, Any]],
                  validator: PlanValidator | None) -> tuple[EventStore, int]:
    store = EventStore(path)
    session = store.create_session("s1")
    events = []
    for payload in payloads:
        status, violations = (validator.validate(payload) if validator
                              else (Status.NOT_VALIDATED, []))
        if payload.get("userId") is None:
            status = Status.MALFORMED
            violations = [Violation(ViolationKind.MISSING_IDENTIFIER, "userId",
                                    "Missing userId or anonymousId", source=Source.INGESTION),
                          *violations]
        events.append(PendingEvent(
            received_at=1.0, write_key=None, type=payload.get("type"), name=payload.get("event"),
            user_id=payload.get("userId"), anonymous_id=None,
            message_id=payload.get("messageId"), library=None, status=str(status),
            violation_count=len(violations),
            violations_json=orjson.dumps([v.to_dict() for v in violations]).decode(),
            payload_json=orjson.dumps(payload).decode()))
    writer = GroupCommitWriter(path)
    writer.start()
    try:
        writer.write(PendingRequest(session_id=session.id, received_at=1.0, method="POST",
                                    path="/v1/b", query=None, remote_addr=None,
                                    headers_json="{}", body=None, body_size=0, http_status=200,
                                    events=events))
    finally:
        writer.stop()
    return store, session.id


def test_revalidate_session_after_plan_change(tmp_path: Path, validator: PlanValidator) -> None:
    no_currency = {"order_id": "o", "total": 1}
    payloads = [
        track("Order Completed", no_currency, messageId="a"),
        track("Order Completed", {**no_currency, "currency": "EUR"}, messageId="b"),
        track("Checkout Started", {}, messageId="c"),
        {**track("Order Completed", {}, messageId="d"), "userId": None},
    ]
    store, session = _store_events(tmp_path / "db.sqlite", payloads, validator)
    # The new plan: Order Completed v2 only (currency required); Checkout Started planned.
    rules = json.loads((FIXTURES / "public-api-raw.json").read_text())["rules"]
    rules = [r for r in rules if not (r["key"] == "Order Completed" and r["version"] == 1)]
    rules.append({"type": "TRACK", "key": "Checkout Started", "version": 1, "jsonSchema": {}})
    report = revalidate_session(store, session, PlanValidator(compile_plan(load_data(
        {"rules": rules}))))
    assert report.total == 4
    assert report.transitions[(Status.VALID, Status.INVALID)] == 1
    assert report.transitions[(Status.UNPLANNED, Status.VALID)] == 1
    assert report.transitions[(Status.VALID, Status.VALID)] == 1
    assert report.transitions[(Status.MALFORMED, Status.MALFORMED)] == 1
    by_id = {diff.message_id: diff for diff in report.diffs}
    assert [v.field for v in by_id["a"].added] == ["properties.currency"]
    assert by_id["c"].removed[0].kind == "Unplanned Event"
    stored = {e.message_id: e for e in store.iter_events(
        __import__("inspector.core.store", fromlist=["EventQuery"]).EventQuery(
            session_id=session))}
    assert stored["a"].status is Status.INVALID or stored["a"].status == "invalid"
    assert stored["d"].status == "malformed"
    assert stored["d"].violations[0].kind == "Missing userId or anonymousId"
    assert report.to_dict()["transitions"]["valid->invalid"] == 1
    # Unloading the plan: everything not malformed becomes not validated.
    report = revalidate_session(store, session, None)
    assert report.transitions[(Status.MALFORMED, Status.MALFORMED)] == 1
    assert sum(n for (_, new), n in report.transitions.items()
               if new is Status.NOT_VALIDATED) == 3
    store.close()


def test_watcher_reloads_and_keeps_old_plan_on_error(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    shutil.copy(FIXTURES / "public-api-raw.json", path)
    seen: list[TrackingPlan] = []
    errors: list[PlanError] = []
    watcher = PlanWatcher(path, seen.append, on_error=errors.append,
                          plan=read_plan(path))
    assert watcher.check() is None  # nothing changed
    data = json.loads(path.read_text())
    data["rules"] = data["rules"][:3]
    path.write_text(json.dumps(data))
    new = watcher.check()
    assert new is not None
    assert len(new) == 3
    assert seen == [new]
    path.write_text('{"rules": [')  # a half-written save
    assert watcher.check() is None
    assert watcher.plan is new
    assert errors
    assert errors[0].line == 1
    assert watcher.check() is None
    assert len(errors) == 1
    path.write_text(json.dumps(data) + " ")  # same rules, new bytes: reloads
    assert watcher.check() is not None
    assert watcher.error is None


async def test_watcher_task_starts_and_stops(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    shutil.copy(FIXTURES / "public-api-raw.json", path)
    watcher = PlanWatcher(path, lambda plan: None, interval=3600)
    task = watcher.start()
    assert not task.done()
    await watcher.stop()
    assert task.done()


def test_suggestions() -> None:
    events = Suggester(["Order Completed", "Product Viewed", "Signed Up"])
    assert events.suggest("Completed Order") == "Order Completed"
    assert events.suggest("order_completed") == "Order Completed"
    assert events.suggest("Prodcut Viewed") == "Product Viewed"
    assert events.suggest("signedUp") == "Signed Up"
    assert events.suggest("Logged Out") is None
    props = Suggester(["total", "order_id", "currency"])
    assert props.suggest("cart_total") == "total"
    assert props.suggest("orderId") == "order_id"
    assert props.suggest("cart_total", exclude={"total"}) is None


# ---- Public API stand-in


class _Api(BaseHTTPRequestHandler):
    rules: ClassVar[list[dict[str, Any]]] = []
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        url = urlparse(self.path)
        self.requests.append(self.path)
        if self.headers.get("Authorization") != "Bearer secret-token":
            return self._send(401, {"errors": [{"message": "unauthorized"}]})
        if url.path == "/tracking-plans/tp_1":
            return self._send(200, {"data": {"trackingPlan": {"id": "tp_1", "name": "Web",
                                                              "type": "LIVE"}}})
        if url.path == "/tracking-plans/tp_1/rules":
            query = parse_qs(url.query)
            count = int(query["pagination.count"][0])
            start = int(query.get("pagination.cursor", ["0"])[0])
            page = self.rules[start:start + count]
            following = start + count if start + count < len(self.rules) else None
            return self._send(200, {"data": {"rules": page, "pagination": {
                "current": str(start), "next": str(following) if following else None,
                "totalEntries": len(self.rules)}}})
        return self._send(404, {"errors": [{"message": "not found"}]})

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    _Api.rules = json.loads((FIXTURES / "public-api-raw.json").read_text())["rules"]
    _Api.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_paginates_with_keyring_token(api: str, memory_keyring: MemoryKeyring) -> None:
    store_token("work", "secret-token")
    assert memory_keyring.store  # the token went to the (in-memory) keyring
    plan = fetch_plan("tp_1", load_token("work"), base_url=api, page_size=4)
    assert plan.name == "Web"
    assert len(plan) == len(_Api.rules)
    assert sum("/rules" in r for r in _Api.requests) == 3  # 9 rules, 4 per page


def test_fetch_errors(api: str, memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(PlanError, match="no Segment Public API token named 'nope'"):
        load_token("nope")
    with pytest.raises(PlanError, match="refused the token"):
        fetch_plan("tp_1", "wrong", base_url=api)
    with pytest.raises(PlanError, match="no such tracking plan"):
        fetch_plan("tp_2", "secret-token", base_url=api)
    with pytest.raises(PlanError, match="legacy Config API id"):
        fetch_plan("rs_2", "secret-token", base_url=api)
    with pytest.raises(PlanError, match="cannot reach"):
        fetch_plan("tp_1", "secret-token", base_url="http://127.0.0.1:9")
