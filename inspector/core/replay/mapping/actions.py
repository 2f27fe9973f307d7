"""Segment's Customer.io (Actions) destination: Track API v2 ``/api/v2/batch`` operations.

Follows the action-destinations code (reference §4b): identify → ``createUpdatePerson``,
track → ``trackEvent``, page → ``trackPageView`` (named by ``properties.url``), screen →
``trackScreenView``, alias → ``mergePeople``, group → ``createUpdateObject``; the reserved track
events ``User Deleted`` / ``User Suppressed`` / ``User Unsuppressed`` become person
``delete`` / ``suppress`` / ``unsuppress``.

Differences from Segment, on purpose: the event ``id`` is the stable ULID derived from the
messageId (Segment sends the raw messageId), so re-runs dedupe; and operations are batched in
capture order only (a batch never reorders calls).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

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
    to_unix,
)
from inspector.core.replay.mapping.batching import Operation, pack

__all__ = ["ActionsMapper", "resolve_identifiers"]

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PERSON_ACTIONS = {
    "User Deleted": "delete",
    "User Suppressed": "suppress",
    "User Unsuppressed": "unsuppress",
}
_NOT_REPLAYED = frozenset({
    "Application Installed", "Application Opened", "Application Uninstalled",
    "Device Created or Updated", "Device Deleted", "Relationship Deleted", "Object Deleted",
    "Report Delivery Event", "Report Content Event",
})
_TRAIT_EXCLUDES = ("createdAt", "created_at", "object_type_id", "objectTypeId",
                   "relationshipAttributes")


def resolve_identifiers(
    person_id: str | None, email: str | None = None, anonymous_id: str | None = None
) -> dict[str, str] | None:
    """Segment's ``resolveIdentifiers``: cio_ id, email-shaped id, id, email, anonymous_id."""
    if person_id:
        if person_id.startswith("cio_"):
            return {"cio_id": person_id[4:]}
        if _EMAIL.fullmatch(person_id):
            return {"email": person_id}
        return {"id": person_id}
    if email:
        return {"email": email}
    if anonymous_id:
        return {"anonymous_id": anonymous_id}
    return None


