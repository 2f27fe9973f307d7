"""The REST API under ``/inspector/api/``: what CI pipelines and scripts assert on."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from aiohttp import web
from pydantic import ValidationError

from inspector import __version__
from inspector.core.capture.plan_requests import (
    apply_plan_request,
    apply_revalidate_plan,
    read_plan_body,
)
from inspector.core.capture.routes import ApiError, json_response
from inspector.core.model import EventRecord
from inspector.core.store import EventQuery
from inspector.core.store.forward_queue import FORWARD_OFF
from inspector.core.store.query import SQLITE_MAX_INT

if TYPE_CHECKING:
    from inspector.core.capture.service import CaptureService

__all__ = ["API_PREFIX", "add_api_routes", "event_to_api"]

API_PREFIX = "/inspector/api"
_T = TypeVar("_T")

# Query-string names that map one-to-one onto EventQuery fields.
_DIRECT_FILTERS = ("type", "event", "user_id", "anonymous_id", "write_key", "q", "violation_kind",
                   "any_id")


def event_to_api(record: EventRecord,
                 forward: dict[str, Any] | None = None) -> dict[str, Any]:
    """The API's JSON shape of one event (``forward``: its request's forward state, default
    "off")."""
    return {
        "id": record.id,
        "session": record.session_name,
        "session_id": record.session_id,
        "received_at": datetime.fromtimestamp(record.received_at).astimezone().isoformat(
            timespec="milliseconds"
        ),
        "write_key": record.write_key,
        "source": record.source_name,
        "type": record.type,
        "event": record.name,
        "user_id": record.user_id,
        "anonymous_id": record.anonymous_id,
        "message_id": record.message_id,
        "library": record.library,
        "status": str(record.status),
        "violations": [violation.to_dict() for violation in record.violations],
        "payload": record.payload,
        "forward": forward or FORWARD_OFF,
    }


def _bad_request(message: str) -> ApiError:
    return ApiError(400, "invalid_query", message)


def _parse_since(value: str) -> float:
    """``since`` as epoch seconds or an ISO timestamp."""
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds):
            raise _bad_request(f"since must be a finite number of epoch seconds, got {value!r}")
        return seconds
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise _bad_request(
            f"since must be epoch seconds or an ISO timestamp, got {value!r}"
        ) from error
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.timestamp()


def add_api_routes(app: web.Application, service: CaptureService) -> None:
    """Register the REST API on ``app``."""

    async def in_thread(function: Callable[[], _T]) -> _T:
        # SQLite reads can take a while on big sessions: keep them off the capture loop.
        return await asyncio.get_running_loop().run_in_executor(None, function)

    def session_id_for(request: web.Request) -> int | None:
        value = request.query.get("session")
        if value is None:
            return service.session.id
        if value == "all":
            return None
        session = service.store.find_session(value)
        if session is None:
            raise ApiError(404, "unknown_session", f"No session {value!r}")
        return session.id

    async def list_events(request: web.Request) -> web.Response:
        params = request.query
        fields: dict[str, Any] = {
            name: params[name] for name in _DIRECT_FILTERS if params.get(name)
        }
        if params.get("status"):
            fields["status"] = [item for item in params["status"].split(",") if item]
        if params.get("since"):
            fields["since"] = _parse_since(params["since"])
        for name in ("limit", "offset", "since_id"):
            if params.get(name):
                fields[name] = params[name]
        if params.get("order"):
            fields["order"] = params["order"]
        session_id = await in_thread(lambda: session_id_for(request))
        try:
            query = EventQuery(session_id=session_id, **fields)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
                for item in error.errors()
            )
            raise _bad_request(problems) from error
        result = await in_thread(lambda: service.store.query_events(query))
        forwards = await in_thread(lambda: service.store.forward_queue.states(
            e.request_id for e in result.events))
        return json_response({"total": result.total, "events": [
            event_to_api(e, forwards.get(e.request_id or 0)) for e in result.events]})

    async def get_event(request: web.Request) -> web.Response:
        try:
            event_id = int(request.match_info["event_id"])
        except ValueError as error:
            raise _bad_request("event id must be an integer") from error
        if not 0 <= event_id <= SQLITE_MAX_INT:
            raise _bad_request(f"event id must be between 0 and {SQLITE_MAX_INT}")
        record = await in_thread(lambda: service.store.get_event(event_id))
        if record is None:
            return json_response(
                {"code": "not_found", "message": f"No event {event_id}"}, status=404
            )
        data = event_to_api(record)
        if record.request_id is not None:
            raw = await in_thread(lambda: service.store.get_request(record.request_id or 0))
            if raw is not None:
                data["forward"] = raw["forward"]
                body: bytes = raw.pop("body") or b""
                # A rejected request keeps only a prefix of its body (with the whole one's
                # length and SHA-256).
                raw["body_truncated"] = raw["body_size"] > len(body)
                raw["body_text"] = body.decode("utf-8", "replace") if not raw["headers"].get(
                    "Content-Encoding"
                ) else None
                data["request"] = raw
        return json_response(data)

    async def summary(request: web.Request) -> web.Response:
        session_id = await in_thread(lambda: session_id_for(request))
        counts = await in_thread(lambda: service.store.summary(session_id))
        counts["forward"] = await in_thread(
            lambda: service.store.forward_queue.counts(session_id))
        return json_response(counts)

    async def sessions(request: web.Request) -> web.Response:
        listed = await in_thread(service.store.list_sessions)
        return json_response(
            {
                "current": service.session.id,
                "sessions": [session.to_dict() for session in listed],
            }
        )

    async def reset(request: web.Request) -> web.Response:
        name: str | None = None
        if request.can_read_body:
            try:
                body = orjson.loads(await request.read() or b"{}")
            except orjson.JSONDecodeError as error:
                raise _bad_request(f"Invalid JSON: {error.msg}") from error
            if isinstance(body, dict) and isinstance(body.get("name"), str):
                name = body["name"]
        session = await in_thread(lambda: service.new_session(name))
        return json_response({"session": session.to_dict()})

    async def health(request: web.Request) -> web.Response:
        return json_response(
            {
                "status": "ok",
                "version": __version__,
                "endpoint": service.base_url,
                "session": service.session.to_dict(),
                "plan": service.plan_description,
                "database": str(service.store.path),
                "forward": await in_thread(service.forward_counts),
                "search_index": await in_thread(service.search_index_state),
            }
        )

    async def revalidate(request: web.Request) -> web.Response:
        body = await read_plan_body(request)
        plan = body.get("plan")
        if plan is not None:
            await apply_revalidate_plan(service, plan)
        session = body.get("session")
        session_id: int | None = None
        if session is not None:
            if not isinstance(session, int) or isinstance(session, bool):
                raise _bad_request("session must be a session id (an integer)")
            if await in_thread(lambda: service.store.session_by_id(session)) is None:
                raise ApiError(404, "unknown_session", f"No session {session!r}")
            session_id = session
        report = await in_thread(lambda: service.revalidate(session_id))
        return json_response({"plan": service.plan_description, **report.to_dict()})

    async def set_plan(request: web.Request) -> web.Response:
        """Load (``{"path": FILE}`` or ``{"content": PLAN, "name": NAME}``) or unload
        (``{"path": null}``) the plan new captures are validated against; ``"watch": true``
        reloads a path when the file changes. Nothing is re-validated: POST revalidate for
        that."""
        await apply_plan_request(service, await read_plan_body(request))
        return json_response({"plan": service.plan_description})

    async def write_keys(request: web.Request) -> web.Response:
        return json_response(await in_thread(service.store.write_key_names))

    async def name_write_key(request: web.Request) -> web.Response:
        key = request.match_info["write_key"]
        try:
            body = orjson.loads(await request.read() or b"{}")
        except orjson.JSONDecodeError as error:
            raise _bad_request(f"Invalid JSON: {error.msg}") from error
        name = body.get("name") if isinstance(body, dict) else None
        if name is not None and not isinstance(name, str):
            raise _bad_request("name must be a string or null")
        await in_thread(lambda: service.store.name_write_key(key, name))
        return json_response({"write_key": key, "name": name})

    router = app.router
    for suffix in ("", "/"):
        router.add_get(f"{API_PREFIX}/events{suffix}", list_events)
        router.add_get(f"{API_PREFIX}/summary{suffix}", summary)
        router.add_get(f"{API_PREFIX}/sessions{suffix}", sessions)
        router.add_post(f"{API_PREFIX}/reset{suffix}", reset)
        router.add_get(f"{API_PREFIX}/health{suffix}", health)
        router.add_get(f"{API_PREFIX}/write-keys{suffix}", write_keys)
        router.add_post(f"{API_PREFIX}/revalidate{suffix}", revalidate)
        router.add_post(f"{API_PREFIX}/plan{suffix}", set_plan)
    router.add_get(API_PREFIX + "/events/{event_id}", get_event)
    router.add_put(API_PREFIX + "/write-keys/{write_key}", name_write_key)
