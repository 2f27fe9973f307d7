"""The assertions of ``inspector assert``: what each looks for, where it reads, what it found.

A :class:`Check` is a selection of events (the REST API's own filters, as query pairs) with
bounds on how many match and, optionally, a demand that none of them has a violation. It is
evaluated against a :class:`EventSource`: a running serve (``/inspector/api/events``, whose
``wait`` does the waiting) or a database file read with the very same query code
(:func:`inspector.core.query_params.event_query`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import orjson

from inspector.cli._common import api_headers, error_message
from inspector.core.query_params import (
    FILTER_PARAMS,
    MAX_WAIT_SECONDS,
    QueryParamError,
    event_query,
)
from inspector.core.store.fields import FieldFilter, FieldFilterError, parse_path

__all__ = ["CHECKS_SCHEMA", "Check", "CheckResult", "EventSource", "UsageError", "evaluate",
           "open_source", "read_checks_file"]

#: How many events a failure shows.
SHOWN = 3


class UsageError(Exception):
    """A mistake in the command or its environment (exit code 2): the message says which."""


Pairs = list[tuple[str, str]]


@dataclass
class Check:
    """One assertion: the events selected by ``pairs`` number ``count`` (or at least ``minimum``
    / at most ``maximum``), and, with ``no_violations``, none has a violation (of
    ``severity``, default any)."""

    name: str | None = None
    pairs: Pairs = field(default_factory=list)
    count: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    no_violations: bool = False
    severity: str | None = None

    def validate(self) -> None:
        """Refuse what cannot mean anything (exit 2), with the API's own messages; a check
        with neither a count nor ``no_violations`` gets ``minimum`` 1 ("arrived at all")."""
        if self.count is not None and (self.minimum is not None or self.maximum is not None):
            raise UsageError("give --count, or --min and/or --max, not both")
        for bound in (self.count, self.minimum, self.maximum):
            if bound is not None and bound < 0:
                raise UsageError(f"a count cannot be negative: {bound}")
        if self.severity is not None and not self.no_violations:
            raise UsageError("--severity applies to --no-violations")
        try:
            event_query(self.pairs + self.severity_pairs, None)
        except QueryParamError as error:
            raise UsageError(error.message) from error
        if self.count is None and self.minimum is None and self.maximum is None \
                and not self.no_violations:
            self.minimum = 1

    @property
    def severity_pairs(self) -> Pairs:
        """The filter selecting the events that break ``no_violations``."""
        if not self.no_violations:
            return []
        return [("severity", self.severity or "error,warning")]

    @property
    def needed(self) -> int | None:
        """The count worth waiting for (``None``: waiting cannot help this check)."""
        return self.count if self.count is not None else self.minimum

    def looked_for(self) -> str:
        """The selection in the API's words (``event=Order Completed field.x=1``)."""
        return " ".join(f"{name}={value}" for name, value in self.pairs) or "every event"

    def expectation(self) -> str:
        """What the count must be, in words."""
        if self.count is not None:
            return f"exactly {self.count}"
        if self.minimum is not None and self.maximum is not None:
            return f"between {self.minimum} and {self.maximum}"
        if self.minimum is not None:
            return f"at least {self.minimum}"
        if self.maximum is not None:
            return f"at most {self.maximum}"
        return "any number"

    def title(self) -> str:
        """The check's name, or one made of what it looks for."""
        if self.name:
            return self.name
        parts = [self.looked_for()]
        if self.count is not None or self.minimum is not None or self.maximum is not None:
            parts.append(self.expectation())
        if self.no_violations:
            parts.append(f"no {self.severity or ''} violations".replace("  ", " "))
        return ", ".join(parts)

    def holds(self, matched: int) -> bool:
        """Whether ``matched`` events satisfy the count."""
        if self.count is not None:
            return matched == self.count
        return (self.minimum is None or matched >= self.minimum) and (
            self.maximum is None or matched <= self.maximum)


def where_pair(text: str, option: str = "--where") -> tuple[str, str]:
    """``PATH=JSON`` as the API's ``field.PATH`` pair (``--where-type``: ``field_type.``)."""
    path, sign, value = text.partition("=")
    if not sign:
        raise UsageError(f"{option} wants PATH=VALUE, got {text!r}")
    prefix = "field_type." if option == "--where-type" else "field."
    try:  # refused before anything is asked of a server, in the command's words
        parse_path(path)
        if prefix == "field." and value != "*" and not _is_json(value):
            raise UsageError(
                f"{option} {text}: {value!r} is not a JSON value; quote a string: "
                f"{option} {path}='{orjson.dumps(value).decode()}' (numbers, true, false and "
                "null bare; * means present and not null)")
        (FieldFilter.equals if prefix == "field." else FieldFilter.of_type)(path, value)
    except FieldFilterError as error:
        raise UsageError(f"{option}: {error}") from error
    return f"{prefix}{path}", value


def _is_json(text: str) -> bool:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


