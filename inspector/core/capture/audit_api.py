"""REST routes for the retention audits: ``audit``, ``people`` and ``people/{id}``.

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
from inspector.core.capture.params import session_named
from inspector.core.capture.routes import ApiError, json_response
from inspector.core.query_params import QueryParamError, choices, only
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


def add_audit_routes(app: web.Application, service: CaptureService) -> None:
    """Register the audit routes on ``app``."""

    async def in_thread(function: Callable[[], _T]) -> _T:
        return await asyncio.get_running_loop().run_in_executor(None, function)

    def session_for(params: Mapping[str, str]) -> Any:
        return session_named(service, params.get("session"))

    async def audit(request: web.Request) -> web.Response:
        params = only(request.query, ("session", "check", "severity", "person"))
        checks = _choices(params, "check", _CHECK_IDS)
        severities = _choices(params, "severity", _SEVERITIES)
        person = params.get("person")
        session = await in_thread(lambda: session_for(params))
        session_audit = service.session_audit(session.id)
        findings = await in_thread(session_audit.refresh)
        chosen = [
            finding.to_dict() for finding in findings
            if (checks is None or finding.check in checks)
            and (severities is None or str(finding.severity) in severities)
            and (person is None or finding.person == person)
        ]
        return json_response({
            "session": session.to_dict(),
            "checks": [check.id for check in session_audit.auditor.checks],
            "counts": count_findings(findings),
            "total": len(chosen),
            "findings": chosen,
        })

    async def people(request: web.Request) -> web.Response:
        params = only(request.query, ("session", "mode"))
        modes = _choices(params, "mode", tuple(mode.value for mode in Mode))
        if modes is not None and len(modes) != 1:
            raise QueryParamError("give one mode")
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
        params = only(request.query, ("session",))
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

    router = app.router
    for suffix in ("", "/"):
        router.add_get(f"{_API}/audit{suffix}", audit)
        router.add_get(f"{_API}/people{suffix}", people)
    router.add_get(_API + "/people/{person_id}", person)
