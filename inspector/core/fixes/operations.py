"""Bulk fix operations: pydantic models that rewrite a Segment payload, and their preview.

Each fix is a small, serialisable value (so a set of them can be saved and applied to another
session) with one method, :meth:`apply`, that rewrites a payload *in place* and returns what it
did. Callers always hand in a deep copy (see :func:`apply_fixes`), so the original is never
touched.

Scopes: ``properties`` is the call's ``properties``; ``traits`` means both the top-level
``traits`` (identify, group) and ``context.traits`` (track, page, screen), because a user
renaming a trait expects it renamed wherever Segment carries traits. ``context`` reaches into
``context`` itself. Keys may be dotted paths inside the scope (``address.city``).
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from inspector.core.fixes.diff import DiffEntry, json_diff
from inspector.core.timeutil import format_iso, parse_timestamp

__all__ = [
    "CoerceType",
    "DeleteKey",
    "Fix",
    "FixOutcome",
    "FixPreview",
    "MapUserId",
    "RenameEvent",
    "RenameKey",
    "Scope",
    "SetValue",
    "apply_fixes",
    "coerce_value",
    "fix_list_adapter",
    "preview",
]

Scope = Literal["properties", "traits", "context"]


@dataclass(slots=True)
class FixOutcome:
    """What one fix did to one payload: the number of changes and any values it could not fix."""

    changes: int = 0
    problems: list[str] = field(default_factory=list)


class _FixBase(BaseModel):
    """Common fields: an optional event-name filter, so one fix can target one event."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    only_event: str | None = Field(
        default=None, description="Apply only to events with this name (track event or page name)."
    )

    def matches(self, payload: dict[str, Any]) -> bool:
        """Whether this fix applies to ``payload`` at all."""
        return self.only_event is None or _event_name(payload) == self.only_event

    def apply(self, payload: dict[str, Any]) -> FixOutcome:  # pragma: no cover - abstract
        """Rewrite ``payload`` in place."""
        raise NotImplementedError


class RenameEvent(_FixBase):
    """Rename a track event (``event``) or a page/screen (``name``)."""

    op: Literal["rename_event"] = "rename_event"
    from_name: str
    to_name: str

    def apply(self, payload: dict[str, Any]) -> FixOutcome:
        """Rename when the event's name is ``from_name``."""
        key = "event" if payload.get("type") == "track" else "name"
        if payload.get(key) == self.from_name:
            payload[key] = self.to_name
            return FixOutcome(changes=1)
        return FixOutcome()


class RenameKey(_FixBase):
    """Rename a property or trait key, keeping its value (never overwriting an existing key)."""

    op: Literal["rename_key"] = "rename_key"
    scope: Scope
    from_key: str
    to_key: str

    def apply(self, payload: dict[str, Any]) -> FixOutcome:
        """Move the value from ``from_key`` to ``to_key`` in each container of the scope."""
        outcome = FixOutcome()
        for container in _containers(payload, self.scope):
            parent, leaf = _resolve(container, self.from_key, create=False)
            if parent is None or leaf not in parent:
                continue
            target_parent, target_leaf = _resolve(container, self.to_key, create=True)
            assert target_parent is not None
            if target_leaf in target_parent:
                outcome.problems.append(
                    f"{self.scope}.{self.to_key} already exists; {self.from_key} left as it is"
                )
                continue
            target_parent[target_leaf] = parent.pop(leaf)
            outcome.changes += 1
        return outcome


class CoerceType(_FixBase):
    """Convert a value to a number, a boolean or an ISO 8601 timestamp."""

    op: Literal["coerce"] = "coerce"
    scope: Scope
    key: str
    to: Literal["number", "boolean", "timestamp"]

    def apply(self, payload: dict[str, Any]) -> FixOutcome:
        """Coerce the value at ``key``; values that cannot be converted are reported, not lost."""
        outcome = FixOutcome()
        for container in _containers(payload, self.scope):
            parent, leaf = _resolve(container, self.key, create=False)
            if parent is None or leaf not in parent:
                continue
            value = parent[leaf]
            try:
                converted = coerce_value(value, self.to)
            except ValueError as error:
                outcome.problems.append(f"{self.scope}.{self.key}: {error}")
                continue
            if type(converted) is not type(value) or converted != value:
                parent[leaf] = converted
                outcome.changes += 1
        return outcome


class SetValue(_FixBase):
    """Set a property or trait to a fixed JSON value (creating it if needed)."""

    op: Literal["set"] = "set"
    scope: Scope
    key: str
    value: Any

    def apply(self, payload: dict[str, Any]) -> FixOutcome:
        """Set the value; for ``traits`` the container that exists is used (top-level first)."""
        container = next(_containers(payload, self.scope), None)
        if container is None:
            container = _create_container(payload, self.scope)
        parent, leaf = _resolve(container, self.key, create=True)
        assert parent is not None
        if leaf in parent and _json_equal(parent[leaf], self.value):
            return FixOutcome()
        parent[leaf] = copy.deepcopy(self.value)
        return FixOutcome(changes=1)


class DeleteKey(_FixBase):
    """Delete a property or trait."""

    op: Literal["delete"] = "delete"
    scope: Scope
    key: str

    def apply(self, payload: dict[str, Any]) -> FixOutcome:
        """Remove ``key`` from each container of the scope."""
        outcome = FixOutcome()
        for container in _containers(payload, self.scope):
            parent, leaf = _resolve(container, self.key, create=False)
            if parent is not None and leaf in parent:
                del parent[leaf]
                outcome.changes += 1
        return outcome


