"""REST routes for tester notes: ``GET``/``POST notes``, ``PUT``/``DELETE notes/{id}``.

Query parameters are strict (an unknown one is a 400 naming it); bodies are JSON objects
sent as ``application/json`` (anything else is a 415, see the security policy) of at most
64 KiB, and an unknown member is a 400 too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from aiohttp import web

from inspector.core.capture.params import bad_query, only_params, session_named
from inspector.core.capture.routes import ApiError, json_response
from inspector.core.notes import NoteError, NoteStore, NoteTarget
from inspector.core.store import SessionInfo
from inspector.core.store.query import SQLITE_MAX_INT

if TYPE_CHECKING:
    from inspector.core.capture.service import CaptureService

__all__ = ["NOTE_BODY_LIMIT", "add_notes_routes"]

_T = TypeVar("_T")
_API = "/inspector/api"
#: A note is at most 10,000 characters; JSON escaping can make that six times as many bytes.
NOTE_BODY_LIMIT = 64 * 1024
_NEW_MEMBERS = ("session", "target_kind", "target_id", "text", "mark")
_EDIT_MEMBERS = ("text", "mark")


async def _json_object(request: web.Request, members: tuple[str, ...]) -> dict[str, Any]:
    """The request's body: a JSON object with only ``members``, sent as JSON."""
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type",
                       "send the note as a JSON object with Content-Type: application/json")
    too_big = ApiError(413, "body_too_large",
                       f"a note request body may be at most {NOTE_BODY_LIMIT // 1024} KiB")
    if request.content_length is not None and request.content_length > NOTE_BODY_LIMIT:
        raise too_big
    raw = await request.content.read(NOTE_BODY_LIMIT + 1)
    if len(raw) > NOTE_BODY_LIMIT:
        raise too_big
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise bad_query(f"Invalid JSON: {error.msg}") from error
    if not isinstance(body, dict):
        raise bad_query("the body must be a JSON object")
    unknown = sorted(set(body) - set(members))
    if unknown:
        raise bad_query(f"unknown member{'s' * (len(unknown) > 1)} {', '.join(unknown)}; "
                        f"valid: {', '.join(members)}")
    return body


def _text_member(body: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise bad_query(f"{name} must be a string")
    return value


def _note_id(request: web.Request) -> int:
    text = request.match_info["note_id"]
    if not text.isdecimal() or int(text) > SQLITE_MAX_INT:
        raise bad_query(f"a note id is a whole number, got {text!r}")
    return int(text)


def add_notes_routes(app: web.Application, service: CaptureService) -> None:
    """Register the notes routes on ``app``."""
    notes = NoteStore(service.store)

    async def close_notes(_: web.Application) -> None:
        # Its connection would keep the database file open after the service stops (and, while
        # open, SQLite keeps the descriptors of every other connection closed meanwhile).
        notes.close()

    app.on_cleanup.append(close_notes)

    async def in_thread(function: Callable[[], _T]) -> _T:
        return await asyncio.get_running_loop().run_in_executor(None, function)

    def session_for(value: object) -> SessionInfo:
        return session_named(service, value)

    async def list_notes(request: web.Request) -> web.Response:
        params = request.query
        only_params(params, ("session", "target_kind", "target_id"))
        kind: NoteTarget | None = None
        if params.get("target_kind"):
            try:
                kind = NoteTarget(params["target_kind"])
            except ValueError:
                raise bad_query(f"unknown target_kind {params['target_kind']}; valid: "
                                f"{', '.join(NoteTarget)}") from None
        target = params.get("target_id") or None
        if target is not None and kind is None:
            raise bad_query("target_id needs target_kind")
        session = await in_thread(lambda: session_for(params.get("session")))
        listed = await in_thread(lambda: notes.for_session(session.id, kind, target))
        return json_response({"session": session.to_dict(), "total": len(listed),
                              "notes": [note.to_dict() for note in listed]})

    async def add_note(request: web.Request) -> web.Response:
        body = await _json_object(request, _NEW_MEMBERS)
        target = body.get("target_id")
        if isinstance(target, int) and not isinstance(target, bool):
            target = str(target)  # an event's id may come as a number
        if not isinstance(target, str):
            raise bad_query("target_id must be a string (an event's id may be a number)")
        kind = _text_member(body, "target_kind") or ""
        text = _text_member(body, "text") or ""
        mark = _text_member(body, "mark", required=False)
        session = await in_thread(lambda: session_for(body.get("session")))
        try:
            note = await in_thread(lambda: notes.add(session.id, kind, target, text, mark))
        except NoteError as error:
            raise bad_query(str(error)) from error
        return json_response({"note": note.to_dict()}, status=201)

    async def edit_note(request: web.Request) -> web.Response:
        note_id = _note_id(request)
        body = await _json_object(request, _EDIT_MEMBERS)
        text = _text_member(body, "text") or ""
        mark = _text_member(body, "mark", required=False)
        try:
            note = await in_thread(lambda: notes.update(note_id, text, mark))
        except NoteError as error:
            raise bad_query(str(error)) from error
        if note is None:
            raise ApiError(404, "unknown_note", f"No note {note_id}")
        return json_response({"note": note.to_dict()})

    async def delete_note(request: web.Request) -> web.Response:
        note_id = _note_id(request)
        if not await in_thread(lambda: notes.delete(note_id)):
            raise ApiError(404, "unknown_note", f"No note {note_id}")
        return json_response({"deleted": note_id})

    router = app.router
    for suffix in ("", "/"):
        router.add_get(f"{_API}/notes{suffix}", list_notes)
        router.add_post(f"{_API}/notes{suffix}", add_note)
    router.add_put(_API + "/notes/{note_id}", edit_note)
    router.add_delete(_API + "/notes/{note_id}", delete_note)
