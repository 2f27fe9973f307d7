"""REST routes for checkout flows: list them, check them over a session, start, follow and
stop runs (``serve`` keeps the live ones).

Bodies are JSON objects whose keys are checked like the audit routes' query parameters: an
unknown key, an unknown bundled flow or a flow file with a mistake is a 400 naming it (the
flow's own line and column), so a CI script with a typo fails instead of passing.

* ``GET  /inspector/api/flows``: the bundled flows;
* ``POST /inspector/api/flows/check``: ``{"flows": [...], "session"?, "since"?}`` evaluated
  over the stored session, no run kept (the same check asked again within two minutes reads
  only what was stored since);
* ``GET  /inspector/api/flows/runs?session=``: the session's runs;
* ``POST /inspector/api/flows/runs``: ``{"flows": [...], "session"?, "after_event_id"?}``
  starts a run over the calls from now on (from after that event: 0 for the whole session);
* ``GET  /inspector/api/flows/runs/{id}``: a run's live state;
* ``POST /inspector/api/flows/runs/{id}/stop``: ends it;
* ``POST /inspector/api/flows/runs/{id}/reevaluate``: ``{"flows"?: [...]}`` evaluates a run
  again over its window: with ``flows``, those replace the run's; without, the run's own
  (bundled ones reloaded by name, a file's as the run kept its text).

A run that is running but followed by no serve (the window started it before this serve ran,
or more than 32 ran at once) is followed again once it is read alone or re-evaluated.

A flow is ``{"name": "guest-checkout"}`` (bundled) or ``{"content": TEXT, "source": NAME}``
(a flow file's text: the server reads no paths).
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from inspector.core.capture.plan_requests import PLAN_BODY_LIMIT, read_plan_body
from inspector.core.capture.routes import ApiError, json_response
from inspector.core.flows import FlowError, LoadedFlow, bundled_flow_names, load_flow, parse_flow
from inspector.core.flows.following import FollowedFlows
from inspector.core.flows.runs import (
    LiveRun,
    audit_config_hash,
    load_run,
    load_runs,
    overall_status,
    plan_info,
    reevaluate,
    start_run,
)

if TYPE_CHECKING:
    from inspector.core.audit.live import SessionAudit
    from inspector.core.capture.service import CaptureService
    from inspector.core.store import SessionInfo

__all__ = ["add_flow_routes"]

_T = TypeVar("_T")
_API = "/inspector/api/flows"
#: A check reads people from the session's kept audit only when it is at most this many ids
#: behind: feeding the audit costs about twice what linking the people once for the check
#: does (bench/audit.py, bench/flows.py), so an audit asked for once, long ago, is left be.
SHARE_BEHIND = 20_000
#: Checks followed at once (each holds its flows' candidates), and the seconds one stays
#: followed after it was last asked for.
CHECK_LIMIT = 4
CHECK_IDLE = 120.0
#: Live runs serve follows at once; starting one more stops following the oldest (it stays
#: kept with its session and can be read, re-evaluated from the store).
_LIVE_LIMIT = 32


def _bad(message: str) -> ApiError:
    return ApiError(400, "invalid_request", message)


def _only(body: Mapping[str, Any], allowed: tuple[str, ...], what: str = "key") -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise _bad(f"unknown {what}{'s' * (len(unknown) > 1)} {', '.join(unknown)}; valid: "
                   f"{', '.join(allowed)}")


async def _read_body(request: web.Request) -> dict[str, Any]:
    """The JSON object body (read as plan uploads are: flow texts can be as long)."""
    try:
        return await read_plan_body(request)
    except ApiError as error:
        if error.status == 413:
            raise ApiError(413, "body_too_large", "a flow request body may be at most "
                           f"{PLAN_BODY_LIMIT // 2**20} MiB") from error
        raise


def parse_flow_specs(value: Any) -> list[LoadedFlow]:
    """``[{"name": ...} | {"content": ..., "source"?: ...}, ...]`` as loaded flows."""
    if not isinstance(value, list) or not value:
        raise _bad('"flows" must be a non-empty list of {"name": NAME} or '
                   '{"content": TEXT, "source": NAME}')
    loaded = []
    for index, spec in enumerate(value):
        if not isinstance(spec, dict):
            raise _bad(f"flows[{index}] must be an object")
        _only(spec, ("name", "content", "source"))
        try:
            if "content" in spec:
                content, source = spec["content"], spec.get("source", f"flows[{index}]")
                if not isinstance(content, str) or not isinstance(source, str):
                    raise _bad(f"flows[{index}]: content and source must be strings")
                loaded.append(parse_flow(content, source))
            elif isinstance(spec.get("name"), str):
                if spec["name"] not in bundled_flow_names():
                    raise _bad(f"flows[{index}]: no bundled flow {spec['name']!r}; bundled: "
                               f"{', '.join(bundled_flow_names())}")
                loaded.append(load_flow(spec["name"]))
            else:
                raise _bad(f'flows[{index}] needs "name" (a bundled flow) or "content"')
        except FlowError as error:
            raise ApiError(400, "invalid_flow", str(error)) from error
    return loaded


def _after_event_id(value: Any) -> int | None:
    """A start's ``after_event_id``: the run's calls are those stored after it (0: all)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _bad("after_event_id must be an event id (0: the whole session)")
    return value