@dataclass
class CheckResult:
    """What one check found: the count, the events that break ``no_violations``, and the
    events shown to explain a failure (``closest_by``: which filter they match)."""

    check: Check
    passed: bool
    matched: int
    violating: int = 0
    shown: list[dict[str, Any]] = field(default_factory=list)
    shown_as: str = ""
    timed_out: bool | None = None

    def summary(self) -> str:
        """One line: what was expected and what was found."""
        parts = []
        check = self.check
        if check.count is not None or check.minimum is not None or check.maximum is not None:
            parts.append(f"expected {check.expectation()} matching, found {self.matched}")
        else:
            parts.append(f"{self.matched} matching")
        if check.no_violations:
            kind = f"{check.severity} " if check.severity else ""
            parts.append(f"{self.violating} with {kind}violations")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``--format json``)."""
        return {
            "name": self.check.title(),
            "passed": self.passed,
            "looked_for": self.check.looked_for(),
            "expected": self.check.expectation(),
            "matched": self.matched,
            **({"violating": self.violating} if self.check.no_violations else {}),
            **({"timed_out": self.timed_out} if self.timed_out is not None else {}),
            "shown_as": self.shown_as,
            "shown": self.shown,
        }


class EventSource(Protocol):
    """Where events are read: ``events(pairs, limit, wait)`` answers as the REST API does
    (``total``, ``events``, and ``timed_out`` when waiting)."""

    def events(self, pairs: Pairs, limit: int,
               wait: tuple[float, int] | None = None) -> dict[str, Any]: ...  # pragma: no cover

    def close(self) -> None: ...  # pragma: no cover


class HttpSource:
    """A running ``inspector serve``."""

    def __init__(self, url: str, session: str | None) -> None:
        import httpx

        self.url = url.rstrip("/")
        self.session = session
        self._client = httpx.Client(headers=api_headers())

    def events(self, pairs: Pairs, limit: int,
               wait: tuple[float, int] | None = None) -> dict[str, Any]:
        import httpx

        params: list[tuple[str, str | int | float | bool | None]] = [*pairs, ("limit", limit)]
        if self.session is not None:
            params.append(("session", self.session))
        if wait is not None:
            params += [("wait", f"{wait[0]:.3f}"), ("min", wait[1])]
        timeout = 30.0 + (wait[0] if wait else 0.0)
        address = f"{self.url}/inspector/api/events"
        try:
            response = self._client.get(address, params=params, timeout=timeout)
        except httpx.HTTPError as error:
            raise UsageError(f"cannot reach {self.url}: {error or type(error).__name__} "
                             "(is `inspector serve` running there?)") from error
        if response.status_code != 200:
            raise UsageError(
                f"{address}: HTTP {response.status_code}: {error_message(response)}")
        data: dict[str, Any] = response.json()
        return data

    def close(self) -> None:
        self._client.close()


class DatabaseSource:
    """A capture database file, read with the API's own query code (no waiting)."""

    def __init__(self, path: Path, session: str | None) -> None:
        from inspector.core.store import EventStore

        if not path.exists():
            raise UsageError(f"no capture database at {path}")
        try:
            self.store = EventStore(path)
        except Exception as error:  # an unreadable or foreign file
            raise UsageError(f"cannot open the capture database {path}: {error}") from error
        if session == "all":
            self.session_id: int | None = None
            return
        found = self.store.find_session(session) if session else self.store.latest_session()
        if found is None:
            self.store.close()
            raise UsageError(f"no session {session!r} in {path}" if session
                             else f"no sessions in {path}")
        self.session_id = found.id

    def events(self, pairs: Pairs, limit: int,
               wait: tuple[float, int] | None = None) -> dict[str, Any]:
        from inspector.core.capture.api import event_to_api

        try:
            query = event_query(pairs, self.session_id, FILTER_PARAMS, limit=limit)
        except QueryParamError as error:
            raise UsageError(error.message) from error
        result = self.store.query_events(query)
        return {"total": result.total,
                "events": [event_to_api(event) for event in result.events]}

    def close(self) -> None:
        self.store.close()


def open_source(url: str | None, db: Path | None, session: str | None,
                wait: float | None) -> EventSource:
    """The source the options name (a serve at ``url`` by default)."""
    if db is not None:
        if url is not None:
            raise UsageError("give either --db or --url, not both")
        if wait is not None:
            raise UsageError("--wait needs a running serve (--url): a database file is read "
                             "as it is")
        return DatabaseSource(db, session)
    return HttpSource(url or "http://127.0.0.1:8787", session)


def evaluate(checks: list[Check], source: EventSource, wait: float | None,
             clock: Callable[[], float] = time.monotonic) -> list[CheckResult]:
    """Every check against ``source``; with ``wait``, counts worth waiting for are waited
    for (one deadline for all), the others read afterwards."""
    if wait is not None and not 0 <= wait <= MAX_WAIT_SECONDS:
        raise UsageError(f"--wait must be between 0 and {MAX_WAIT_SECONDS:g} seconds")
    deadline = None if wait is None else clock() + wait
    waited: dict[int, bool] = {}
    if deadline is not None:
        for index, check in enumerate(checks):
            if check.needed:
                answer = source.events(check.pairs, 0,
                                       (max(0.0, deadline - clock()), check.needed))
                waited[index] = bool(answer.get("timed_out"))
    return [_evaluate_one(check, source, waited.get(index))
            for index, check in enumerate(checks)]


