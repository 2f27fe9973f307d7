"""The REST API under ``/inspector/api/``: what CI pipelines and scripts assert on."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from aiohttp import web

from inspector import __version__
from inspector.core.capture.plan_requests import (
    apply_plan_request,
    apply_revalidate_plan,
    read_plan_body,
)
from inspector.core.capture.routes import ApiError, json_response
from inspector.core.model import EventRecord
from inspector.core.query_params import (
    FIELD_PREFIXES,
    FILTER_PARAMS,
    LIMIT_ALL_CAP,
    LIST_PARAMS,
    Page,
    cursor_after,
    event_query,
    only,
    page_options,
    wait_options,
)
from inspector.core.store import EventQuery
from inspector.core.store.forward_queue import FORWARD_OFF
from inspector.core.store.query import SQLITE_MAX_INT

if TYPE_CHECKING:
    from inspector.core.capture.service import CaptureService

__all__ = ["API_PREFIX", "add_api_routes", "event_to_api"]

API_PREFIX = "/inspector/api"
_T = TypeVar("_T")
_EVENTS_PARAMS = (*FILTER_PARAMS, *LIST_PARAMS)


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


def passed_by_cursor(base: EventQuery, page: Page) -> EventQuery | None:
    """The events of ``base`` that ``page``'s cursor has gone past (``None``: no cursor, or
    none can be): the part of the match the page's own bounds leave out."""
    after = page.after_id
    if after is None:
        return None
    if page.order == "asc":  # the page holds ids above the cursor and base.since_id
        if base.since_id is not None and base.since_id >= after:
            return None
        until = after + 1 if after < SQLITE_MAX_INT else None
        if base.until_id is not None:
            until = base.until_id if until is None else min(until, base.until_id)
        return base.model_copy(update={"until_id": until})
    if after < 1:  # the page holds ids below the cursor: every event is past it
        return base
    return base.model_copy(update={"since_id": max(base.since_id or 0, after - 1)})


def _bad_request(message: str) -> ApiError:
    return ApiError(400, "invalid_query", message)


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
        """Events matching the filters, a page at a time (see ``query_params``); with
        ``wait``, held until at least ``min`` match or the time is up."""
        pairs = request.query
        params = only(pairs, _EVENTS_PARAMS, FIELD_PREFIXES)
        page = page_options(params, pairs)
        wait = wait_options(params)
        session_id = await in_thread(lambda: session_id_for(request))
        base = event_query(pairs, session_id, _EVENTS_PARAMS)
        timed_out: bool | None = None
        if wait.seconds is not None:
            timed_out = not await wait_for_matches(base, wait.min, wait.seconds)
        limit = page.limit
        total: int | None = None
        if limit is None:
            total = await in_thread(lambda: service.store.count_events(base))
            if total > LIMIT_ALL_CAP:
                raise _bad_request(
                    f"limit=all returns at most {LIMIT_ALL_CAP:,} events and {total:,} match; "
                    "page with limit=N and the answer's next cursor")
            limit = LIMIT_ALL_CAP
        bound: dict[str, Any] = {"limit": limit, "offset": page.offset, "order": page.order}
        if page.after_id is not None and page.order == "asc":
            bound["since_id"] = max(base.since_id or 0, page.after_id)
        elif page.after_id is not None:
            bound["until_id"] = page.after_id
        query = base.model_copy(update=bound)
        result = await in_thread(lambda: service.store.query_events(query))
        returned = len(result.events)
        # query_events counts what this page's bounds leave (the cursor's too): more remain
        # when that exceeds the page; total is the whole match's, cursor or not.
        remaining = result.total - page.offset - returned
        if total is None:
            # The whole match is what this page's bounds left plus what the cursor passed:
            # counting the two parts reads each event once, where counting the whole match
            # again read the rest twice (a field filter's count reads every payload).
            passed = passed_by_cursor(base, page)
            total = result.total if passed is None else result.total + await in_thread(
                lambda: service.store.count_events(passed))
        data: dict[str, Any] = {
            "total": total, "returned": returned,
            "next": (cursor_after(result.events[-1].id, page.order, pairs)
                     if remaining > 0 and returned else None),
        }
        if timed_out is not None:
            data["timed_out"] = timed_out
        forwards = await in_thread(lambda: service.store.forward_queue.states(
            e.request_id for e in result.events))
        data["events"] = [event_to_api(e, forwards.get(e.request_id or 0))
                          for e in result.events]
        return json_response(data)

    async def wait_for_matches(query: EventQuery, minimum: int, seconds: float) -> bool:
        return await service.waiters.wait_for(
            query, minimum, seconds,
            count=lambda bounded: in_thread(lambda: service.store.count_events(bounded)),
            newest=lambda: in_thread(service.store.max_event_id))

    async def get_event(request: web.Request) -> web.Response:
        only(request.query, ())
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
        """Counts of the events matching the same filters as ``events``."""
        session_id = await in_thread(lambda: session_id_for(request))
        query = event_query(request.query, session_id)
        counts = await in_thread(lambda: service.store.summary(query=query))
        # The forward queue's counts are the session's whole (requests, not filtered events).
        counts["forward"] = await in_thread(
            lambda: service.store.forward_queue.counts(session_id))
        return json_response(counts)

    async def sessions(request: web.Request) -> web.Response:
        only(request.query, ())
        listed = await in_thread(service.store.list_sessions)
        return json_response(
            {
                "current": service.session.id,
                "sessions": [session.to_dict() for session in listed],
            }
        )

    async def reset(request: web.Request) -> web.Response:
        only(request.query, ())
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
        only(request.query, ())
        # service.session was read when the session opened: its event_count is that moment's.
        current = await in_thread(lambda: service.store.session_by_id(service.session.id))
        return json_response(
            {
                "status": "ok",
                "version": __version__,
                "endpoint": service.base_url,
                "session": (current or service.session).to_dict(),
                "plan": service.plan_description,
                "database": str(service.store.path),
                "forward": await in_thread(service.forward_counts),
                "search_index": await in_thread(service.search_index_state),
            }
        )

    async def revalidate(request: web.Request) -> web.Response:
        only(request.query, ())
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
        service.waiters.wake_all()  # statuses changed: waiting counts may have too
        return json_response({"plan": service.plan_description, **report.to_dict()})

    async def set_plan(request: web.Request) -> web.Response:
        """Load (``{"path": FILE}`` or ``{"content": PLAN, "name": NAME}``) or unload
        (``{"path": null}``) the plan new captures are validated against; ``"watch": true``
        reloads a path when the file changes. Nothing is re-validated: POST revalidate for
        that."""
        only(request.query, ())
        await apply_plan_request(service, await read_plan_body(request))
        return json_response({"plan": service.plan_description})

    async def write_keys(request: web.Request) -> web.Response:
        only(request.query, ())
        return json_response(await in_thread(service.store.write_key_names))

    async def name_write_key(request: web.Request) -> web.Response:
        only(request.query, ())
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
