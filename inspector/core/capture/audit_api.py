"""REST routes for the retention audits: ``audit``, ``audit/overview``, ``audit/events``,
``people`` and ``people/{id}``.

``audit/overview`` and ``audit/events`` are what the window asks its capture child for: the
child keeps the live audit, so the window's process does no audit work per event.

Every query parameter is checked: an unknown one, or an unknown check id or severity, is a
400 that names it and lists what is valid, so a CI script with a typo fails instead of
passing on an empty answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from inspector.core.audit.checks import CHECK_CLASSES
from inspector.core.audit.session import count_findings
from inspector.core.capture.params import bad_query as _bad
from inspector.core.capture.params import only_params as _only
from inspector.core.capture.params import session_named
from inspector.core.capture.routes import ApiError, json_response
from inspector.core.query_params import choices
from inspector.core.replay.destinations import Mode

if TYPE_CHECKING:
    from inspector.core.capture.service import CaptureService

__all__ = ["add_audit_routes"]

_T = TypeVar("_T")
_API = "/inspector/api"
_SEVERITIES = ("error", "warning", "info")
_CHECK_IDS = tuple(check.id for check in CHECK_CLASSES)


def _choices(params: Mapping[str, str], name: str, valid: tuple[str, ...]) -> set[str] | None:
    chosen = choices(params, name, valid)
    return None if chosen is None else set(chosen)


def _count(params: Mapping[str, str], name: str, default: int, most: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = -1
    if not 0 <= number <= most:
        raise _bad(f"{name} must be a whole number from 0 to {most}, not {value!r}")
    return number


def _flag(params: Mapping[str, str], name: str) -> bool:
    value = params.get(name, "false").lower()
    if value not in ("true", "false", "1", "0"):
        raise _bad(f"{name} must be true or false, not {params[name]!r}")
    return value in ("true", "1")


def add_audit_routes(app: web.Application, service: CaptureService) -> None:
    """Register the audit routes on ``app``."""

    def check_ids(session_audit: Any) -> tuple[str, ...]:
        # The built-in checks (also when the audit file turns one off) and the session's
        # audit segments, whose ids come from the audit file.
        return tuple(dict.fromkeys(
            [*_CHECK_IDS, *(check.id for check in session_audit.auditor.checks)]))

    async def in_thread(function: Callable[[], _T]) -> _T:
        return await asyncio.get_running_loop().run_in_executor(None, function)

    def session_for(params: Mapping[str, str]) -> Any:
        return session_named(service, params.get("session"))

    async def audit(request: web.Request) -> web.Response:
        params = request.query
        _only(params, ("session", "check", "severity", "person", "event_id"))
        severities = _choices(params, "severity", _SEVERITIES)
        person = params.get("person")
        event_id = (_count(params, "event_id", 0, 2**63 - 1)
                    if "event_id" in params else None)
        session = await in_thread(lambda: session_for(params))
        session_audit = service.session_audit(session.id)
        checks = _choices(params, "check", check_ids(session_audit))
        findings = await in_thread(session_audit.refresh)
        chosen = [
            finding.to_dict() for finding in findings
            if (checks is None or finding.check in checks)
            and (severities is None or str(finding.severity) in severities)
            and (person is None or finding.person == person)
            and (event_id is None or event_id in finding.event_ids)
        ]
        return json_response({
            "session": session.to_dict(),
            "checks": [check.id for check in session_audit.auditor.checks],
            "counts": count_findings(findings),
            "total": len(chosen),
            "findings": chosen,
        })

    async def people(request: web.Request) -> web.Response:
        params = request.query
        _only(params, ("session", "mode"))
        modes = _choices(params, "mode", tuple(mode.value for mode in Mode))
        if modes is not None and len(modes) != 1:
            raise _bad("give one mode")
        session = await in_thread(lambda: session_for(params))
        session_audit = service.session_audit(session.id)
        await in_thread(session_audit.refresh)
        listed = await in_thread(session_audit.people_json)
        data: dict[str, Any] = {"session": session.to_dict(), "people": listed}
        if modes:
            from inspector.core.audit.report import customerio_json

            mode = Mode(next(iter(modes)))
            data["customerio"] = await in_thread(
                lambda: customerio_json(service.store, session, mode, len(listed)))
        return json_response(data)

    async def person(request: web.Request) -> web.Response:
        params = request.query
        _only(params, ("session",))
        session = await in_thread(lambda: session_for(params))
        session_audit = service.session_audit(session.id)
        await in_thread(session_audit.refresh)
        person_id = request.match_info["person_id"]
        data = await in_thread(lambda: session_audit.person_json(person_id))
        if data is None:
            raise ApiError(404, "unknown_person",
                           f"No person {person_id!r} in session {session.name!r} (name one "
                           "by user:ID, anon:ID, email:ADDRESS or a bare identifier)")
        return json_response({"session": session.to_dict(), "person": data})

    async def overview(request: web.Request) -> web.Response:
        params = request.query
        _only(params, ("session", "per_check", "people", "keep"))
        per_check = _count(params, "per_check", 200, 10_000)
        listed = _count(params, "people", 2000, 100_000)
        keep = _flag(params, "keep")
        session = await in_thread(lambda: session_for(params))
        session_audit = service.session_audit(session.id)

        def build() -> dict[str, Any]:
            last = service.store.session_last_event_id(session.id)
            findings = session_audit.refresh(ordered=False)
            data = session_audit.overview(per_check=per_check, people=listed)
            # As of the newest event before the refresh began (one that arrived during it
            # is audited next time, never claimed now).
            through = min(last, int(data["through_event_id"]))
            data["through_event_id"] = through
            if keep:
                from inspector.core.audit.storage import store_audit

                data["kept"] = store_audit(
                    service.store, session.id, session_audit.config,
                    [check.id for check in session_audit.auditor.checks], through,
                    session_audit.people_count, findings)
            return data

        data = await in_thread(build)
        return json_response({"session": session.to_dict(), **data})

    async def events(request: web.Request) -> web.Response:
        params = request.query
        _only(params, ("session", "check", "skip"))
        skip = _count(params, "skip", 0, 10_000_000)
        session = await in_thread(lambda: session_for(params))
        session_audit = service.session_audit(session.id)
        valid = check_ids(session_audit)
        checks = _choices(params, "check", valid)
        if not checks:
            raise _bad(f"give check (one or more of: {', '.join(valid)})")
        await in_thread(session_audit.refresh)
        ids = await in_thread(lambda: session_audit.event_ids_of(checks, skip=skip))
        return json_response({"session": session.to_dict(), "event_ids": ids})

    router = app.router
    router.add_get(f"{_API}/audit/overview", overview)
    router.add_get(f"{_API}/audit/events", events)
    for suffix in ("", "/"):
        router.add_get(f"{_API}/audit{suffix}", audit)
        router.add_get(f"{_API}/people{suffix}", people)
    router.add_get(_API + "/people/{person_id}", person)
