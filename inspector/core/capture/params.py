"""Strict query parameters for the REST API's routes (audit, notes...): an unknown
parameter is a 400 that names it and lists what is valid, so a CI script with a typo fails
instead of passing on an empty answer. The contract itself (unknown and repeated parameters,
enum values, the events filters) is :mod:`inspector.core.query_params`; this module adds the
aiohttp side."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from inspector.core.capture.routes import ApiError
from inspector.core.query_params import only
from inspector.core.store import SessionInfo

if TYPE_CHECKING:
    from inspector.core.capture.service import CaptureService

__all__ = ["bad_query", "only_params", "session_named"]


def bad_query(message: str) -> ApiError:
    """A 400 ``invalid_query`` answer saying ``message``."""
    return ApiError(400, "invalid_query", message)


def only_params(params: Mapping[str, str], allowed: tuple[str, ...]) -> None:
    """Refuse any parameter not in ``allowed``, or given twice (a 400 through
    :class:`~inspector.core.query_params.QueryParamError`)."""
    only(params, allowed)


def session_named(service: CaptureService, value: object) -> SessionInfo:
    """The session a request names (its name or id; a JSON body may give the id as a
    number), the service's current one for ``None``; a 404 when there is none (blocking:
    call it off the loop)."""
    if value is None:
        return service.session
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise bad_query("session must be a session's name or id")
    session = service.store.find_session(value)
    if session is None:
        raise ApiError(404, "unknown_session", f"No session {value!r}")
    return session
