"""Segment's Customer.io Classic destination, reproduced on the Track API v1.

Classic's server code is private, so this follows its documentation (see
the Customer.io API reference notes, §4a) and the official client's wire format:

- identify → ``PUT /api/v1/customers/{userId}``, traits flat; ``createdAt`` becomes
  ``created_at`` in unix seconds; ``anonymousId`` becomes ``anonymous_id``.
- track → ``POST /api/v1/customers/{userId}/events`` ``{name, data, timestamp, id}``.
- page → the same endpoint with ``type: "page"``, named by the page name, else its URL.
- screen → an event named ``Viewed {name} Screen``.
- alias → ``POST /api/v1/merge_customers`` (userId absorbs previousId).
- No userId: dropped ("Classic would drop this"), unless the destination sends anonymous events
  to ``POST /api/v1/events``. Group calls are dropped: Classic does not take them.

Decisions beyond the documentation: every event carries the stable ULID ``id`` (dedupe) and an
integer ``timestamp``; the official client's ``pageview`` sends neither, but without them a page
replayed twice would be counted twice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import orjson

from inspector.core.replay.destinations import Destination
from inspector.core.replay.ids import stable_event_id
from inspector.core.replay.mapping.base import (
    Dropped,
    HttpRequest,
    PlannedRequest,
    Rejected,
    ReplayItem,
    convert_iso_timestamps,
    destination_url,
    event_time,
    person_keys,
    quote_id,
    to_unix,
)

__all__ = ["ClassicMapper", "identifier_kind"]

#: Customer.io v1 limit on event ``data`` (bytes).
MAX_EVENT_DATA = 100_000
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def identifier_kind(value: str) -> str:
    """Which merge_customers key an identifier goes under: ``cio_id``, ``email`` or ``id``."""
    if value.startswith("cio_"):
        return "cio_id"
    if _EMAIL.fullmatch(value):
        return "email"
    return "id"


class ClassicMapper:
    """Maps Segment calls to Track API v1 requests, one request per call."""

    def __init__(self, destination: Destination) -> None:
        self.destination = destination

    def plan(self, items: Sequence[ReplayItem]) -> list[PlannedRequest | Dropped | Rejected]:
        """One request (or drop) per item, in order."""
        return [self.map_one(item) for item in items]

    def map_one(self, item: ReplayItem) -> PlannedRequest | Dropped | Rejected:
        """The request for one call."""
        payload = item.payload
        kind = payload.get("type")
        user_id = _text(payload.get("userId"))
        persons = person_keys(payload)
        if kind == "identify":
            if not user_id:
                return Dropped(item.seq, "Classic would drop this: identify without a userId")
            return self._planned(item, HttpRequest(
                "PUT", self._url(f"/api/v1/customers/{quote_id(user_id)}"),
                self._attributes(payload),
            ), persons)
        if kind == "alias":
            previous = _text(payload.get("previousId"))
            if not user_id or not previous:
                return Dropped(item.seq, "alias needs both userId and previousId")
            body = {
                "primary": {identifier_kind(user_id): user_id},
                "secondary": {identifier_kind(previous): previous},
            }
            return self._planned(
                item, HttpRequest("POST", self._url("/api/v1/merge_customers"), body), persons
            )
        if kind in ("track", "page", "screen"):
            return self._event(item, kind, user_id, persons)
        return Dropped(item.seq, f"Classic does not send {kind or 'untyped'} calls")

    def _event(
        self, item: ReplayItem, kind: str, user_id: str | None, persons: frozenset[str]
    ) -> PlannedRequest | Dropped | Rejected:
        payload = item.payload
        properties = payload.get("properties")
        data: dict[str, Any] = dict(properties) if isinstance(properties, dict) else {}
        body: dict[str, Any] = {}
        if kind == "track":
            name = _text(payload.get("event"))
            if not name:
                return Dropped(item.seq, "track call without an event name")
        elif kind == "page":
            name = _text(payload.get("name")) or _text(data.get("name")) or _text(data.get("url"))
            if not name:
                return Dropped(item.seq, "page call with neither a name nor a URL")
            body["type"] = "page"
        else:
            name = f"Viewed {_text(payload.get('name')) or 'Undefined'} Screen"
        if self.destination.convert_to_unix_time:
            data = convert_iso_timestamps(data)
        body.update(name=name, data=data, id=stable_event_id(payload))
        seconds = event_time(payload)
        if seconds is not None:
            body["timestamp"] = seconds
        if len(orjson.dumps(data)) > MAX_EVENT_DATA:
            return Rejected(item.seq, f"event data over {MAX_EVENT_DATA} bytes")
        if user_id:
            url = self._url(f"/api/v1/customers/{quote_id(user_id)}/events")
        else:
            anonymous_id = _text(payload.get("anonymousId"))
            if not (self.destination.send_anonymous and anonymous_id):
                return Dropped(item.seq, "Classic would drop this: no userId")
            body["anonymous_id"] = anonymous_id
            url = self._url("/api/v1/events")
        return self._planned(item, HttpRequest("POST", url, body), persons)

    def _attributes(self, payload: dict[str, Any]) -> dict[str, Any]:
        traits = payload.get("traits")
        attributes: dict[str, Any] = dict(traits) if isinstance(traits, dict) else {}
        created = attributes.pop("createdAt", None)
        created = attributes.pop("created_at", created)
        if self.destination.convert_to_unix_time:
            attributes = convert_iso_timestamps(attributes)
        if created is not None:
            # Customer.io reads created_at only as unix seconds, whatever the setting says.
            attributes["created_at"] = to_unix(created) if to_unix(created) is not None else created
        anonymous_id = _text(payload.get("anonymousId"))
        if anonymous_id and "anonymous_id" not in attributes:
            attributes["anonymous_id"] = anonymous_id
        return attributes

    def _url(self, path: str) -> str:
        return destination_url(self.destination, path)

    @staticmethod
    def _planned(
        item: ReplayItem, request: HttpRequest, persons: frozenset[str]
    ) -> PlannedRequest:
        return PlannedRequest(request, (item.seq,), persons)


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)