class MapUserId(_FixBase):
    """Replace one userId by another (also as an alias's ``previousId``)."""

    op: Literal["map_user_id"] = "map_user_id"
    from_id: str
    to_id: str

    def apply(self, payload: dict[str, Any]) -> FixOutcome:
        """Rewrite ``userId`` (and ``previousId``) equal to ``from_id``."""
        outcome = FixOutcome()
        for key in ("userId", "previousId"):
            if payload.get(key) == self.from_id:
                payload[key] = self.to_id
                outcome.changes += 1
        return outcome


Fix = Annotated[
    RenameEvent | RenameKey | CoerceType | SetValue | DeleteKey | MapUserId,
    Field(discriminator="op"),
]

#: Validates and serialises ``list[Fix]`` (the JSON form of a fix set).
fix_list_adapter: TypeAdapter[list[Fix]] = TypeAdapter(list[Fix])


@dataclass(slots=True)
class FixPreview:
    """One event before and after a list of fixes, with the diff and any unfixable values."""

    event_id: int
    before: dict[str, Any]
    after: dict[str, Any]
    diff: list[DiffEntry]
    problems: list[str]

    @property
    def changed(self) -> bool:
        """Whether the fixes changed anything."""
        return bool(self.diff)


def apply_fixes(
    fixes: Iterable[_FixBase], payload: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """A corrected deep copy of ``payload`` and the problems met; ``payload`` is untouched."""
    corrected = copy.deepcopy(payload)
    problems: list[str] = []
    for fix in fixes:
        if fix.matches(corrected):
            problems.extend(fix.apply(corrected).problems)
    return corrected, problems


def preview(
    fixes: Iterable[_FixBase], events: Iterable[tuple[int, dict[str, Any]]]
) -> Iterator[FixPreview]:
    """For each ``(event_id, payload)`` the fixes touch, what they would change.

    Events left unchanged without problems are skipped; nothing is written anywhere. Pass the
    current correction as the payload when one exists, so fixes stack on earlier edits.
    """
    fix_list = list(fixes)
    for event_id, payload in events:
        after, problems = apply_fixes(fix_list, payload)
        diff = json_diff(payload, after)
        if diff or problems:
            yield FixPreview(event_id, payload, after, diff, problems)


# ---- coercion

_TRUE = frozenset({"true", "t", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "off"})
_INTEGER = re.compile(r"[+-]?\d+")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
# Unix time in milliseconds from 2001-09-09 on: ten-digit values are seconds, thirteen are ms.
_MS_THRESHOLD = 10**11


def coerce_value(value: Any, to: Literal["number", "boolean", "timestamp"]) -> Any:
    """``value`` converted to a JSON number, boolean or ISO 8601 string; ``ValueError`` if not.

    ``None`` stays ``None``: a missing value is a different problem from a mistyped one.
    """
    if value is None:
        return None
    if to == "number":
        return _to_number(value)
    if to == "boolean":
        return _to_boolean(value)
    return _to_timestamp(value)


def _to_number(value: Any) -> int | float:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        text = value.strip().replace(",", "") if _looks_grouped(value) else value.strip()
        if _INTEGER.fullmatch(text):
            return int(text)
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
        if math.isfinite(number):
            return number
    raise ValueError(f"{value!r} is not a number")


def _looks_grouped(text: str) -> bool:
    # "1,234.5" is a thousands separator; "1,5" (a European decimal) is ambiguous and refused.
    return re.fullmatch(r"\s*[+-]?\d{1,3}(,\d{3})+(\.\d+)?\s*", text) is not None


def _to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError(f"{value!r} is not a boolean")


def _to_timestamp(value: Any) -> str:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a timestamp")
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        value = int(value.strip())
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) >= _MS_THRESHOLD else value
        try:
            return format_iso(datetime.fromtimestamp(seconds, UTC))
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"{value!r} is out of range for a timestamp") from None
    if isinstance(value, str):
        text = value.strip()
        if _DATE_ONLY.fullmatch(text):
            # A date stays a date: inventing midnight UTC would shift it in other time zones.
            return text
        parsed = parse_timestamp(text.replace(" ", "T", 1) if " " in text else text)
        if parsed is not None:
            return format_iso(parsed)
    raise ValueError(f"{value!r} is not a timestamp")


# ---- payload navigation


def _event_name(payload: dict[str, Any]) -> Any:
    return payload.get("event") if payload.get("type") == "track" else payload.get("name")


def _scope_paths(payload: dict[str, Any], scope: Scope) -> tuple[tuple[str, ...], ...]:
    if scope == "properties":
        return (("properties",),)
    if scope == "context":
        return (("context",),)
    # Where Segment reads traits first for this call type comes first.
    if payload.get("type") in ("identify", "group"):
        return (("traits",), ("context", "traits"))
    return (("context", "traits"), ("traits",))


def _containers(payload: dict[str, Any], scope: Scope) -> Iterator[dict[str, Any]]:
    for path in _scope_paths(payload, scope):
        node: Any = payload
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            yield node


def _create_container(payload: dict[str, Any], scope: Scope) -> dict[str, Any]:
    node = payload
    for part in _scope_paths(payload, scope)[0]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    return node


def _json_equal(a: Any, b: Any) -> bool:
    return not json_diff(a, b)


def _resolve(
    container: dict[str, Any], dotted: str, *, create: bool
) -> tuple[dict[str, Any] | None, str]:
    """The dict holding the last segment of ``dotted`` and that segment's key."""
    *parents, leaf = dotted.split(".")
    node: Any = container
    for part in parents:
        child = node.get(part) if isinstance(node, dict) else None
        if child is None and create and isinstance(node, dict):
            child = node[part] = {}
        node = child
    return (node if isinstance(node, dict) else None), leaf
