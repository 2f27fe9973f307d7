"""One captured call as the audits and the people view read it.

Capture commits rows (:class:`~inspector.core.store.CommittedEvent`) and the store reads
records (:class:`~inspector.core.model.EventRecord`); both become an :class:`ObservedEvent`
with the payload parsed and the source named, so that a check is written once and sees the
same thing live and over a stored session.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from inspector.core.timeutil import parse_timestamp

__all__ = ["ObservedEvent", "source_of"]


_EMPTY: Mapping[str, Any] = {}


def source_of(write_key: str | None, library_name: str | None,
              write_key_names: Mapping[str, str]) -> str:
    """The name a source goes by: a named write key, else the library, else the key itself."""
    if write_key and write_key in write_key_names:
        return write_key_names[write_key]
    if library_name:
        return library_name
    return write_key or "unknown source"


def _epoch(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    moment = parse_timestamp(value)
    return moment.timestamp() if moment is not None else None


@dataclass(slots=True)
class ObservedEvent:
    """A call with what every check needs, computed once; read-only by convention.

    ``id`` is the store's event id (its arrival order); ``timestamp`` and ``sent_at`` are epoch
    seconds parsed from the payload (``None`` when absent or unreadable). Not frozen: a frozen
    dataclass sets each field through ``object.__setattr__``, which doubled the cost of
    building one, and a million are built to audit a big session.
    """

    id: int
    message_id: str | None
    received_at: float
    write_key: str | None
    source: str
    library_name: str | None
    type: str | None
    name: str | None
    user_id: str | None
    anonymous_id: str | None
    payload: Mapping[str, Any]
    #: ``traits`` (identify, group), ``properties`` and ``context`` as mappings (empty when
    #: absent or not an object), and what the checks read of the context.
    traits: Mapping[str, Any]
    properties: Mapping[str, Any]
    context: Mapping[str, Any]
    #: ``context.traits``: what analytics.js remembers of the user on every call.
    context_traits: Mapping[str, Any]
    #: ``context.device.id`` (mobile libraries: one per install).
    device_id: str | None
    #: Whether the write key has a name in the session (``source`` is then that name).
    write_key_named: bool = False
    #: ``timestamp`` once parsed (NaN: not yet): several timing checks read it per call.
    _timestamp: float | None = math.nan

    @classmethod
    def build(
        cls,
        *,
        id: int,
        received_at: float,
        write_key: str | None,
        type: str | None,
        name: str | None,
        user_id: str | None,
        anonymous_id: str | None,
        message_id: str | None,
        payload: Mapping[str, Any] | str | bytes | None,
        write_key_names: Mapping[str, str],
    ) -> ObservedEvent:
        """Parse ``payload`` (JSON text or a mapping) and name the source."""
        if isinstance(payload, str | bytes):
            parsed = orjson.loads(payload)
            data: Mapping[str, Any] = parsed if isinstance(parsed, dict) else _EMPTY
        else:
            data = payload or _EMPTY
        context = _mapping(data.get("context"))
        library = context.get("library")
        library_name = library.get("name") if isinstance(library, dict) else None
        if not isinstance(library_name, str) or not library_name:
            library_name = None
        device = context.get("device")
        device_id = device.get("id") if isinstance(device, dict) else None
        return cls(
            id, message_id, received_at, write_key,
            source_of(write_key, library_name, write_key_names),
            library_name, type, name, user_id, anonymous_id, data,
            _mapping(data.get("traits")), _mapping(data.get("properties")), context,
            _mapping(context.get("traits")),
            device_id if isinstance(device_id, str) and device_id else None,
            write_key is not None and write_key in write_key_names,
        )

    @classmethod
    def from_row(cls, row: Sequence[Any], write_key_names: Mapping[str, str]) -> ObservedEvent:
        """:meth:`build` from a stored lean row (``id, received_at, write_key, type, name,
        user_id, anonymous_id, message_id, payload``): the same event, built without keyword
        arguments or a second pass over the context (a from-scratch audit builds a million)."""
        event_id, received_at, write_key, call_type, name, user_id, anonymous_id, message_id, \
            payload = row
        parsed = orjson.loads(payload) if payload else None
        data: Mapping[str, Any] = parsed if isinstance(parsed, dict) else _EMPTY
        context = data.get("context")
        if not isinstance(context, dict):
            context = _EMPTY
        library = context.get("library")
        library_name = library.get("name") if isinstance(library, dict) else None
        if not isinstance(library_name, str) or not library_name:
            library_name = None
        device = context.get("device")
        device_id = device.get("id") if isinstance(device, dict) else None
        named = write_key is not None and write_key in write_key_names
        traits = data.get("traits")
        properties = data.get("properties")
        context_traits = context.get("traits")
        return cls(
            event_id, message_id, received_at, write_key,
            write_key_names[write_key] if named and write_key else (
                library_name or write_key or "unknown source"),  # as source_of
            library_name, call_type, name, user_id, anonymous_id, data,
            traits if isinstance(traits, dict) else _EMPTY,
            properties if isinstance(properties, dict) else _EMPTY, context,
            context_traits if isinstance(context_traits, dict) else _EMPTY,
            device_id if isinstance(device_id, str) and device_id else None,
            named,
        )

    @property
    def timestamp(self) -> float | None:
        """``timestamp`` in epoch seconds (``None`` when absent or unreadable)."""
        value = self._timestamp
        if value is not None and math.isnan(value):
            value = self._timestamp = _epoch(self.payload.get("timestamp"))
        return value

    @property
    def sent_at(self) -> float | None:
        """``sentAt`` in epoch seconds (``None`` when absent or unreadable)."""
        return _epoch(self.payload.get("sentAt"))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else _EMPTY