class ActionsMapper:
    """Maps Segment calls to v2 batch operations and packs them into batch requests."""

    def __init__(self, destination: Destination) -> None:
        self.destination = destination

    def plan(self, items: Sequence[ReplayItem]) -> list[PlannedRequest | Dropped | Rejected]:
        """Batch requests in capture order, with drops interleaved."""
        entries: list[Operation | Dropped | Rejected] = []
        for item in items:
            operation = self.operation(item)
            entries.append(
                operation if isinstance(operation, Dropped | Rejected)
                else (item.seq, operation, person_keys(item.payload))
            )
        url = destination_url(self.destination, "/api/v2/batch")
        return pack(entries, batch_size=self.destination.batch_size,
                    make_request=lambda ops: HttpRequest("POST", url, {"batch": ops}))

    def operation(self, item: ReplayItem) -> dict[str, Any] | Dropped:
        """The v2 operation for one call."""
        payload = item.payload
        kind = payload.get("type")
        user_id = _text(payload.get("userId"))
        anonymous_id = _text(payload.get("anonymousId"))
        if kind == "identify":
            return self._identify(item, user_id, anonymous_id)
        if kind == "alias":
            primary = resolve_identifiers(user_id)
            secondary = resolve_identifiers(_text(payload.get("previousId")))
            if primary is None or secondary is None:
                return Dropped(item.seq, "alias needs both userId and previousId")
            return {"type": "person", "action": "merge", "primary": primary,
                    "secondary": secondary}
        if kind == "group":
            return self._group(item, user_id, anonymous_id)
        if kind in ("track", "page", "screen"):
            return self._event(item, kind, user_id, anonymous_id)
        return Dropped(item.seq, f"the Actions destination has no mapping for {kind!r} calls")

    def _identify(
        self, item: ReplayItem, user_id: str | None, anonymous_id: str | None
    ) -> dict[str, Any] | Dropped:
        traits = item.payload.get("traits")
        traits = traits if isinstance(traits, dict) else {}
        email = _text(traits.get("email"))
        identifiers = resolve_identifiers(user_id or email, None, anonymous_id)
        if identifiers is None:
            return Dropped(item.seq, "identify with no userId, email or anonymousId")
        attributes = {key: value for key, value in traits.items() if key not in _TRAIT_EXCLUDES}
        created = traits.get("created_at", traits.get("createdAt"))
        if created is not None:
            attributes["created_at"] = created
        if anonymous_id and "anonymous_id" not in identifiers:
            attributes["anonymous_id"] = anonymous_id
        operation: dict[str, Any] = {"type": "person", "action": "identify",
                                     "identifiers": identifiers}
        return self._finish(item, operation, attributes)

    def _event(
        self, item: ReplayItem, kind: str, user_id: str | None, anonymous_id: str | None
    ) -> dict[str, Any] | Dropped:
        payload = item.payload
        properties = payload.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        identifiers = resolve_identifiers(user_id, None, anonymous_id)
        if identifiers is None:
            return Dropped(item.seq, "no userId or anonymousId")
        if kind == "track":
            name = _text(payload.get("event"))
            if name in _PERSON_ACTIONS:
                return {"type": "person", "action": _PERSON_ACTIONS[name],
                        "identifiers": identifiers}
            if name in _NOT_REPLAYED:
                return Dropped(item.seq, f"{name!r} is a device/object event; not replayed")
            action = "event"
        elif kind == "page":
            context_page = (payload.get("context") or {}).get("page") or {}
            name = _text(properties.get("url")) or _text(context_page.get("url"))
            action = "page"
        else:
            name = _text(payload.get("name"))
            action = "screen"
        if not name:
            missing = {"track": "event name", "page": "properties.url", "screen": "name"}[kind]
            return Dropped(item.seq, f"{kind} call without {missing} (required by Actions)")
        attributes = dict(properties)
        if anonymous_id and "anonymous_id" not in identifiers:
            attributes["anonymous_id"] = anonymous_id
        operation: dict[str, Any] = {"type": "person", "action": action,
                                     "identifiers": identifiers, "name": name,
                                     "id": stable_event_id(payload)}
        return self._finish(item, operation, attributes)

    def _group(
        self, item: ReplayItem, user_id: str | None, anonymous_id: str | None
    ) -> dict[str, Any] | Dropped:
        payload = item.payload
        group_id = _text(payload.get("groupId"))
        if not group_id:
            return Dropped(item.seq, "group call without a groupId")
        traits = payload.get("traits")
        traits = traits if isinstance(traits, dict) else {}
        type_id = _text(traits.get("object_type_id")) or _text(traits.get("objectTypeId")) or "1"
        attributes = {key: value for key, value in traits.items() if key not in _TRAIT_EXCLUDES}
        operation: dict[str, Any] = {
            "type": "object",
            "identifiers": {"object_id": group_id, "object_type_id": type_id},
        }
        person = resolve_identifiers(user_id)
        if person is not None:
            operation.update(action="identify", cio_relationships=[{"identifiers": person}])
        elif anonymous_id:
            operation.update(action="identify_anonymous", anonymous_id=anonymous_id)
        else:
            return Dropped(item.seq, "group call without userId or anonymousId")
        return self._finish(item, operation, attributes)

    def _finish(
        self, item: ReplayItem, operation: dict[str, Any], attributes: dict[str, Any]
    ) -> dict[str, Any]:
        if self.destination.convert_to_unix_time:
            attributes = convert_iso_timestamps(attributes)
        elif "created_at" in attributes:
            # Segment converts created_at whatever the setting: Customer.io reads only seconds.
            seconds = to_unix(attributes["created_at"])
            if seconds is not None:
                attributes["created_at"] = seconds
        operation["attributes"] = attributes
        seconds = event_time(item.payload)
        if seconds is not None:
            operation["timestamp"] = seconds
        return operation


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)