def _evaluate_one(check: Check, source: EventSource, timed_out: bool | None) -> CheckResult:
    answer = source.events(check.pairs, SHOWN)
    matched = int(answer["total"])
    result = CheckResult(check, passed=True, matched=matched, timed_out=timed_out)
    if not check.holds(matched):
        result.passed = False
        if check.needed is not None and matched < check.needed:
            result.shown, result.shown_as = _closest(check, source)
        else:
            result.shown, result.shown_as = answer["events"], "matching"
    if check.no_violations:
        broken = source.events(check.pairs + check.severity_pairs, SHOWN)
        result.violating = int(broken["total"])
        if result.violating:
            if result.passed:
                result.shown, result.shown_as = broken["events"], "with violations"
            result.passed = False
    return result


def _closest(check: Check, source: EventSource) -> tuple[list[dict[str, Any]], str]:
    """The events nearest to matching: the selection without its field tests, then without
    its status too, then its event name, then its type; the first that finds any."""
    pairs = list(check.pairs)
    steps: list[tuple[Callable[[str], bool], str]] = [
        (lambda name: name.startswith(("field.", "field_type.")), "the field tests"),
        (lambda name: name == "status", "the status"),
        (lambda name: name == "event", "the event name"),
        (lambda name: name == "type", "the type"),
    ]
    dropped: list[str] = []
    for is_dropped, words in steps:
        if not any(is_dropped(name) for name, _ in pairs):
            continue
        pairs = [(name, value) for name, value in pairs if not is_dropped(name)]
        dropped.append(words)
        events = source.events(pairs, SHOWN)["events"]
        if events:
            kept = " ".join(f"{name}={value}" for name, value in pairs) or "every event"
            return events, f"closest: {kept} (without {' and '.join(dropped)})"
    return [], ""


# ---- --file checks.json

#: The format of ``--file``: a list of checks (or ``{"checks": [...]}``), each with the
#: options' names (``where`` maps paths to JSON values, ``where_type`` paths to type names).
CHECKS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "inspector assert --file",
    "$defs": {
        "check": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string"},
                "type": {"type": "string"},
                "event": {"type": "string"},
                "where": {"type": "object"},
                "where_type": {"type": "object", "additionalProperties": {
                    "enum": ["string", "number", "integer", "boolean", "null", "object",
                             "array"]}},
                "status": {"oneOf": [{"type": "string"},
                                     {"type": "array", "items": {"type": "string"}}]},
                "count": {"type": "integer", "minimum": 0},
                "min": {"type": "integer", "minimum": 0},
                "max": {"type": "integer", "minimum": 0},
                "no_violations": {"type": "boolean"},
                "severity": {"enum": ["error", "warning"]},
            },
        },
    },
    "oneOf": [
        {"type": "array", "items": {"$ref": "#/$defs/check"}, "minItems": 1},
        {"type": "object", "additionalProperties": False, "required": ["checks"],
         "properties": {"checks": {"type": "array", "items": {"$ref": "#/$defs/check"},
                                   "minItems": 1}}},
    ],
}


def read_checks_file(path: Path) -> list[Check]:
    """The checks of a ``--file`` (see :data:`CHECKS_SCHEMA`)."""
    import jsonschema_rs

    try:
        data = orjson.loads(path.read_bytes())
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from error
    except orjson.JSONDecodeError as error:
        raise UsageError(f"{path}: not JSON: {error}") from error
    errors = list(jsonschema_rs.validator_for(CHECKS_SCHEMA).iter_errors(data))
    if errors:
        where = "/".join(str(part) for part in errors[0].instance_path) or "the top level"
        raise UsageError(f"{path}: at {where}: {errors[0].message} (see `inspector assert "
                         "--help` for the format)")
    items = data["checks"] if isinstance(data, dict) else data
    return [_check_from_json(item) for item in items]


def _check_from_json(item: dict[str, Any]) -> Check:
    pairs: Pairs = []
    for name in ("type", "event"):
        if name in item:
            pairs.append((name, item[name]))
    for path, value in item.get("where", {}).items():
        pairs.append(where_pair(f"{path}={orjson.dumps(value).decode()}"))
    for path, kind in item.get("where_type", {}).items():
        pairs.append(where_pair(f"{path}={kind}", "--where-type"))
    status = item.get("status")
    if status is not None:
        pairs.append(("status", status if isinstance(status, str) else ",".join(status)))
    return Check(name=item.get("name"), pairs=pairs, count=item.get("count"),
                 minimum=item.get("min"), maximum=item.get("max"),
                 no_violations=item.get("no_violations", False),
                 severity=item.get("severity"))
