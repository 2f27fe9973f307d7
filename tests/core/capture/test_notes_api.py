"""``/inspector/api/notes``: list, add, edit and delete tester notes over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from inspector.core.capture import CaptureService
from tests.support.segment_calls import track


@pytest.fixture
async def api(capture: CaptureService) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=capture.base_url + "/inspector/api") as http:
        yield http


async def first_event_id(capture: CaptureService) -> int:
    async with httpx.AsyncClient(base_url=capture.base_url) as http:
        response = await http.post("/v1/t", json={**track("Order Completed"),
                                                  "writeKey": "web-key"})
        assert response.status_code == 200
        events = (await http.get("/inspector/api/events")).json()["events"]
    return int(events[0]["id"])


async def test_add_list_edit_delete(api: httpx.AsyncClient, capture: CaptureService) -> None:
    event_id = await first_event_id(capture)
    added = await api.post("/notes", json={"target_kind": "event", "target_id": event_id,
                                           "text": "total sent as a string", "mark": "fail"})
    assert added.status_code == 201, added.text
    note = added.json()["note"]
    assert (note["target_id"], note["mark"], note["session_id"]) == (
        str(event_id), "fail", capture.session.id)
    await api.post("/notes", json={"session": capture.session.name, "target_kind": "run",
                                   "target_id": "run-1", "text": "guest checkout"})

    listed = (await api.get("/notes")).json()
    assert listed["total"] == 2
    assert [n["target_kind"] for n in listed["notes"]] == ["event", "run"]
    only = (await api.get("/notes", params={"target_kind": "event",
                                            "target_id": str(event_id)})).json()
    assert [n["id"] for n in only["notes"]] == [note["id"]]

    edited = await api.put(f"/notes/{note['id']}", json={"text": "fixed in 2.3", "mark": None})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["note"]["text"], edited.json()["note"]["mark"]) == ("fixed in 2.3",
                                                                             None)
    assert (await api.delete(f"/notes/{note['id']}")).json() == {"deleted": note["id"]}
    gone = await api.delete(f"/notes/{note['id']}")
    assert (gone.status_code, gone.json()["code"]) == (404, "unknown_note")
    assert (await api.get("/notes")).json()["total"] == 1


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"target_kind": "event", "target_id": "999999", "text": "x"}, 400, "no event 999999"),
    ({"target_kind": "run", "target_id": "r", "text": "x", "author": "me"}, 400,
     "unknown member author; valid: session, target_kind, target_id, text, mark"),
    ({"target_kind": "run", "target_id": "r", "text": 5}, 400, "text must be a string"),
    ({"target_kind": "run", "target_id": "r", "text": "x", "mark": "ok"}, 400,
     "unknown mark 'ok'"),
    ({"target_kind": "run", "target_id": "r", "text": "x", "session": "nope"}, 404,
     "No session 'nope'"),
    (["not", "an", "object"], 400, "the body must be a JSON object"),
])
async def test_bad_notes_are_refused_precisely(
    api: httpx.AsyncClient, body: object, status: int, message: str,
) -> None:
    response = await api.post("/notes", json=body)
    assert response.status_code == status
    assert response.json()["message"].startswith(message)
    assert (await api.get("/notes")).json()["total"] == 0


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "application/xml"])
async def test_only_json_bodies(api: httpx.AsyncClient, content_type: str) -> None:
    response = await api.post("/notes", content=b'{"target_kind": "run", "target_id": "r", '
                              b'"text": "x"}', headers={"Content-Type": content_type})
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert (await api.get("/notes")).json()["total"] == 0


async def test_strict_parameters_and_limits(api: httpx.AsyncClient) -> None:
    typo = await api.get("/notes", params={"target": "event"})
    assert typo.status_code == 400
    assert typo.json()["message"] == ("unknown parameter target; valid: session, target_kind, "
                                      "target_id")
    assert (await api.get("/notes", params={"target_kind": "evnt"})).status_code == 400
    assert (await api.get("/notes", params={"target_id": "1"})).json()["message"] == (
        "target_id needs target_kind")
    assert (await api.put("/notes/abc", json={"text": "x"})).status_code == 400
    huge = await api.post("/notes", json={"target_kind": "run", "target_id": "r",
                                          "text": "x" * 70_000})
    assert huge.status_code == 413