def _reloaded(flows: list[LoadedFlow]) -> list[LoadedFlow]:
    """A run's flows as they are now: bundled ones reloaded by name; a file's text as the run
    kept it (the server reads no paths)."""
    again = []
    for loaded in flows:
        name = loaded.origin.removeprefix("bundled:")
        if name == loaded.origin:
            again.append(loaded)
        elif name not in bundled_flow_names():
            raise _bad(f"the run's flow {name!r} is no longer bundled; bundled: "
                       f"{', '.join(bundled_flow_names())}")
        else:
            try:
                again.append(load_flow(name))
            except FlowError as error:
                raise ApiError(400, "invalid_flow", str(error)) from error
    return again


def add_flow_routes(app: web.Application, service: CaptureService) -> None:
    """Register the flow routes on ``app``; the live runs live as long as it does."""
    live: dict[int, LiveRun] = {}
    lock = threading.Lock()

    async def in_thread(function: Callable[[], _T]) -> _T:
        return await asyncio.get_running_loop().run_in_executor(None, function)

    def session_for(value: Any) -> SessionInfo:
        if value is None:
            return service.session
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise _bad("session must be a name or an id")
        session = service.store.find_session(str(value))
        if session is None:
            raise ApiError(404, "unknown_session", f"No session {value!r}")
        return session

    def audit_to_share(session_id: int) -> SessionAudit | None:
        audit = service.kept_audit(session_id)
        if audit is None or \
                service.store.session_last_event_id(session_id) - audit.last_id > SHARE_BEHIND:
            return None
        return audit

    def plan() -> Any:
        validator = service.ingestor.validator
        return plan_info(getattr(validator, "plan", None))

    async def flows(request: web.Request) -> web.Response:
        _only(request.query, (), "parameter")
        listed = []
        for name in bundled_flow_names():
            flow = load_flow(name).flow
            listed.append({"name": name, "description": flow.description,
                           "steps": [step.name for step in flow.steps]})
        return json_response({"flows": listed})

    async def check(request: web.Request) -> web.Response:
        body = await _read_body(request)
        _only(body, ("flows", "session", "since"))
        loaded = parse_flow_specs(body.get("flows"))
        since = body.get("since")
        if since is not None and (isinstance(since, bool) or not isinstance(since, int | float)
                                  or not math.isfinite(since)):
            raise _bad("since must be a number (epoch seconds)")
        session = await in_thread(lambda: session_for(body.get("session")))
        followed = followed_check(session, loaded, since)
        results = await in_thread(lambda: followed.read(ended=True))
        return json_response({"session": session.to_dict(),
                              "status": str(overall_status(results)),
                              "flows": [result.to_dict() for result in results]})

    #: Checks asked for again (``inspector check --url --wait`` asks four times a second
    #: until the flows settle): each followed, so a repeat reads only what arrived since
    #: instead of the whole session again. By (session, flows, since, configuration), the
    #: most recently asked first, with when each was last asked.
    checks: OrderedDict[tuple[Any, ...], tuple[FollowedFlows, float]] = OrderedDict()

    def followed_check(session: SessionInfo, loaded: list[LoadedFlow],
                       since: float | None) -> FollowedFlows:
        key = (session.id, session.created_at, tuple(item.sha256 for item in loaded), since,
               audit_config_hash(service.audit_config))
        now = time.monotonic()
        with lock:
            for idle in [key for key, (_, asked) in checks.items()
                         if now - asked > CHECK_IDLE]:
                del checks[idle]
            kept = checks.pop(key, None)
            followed = kept[0] if kept is not None else FollowedFlows(
                service.store, session.id, [item.flow for item in loaded],
                service.audit_config, since=since, audits=audit_to_share)
            checks[key] = (followed, now)
            while len(checks) > CHECK_LIMIT:
                checks.popitem(last=False)
        return followed

    def run_json(run_id: int) -> dict[str, Any]:
        with lock:
            following = live.get(run_id)
        if following is not None:
            return following.refresh(save=True).to_dict()
        kept = load_run(service.store, run_id)
        if kept is None:
            raise ApiError(404, "unknown_run", f"No flow run {run_id}")
        return kept.to_dict()

    def run_id_of(request: web.Request) -> int:
        text = request.match_info["run_id"]
        if not text.isdigit() or len(text) > 18:
            raise _bad(f"run id {text!r} is not a number")
        return int(text)

    async def runs(request: web.Request) -> web.Response:
        _only(request.query, ("session",), "parameter")
        session = await in_thread(lambda: session_for(request.query.get("session")))
        def listing() -> list[dict[str, Any]]:
            return [run_json(run.id) for run in load_runs(service.store, session.id)]

        listed = await in_thread(listing)
        return json_response({"session": session.to_dict(), "runs": listed})

    async def start(request: web.Request) -> web.Response:
        body = await _read_body(request)
        _only(body, ("flows", "session", "after_event_id"))
        loaded = parse_flow_specs(body.get("flows"))
        after = _after_event_id(body.get("after_event_id"))
        session = await in_thread(lambda: session_for(body.get("session")))
        run = await in_thread(lambda: start_run(service.store, session.id, loaded,
                                                service.audit_config, plan(),
                                                after_event_id=after,
                                                audits=service.kept_audit))
        with lock:
            while len(live) >= _LIVE_LIMIT:
                live.pop(next(iter(live)))
            live[run.id] = run
        return json_response({"run": run.run.to_dict()}, status=201)

    async def one(request: web.Request) -> web.Response:
        _only(request.query, (), "parameter")
        run_id = run_id_of(request)
        return json_response({"run": await in_thread(lambda: one_json(run_id))})

    async def stop(request: web.Request) -> web.Response:
        run_id = run_id_of(request)
        with lock:
            following = live.pop(run_id, None)
        if following is None:
            kept = await in_thread(lambda: load_run(service.store, run_id))
            if kept is None:
                raise ApiError(404, "unknown_run", f"No flow run {run_id}")
            if kept.running:
                following = LiveRun(service.store, kept, audits=service.kept_audit)
            else:
                raise ApiError(409, "run_ended", f"Flow run {run_id} has already ended")
        stopped = await in_thread(following.stop)
        return json_response({"run": stopped.to_dict()})

    def follow(run: LiveRun) -> None:
        with lock:
            if run.id not in live:
                while len(live) >= _LIVE_LIMIT:
                    live.pop(next(iter(live)))
                live[run.id] = run

    def adopt(run_id: int) -> None:
        """Follow a kept run that runs but nobody here follows (started in the window before
        this serve ran, or let go past :data:`_LIVE_LIMIT`)."""
        with lock:
            if run_id in live:
                return
        kept = load_run(service.store, run_id)
        if kept is not None and kept.running:
            follow(LiveRun(service.store, kept, audits=service.kept_audit))

    def one_json(run_id: int) -> dict[str, Any]:
        adopt(run_id)
        return run_json(run_id)

    async def reevaluate_one(request: web.Request) -> web.Response:
        run_id = run_id_of(request)
        body = await _read_body(request)
        _only(body, ("flows",))
        given = parse_flow_specs(body["flows"]) if "flows" in body else None
        kept = await in_thread(lambda: load_run(service.store, run_id))
        if kept is None:
            raise ApiError(404, "unknown_run", f"No flow run {run_id}")
        flows = given if given is not None else _reloaded(kept.flows)
        with lock:  # its evaluator has the old flows: a new one follows the run
            live.pop(run_id, None)
        again = await in_thread(lambda: reevaluate(service.store, kept, flows))
        if again.running:
            follow(LiveRun(service.store, again, audits=service.kept_audit))
        return json_response({"run": again.to_dict()})

    router = app.router
    for suffix in ("", "/"):
        router.add_get(f"{_API}{suffix}", flows)
        router.add_post(f"{_API}/check{suffix}", check)
        router.add_get(f"{_API}/runs{suffix}", runs)
        router.add_post(f"{_API}/runs{suffix}", start)
    router.add_get(_API + "/runs/{run_id}", one)
    router.add_post(_API + "/runs/{run_id}/stop", stop)
    router.add_post(_API + "/runs/{run_id}/reevaluate", reevaluate_one)
