"""The query contract of the REST API, as plain functions over a query string's pairs.

Everything a CI script can write is checked: an unknown parameter, a parameter given twice, an
unknown enum value (``type``, ``status``, ``severity``, ``order``, ``violation_kind``) or a value
that is not what it must be raises :class:`QueryParamError`, whose message names it and lists
what is valid; the API answers it 400 ``invalid_query``, ``inspector assert`` exits 2. So a typo
fails the build instead of passing on an empty (or unfiltered) answer. Enum values are read
ignoring case.

The same functions serve ``/inspector/api/events`` and ``summary`` and ``inspector assert --db``
(which reads the store with these very filters), so the three cannot drift apart.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson
from pydantic import ValidationError

from inspector.core.model import Severity, Status, ViolationKind
from inspector.core.store.fields import FieldFilter, FieldFilterError
from inspector.core.store.query import SQLITE_MAX_INT, EventQuery

__all__ = [
    "CALL_TYPES",
    "FIELD_PREFIXES",
    "FILTER_PARAMS",
    "LIMIT_ALL_CAP",
    "LIST_PARAMS",
    "MAX_WAIT_SECONDS",
    "Page",
    "QueryInput",
    "QueryPairs",
    "QueryParamError",
    "Wait",
    "choices",
    "cursor_after",
    "event_query",
    "only",
    "page_options",
    "wait_options",
]

#: Segment's six call types.
CALL_TYPES = ("track", "identify", "page", "screen", "group", "alias")
#: ``status`` values: the five statuses and the ``problems`` shorthand (see EventQuery).
STATUS_VALUES = (*(str(status) for status in Status), "problems")
SEVERITIES = tuple(str(severity) for severity in Severity)
ORDERS = ("asc", "desc")
_KINDS = {str(kind).lower(): str(kind) for kind in ViolationKind}

#: Parameters that filter events (``events`` and ``summary``), besides ``field.<path>`` and
#: ``field_type.<path>``.
FILTER_PARAMS = ("session", "type", "event", "status", "severity", "violation_kind", "user_id",
                 "anonymous_id", "any_id", "write_key", "q", "since", "since_id")
#: What ``events`` takes besides the filters.
LIST_PARAMS = ("limit", "offset", "order", "cursor", "wait", "min")
FIELD_PREFIXES = ("field.", "field_type.")

#: ``limit=all`` returns every match up to this many; beyond it the answer is a 400 saying to
#: page (each event carries its payload: ten thousand of them is already megabytes).
LIMIT_ALL_CAP = 10_000
#: The longest ``wait`` (seconds): a CI job's step, not a connection held forever.
MAX_WAIT_SECONDS = 120.0
DEFAULT_LIMIT = 100
MAX_LIMIT = 100_000


class QueryParamError(ValueError):
    """A query string the contract refuses; ``message`` says what and what is valid."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class QueryPairs(Protocol):
    """A query string as aiohttp's ``request.query`` (a multi-dict) or a plain mapping."""

    def items(self) -> Iterable[tuple[str, str]]: ...  # pragma: no cover


#: What the functions read: a query string's pairs in any of these shapes.
QueryInput = QueryPairs | Mapping[str, str] | Sequence[tuple[str, str]]


def _pairs(params: QueryInput) -> list[tuple[str, str]]:
    if isinstance(params, Sequence):
        return list(params)
    return list(params.items())


def only(params: QueryInput, allowed: tuple[str, ...],
         prefixes: tuple[str, ...] = ()) -> dict[str, str]:
    """The parameters as a dict, after refusing unknown ones and any given twice.

    Names starting with one of ``prefixes`` (``field.``) may repeat; they are left out of the
    dict (read them with :func:`event_query`).
    """
    single: dict[str, str] = {}
    unknown: list[str] = []
    for name, value in _pairs(params):
        if prefixes and name.startswith(prefixes):
            continue
        if name not in allowed:
            unknown.append(name)
        elif name in single:
            raise QueryParamError(f"{name} is given more than once; give it once"
                                  + (" (a comma-separated list)" if name in ("status", "severity")
                                     else ""))
        else:
            single[name] = value
    if unknown:
        valid = ", ".join([*allowed, *(f"{prefix}<path>" for prefix in prefixes)]) or "none"
        names = ", ".join(sorted(set(unknown)))
        raise QueryParamError(
            f"unknown parameter{'s' * (len(set(unknown)) > 1)} {names}; valid: {valid}")
    return single


def choices(params: Mapping[str, str], name: str, valid: tuple[str, ...]) -> list[str] | None:
    """A comma-separated enum parameter, lower-cased, in the order given (``None``: absent)."""
    value = params.get(name)
    if value is None:
        return None
    chosen = list(dict.fromkeys(item.strip().lower() for item in value.split(",")
                                if item.strip()))
    if not chosen:
        raise QueryParamError(f"{name} is empty; valid: {', '.join(valid)}")
    unknown = [item for item in chosen if item not in valid]
    if unknown:
        raise QueryParamError(f"unknown {name} {', '.join(unknown)}; valid: {', '.join(valid)}")
    return chosen


def _since(value: str) -> float:
    """``since`` as epoch seconds or an ISO timestamp."""
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds):
            raise QueryParamError(
                f"since must be a finite number of epoch seconds, got {value!r}")
        return seconds
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise QueryParamError(
            f"since must be epoch seconds or an ISO timestamp, got {value!r}") from error
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.timestamp()


def _integer(name: str, value: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise QueryParamError(f"{name} must be a whole number, got {value!r}") from None
    if not low <= number <= high:
        raise QueryParamError(f"{name} must be between {low} and {high}, got {value}")
    return number


def _field_filters(params: QueryInput) -> tuple[FieldFilter, ...]:
    filters: list[FieldFilter] = []
    try:
        for name, value in _pairs(params):
            if name.startswith("field."):
                filters.append(FieldFilter.equals(name.removeprefix("field."), value))
            elif name.startswith("field_type."):
                filters.append(FieldFilter.of_type(name.removeprefix("field_type."), value))
    except FieldFilterError as error:
        raise QueryParamError(str(error)) from error
    return tuple(filters)


def event_query(params: QueryInput, session_id: int | None,
                allowed: tuple[str, ...] = FILTER_PARAMS, **extra: Any) -> EventQuery:
    """The :class:`EventQuery` of a query string's filters (``session`` is resolved by the
    caller into ``session_id``); every other name in ``allowed`` is the caller's to read.
    ``extra`` are more EventQuery fields (limit, order...)."""
    single = only(params, allowed, FIELD_PREFIXES)
    fields: dict[str, Any] = {
        name: single[name] for name in ("event", "user_id", "anonymous_id", "any_id",
                                        "write_key", "q") if single.get(name)
    }
    types = choices(single, "type", CALL_TYPES)
    if types is not None:
        if len(types) > 1:
            raise QueryParamError("give one type")
        fields["type"] = types[0]
    statuses = choices(single, "status", STATUS_VALUES)
    if statuses is not None:
        if "problems" in statuses:
            fields["problems"] = True
        fields["status"] = [status for status in statuses if status != "problems"] or None
    fields["severity"] = choices(single, "severity", SEVERITIES)
    kind = single.get("violation_kind")
    if kind is not None:
        canonical = _KINDS.get(kind.strip().lower())
        if canonical is None:
            raise QueryParamError(f"unknown violation_kind {kind!r}; valid: "
                                  f"{', '.join(_KINDS.values())}")
        fields["violation_kind"] = canonical
    if single.get("since"):
        fields["since"] = _since(single["since"])
    if single.get("since_id"):
        fields["since_id"] = _integer("since_id", single["since_id"], 0, SQLITE_MAX_INT)
    fields["fields"] = _field_filters(params)
    try:
        return EventQuery(session_id=session_id, **fields, **extra)
    except ValidationError as error:
        raise QueryParamError("; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
            for item in error.errors())) from error


@dataclass(frozen=True, slots=True)
class Page:
    """Which page of the match a list answer holds: ``limit`` (``None``: ``limit=all``),
    ``offset``, ``order``, and the event id a ``cursor`` continues after."""

    limit: int | None
    offset: int
    order: str
    after_id: int | None


def _fingerprint(params: QueryInput) -> str:
    """What a cursor is bound to: the filters and order of the query that gave it."""
    kept = sorted((name, value) for name, value in _pairs(params)
                  if name not in ("limit", "offset", "cursor", "wait", "min"))
    return hashlib.sha256(orjson.dumps(kept)).hexdigest()[:12]


def page_options(params: Mapping[str, str], pairs: QueryInput) -> Page:
    """``limit``, ``offset``, ``order`` and ``cursor`` of a list query (``pairs``: the whole
    query string, which a cursor must belong to)."""
    order = (choices(params, "order", ORDERS) or ["asc"])
    if len(order) > 1:
        raise QueryParamError("give one order: asc or desc")
    raw_limit = params.get("limit")
    limit: int | None = DEFAULT_LIMIT
    if raw_limit is not None:
        limit = None if raw_limit.strip().lower() == "all" else _integer(
            "limit", raw_limit, 0, MAX_LIMIT)
    offset = _integer("offset", params["offset"], 0, SQLITE_MAX_INT) if params.get(
        "offset") else 0
    after_id: int | None = None
    cursor = params.get("cursor")
    if cursor is not None:
        if offset:
            raise QueryParamError("give either cursor or offset, not both")
        after_id = _read_cursor(cursor, order[0], _fingerprint(pairs))
    return Page(limit=limit, offset=offset, order=order[0], after_id=after_id)


def cursor_after(event_id: int, order: str, pairs: QueryInput) -> str:
    """The opaque ``next`` cursor: the page continues after ``event_id``."""
    token = orjson.dumps({"after": event_id, "order": order, "query": _fingerprint(pairs)})
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


def _read_cursor(cursor: str, order: str, fingerprint: str) -> int:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after = data["after"]
        if not isinstance(after, int) or not 0 <= after <= SQLITE_MAX_INT:
            raise ValueError(after)
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise QueryParamError(
            "cursor is not one this API gave; pass the \"next\" of the previous answer "
            "unchanged") from None
    if data.get("order") != order or data.get("query") != fingerprint:
        raise QueryParamError(
            "cursor belongs to another query; repeat the same filters and order with it "
            "(only limit may change)")
    return after


@dataclass(frozen=True, slots=True)
class Wait:
    """``wait`` seconds (``None``: answer at once) until at least ``min`` events match."""

    seconds: float | None
    min: int


def wait_options(params: Mapping[str, str]) -> Wait:
    """``wait`` and ``min``: bounded by :data:`MAX_WAIT_SECONDS`; ``min`` needs ``wait``."""
    raw = params.get("wait")
    minimum = _integer("min", params["min"], 1, SQLITE_MAX_INT) if "min" in params else 1
    if raw is None:
        if "min" in params:
            raise QueryParamError("min applies to wait; give wait=<seconds> too")
        return Wait(None, minimum)
    try:
        seconds = float(raw)
    except ValueError:
        raise QueryParamError(f"wait must be a number of seconds, got {raw!r}") from None
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_WAIT_SECONDS:
        raise QueryParamError(f"wait must be between 0 and {MAX_WAIT_SECONDS:g} seconds, "
                              f"got {raw}")
    return Wait(seconds, minimum)
