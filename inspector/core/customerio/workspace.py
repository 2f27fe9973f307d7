"""A model of what a Customer.io workspace holds after receiving a list of requests.

It reads the requests exactly as the replay would send them (the mappings in
:mod:`inspector.core.replay.mapping`), so "what Customer.io will hold" and "what a replay
sends" can never disagree. The rules, from Customer.io's Track API reference (see the
replay's research notes):

* an identifier "is determined from the shape of the value": ``cio_…`` is a cio_id, an
  email-shaped value an email, anything else an id; people are found by id, email or cio_id;
* identify creates or updates the person; its ``email`` attribute names the person's email
  only when no other person holds it (otherwise the update fails quietly: "Attribute Update
  Failure", and the two stay two people);
* an event for an identifier creates the person if needed (the Track API's behaviour for
  ``/customers/{id}/events``);
* anonymous events wait under their ``anonymous_id`` and merge onto the person that is later
  identified with the same ``anonymous_id``;
* ``merge_customers`` / a v2 ``merge`` folds the secondary person into the primary;
* Pipelines takes Segment calls: ``userId`` names the person, an identify carrying an
  ``anonymousId`` merges that anonymous profile.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from inspector.core.replay.mapping.base import PlannedRequest

__all__ = ["CustomerIOProfile", "WorkspaceModel"]

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def identifier_key(value: str) -> tuple[str, str]:
    """``("cio_id" | "email" | "id", value)`` by the shape of the value, as Customer.io does."""
    if value.startswith("cio_"):
        return "cio_id", value[4:]
    if _EMAIL.fullmatch(value):
        return "email", value.lower()
    return "id", value


@dataclass(slots=True)
class CustomerIOProfile:
    """One person in the workspace: identifiers, attributes and the events received."""

    identifiers: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    #: ``(event name, event id in the capture)`` in arrival order.
    events: list[tuple[str, int | None]] = field(default_factory=list)
    #: Events merged in from anonymous profiles.
    merged_anonymous: int = 0

    @property
    def identifier(self) -> str:
        """How Customer.io shows the person: the id, else the email, else the cio_id."""
        for key in ("id", "email", "cio_id"):
            if key in self.identifiers:
                return self.identifiers[key]
        return "(no identifier)"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of ``inspector people --mode``."""
        return {
            "identifier": self.identifier,
            "identifiers": dict(self.identifiers),
            "attributes": dict(self.attributes),
            "events": [name for name, _ in self.events],
            "merged_anonymous_events": self.merged_anonymous,
        }


class WorkspaceModel:
    """People and anonymous activity, built by applying requests in send order.

    ``seq_to_event`` maps a replay item's position to its capture event id, so each profile
    names the captured events it received.
    """

    def __init__(self, seq_to_event: Mapping[int, int | None] | None = None) -> None:
        self._profiles: list[CustomerIOProfile] = []
        self._index: dict[tuple[str, str], CustomerIOProfile] = {}
        #: anonymous_id -> events waiting for an identify with that anonymous_id.
        self.anonymous: dict[str, list[tuple[str, int | None]]] = {}
        self.attribute_conflicts: list[str] = []
        self._events = seq_to_event or {}

    # ---- reading

    def profiles(self) -> list[CustomerIOProfile]:
        """Every person, in order of creation."""
        return list(self._profiles)

    # ---- applying requests

    def apply(self, planned: Iterable[PlannedRequest]) -> None:
        """Apply requests as the workspace would receive them."""
        for item in planned:
            request = item.request
            path = urlsplit(request.url).path
            body = request.body
            if path.startswith("/api/v1/"):
                self._v1(request.method, path, body, item.seqs)
            elif path in ("/api/v2/batch", "/api/v2/entity"):
                operations = body.get("batch", []) if path.endswith("batch") else [body]
                for seq, operation in zip(item.seqs, operations, strict=False):
                    self._v2(operation, seq)
            elif path == "/v1/batch":
                for seq, call in zip(item.seqs, body.get("batch", []), strict=False):
                    self._pipelines(call, seq)

    def _v1(self, method: str, path: str, body: Any, seqs: tuple[int, ...]) -> None:
        parts = [unquote(part) for part in path.split("/")[3:]]
        seq = seqs[0] if seqs else None
        if parts == ["merge_customers"]:
            primary, secondary = body.get("primary", {}), body.get("secondary", {})
            self._merge(next(iter(primary.items()), None), next(iter(secondary.items()), None))
        elif parts == ["events"]:
            anonymous_id = body.get("anonymous_id")
            if anonymous_id:
                self._anonymous_event(str(anonymous_id), str(body.get("name")), seq)
        elif len(parts) >= 2 and parts[0] == "customers":
            key = identifier_key(parts[1])
            if len(parts) == 2 and method == "PUT":
                self._identify(key, dict(body or {}))
            elif len(parts) == 3 and parts[2] == "events":
                self._person(key).events.append((str(body.get("name")), self._event_id(seq)))

    def _v2(self, operation: Mapping[str, Any], seq: int) -> None:
        if operation.get("type") != "person":
            return
        action = operation.get("action")
        if action == "merge":
            self._merge(next(iter(operation.get("primary", {}).items()), None),
                        next(iter(operation.get("secondary", {}).items()), None))
            return
        identifiers: Mapping[str, Any] = operation.get("identifiers") or {}
        if "anonymous_id" in identifiers and len(identifiers) == 1:
            if action in ("event", "page", "screen"):
                self._anonymous_event(str(identifiers["anonymous_id"]),
                                      str(operation.get("name")), seq)
            return
        key = next(((name, str(value)) for name, value in identifiers.items()
                    if name in ("id", "email", "cio_id")), None)
        if key is None:
            return
        if key[0] == "email":
            key = ("email", key[1].lower())
        if action == "identify":
            self._identify(key, dict(operation.get("attributes") or {}))
        elif action in ("event", "page", "screen"):
            self._person(key).events.append((str(operation.get("name")), self._event_id(seq)))

    def _pipelines(self, call: Mapping[str, Any], seq: int) -> None:
        user_id, anonymous_id = call.get("userId"), call.get("anonymousId")
        kind = call.get("type")
        name = str(call.get("event") or call.get("name") or kind)
        if not user_id:
            if anonymous_id and kind in ("track", "page", "screen"):
                self._anonymous_event(str(anonymous_id), name, seq)
            return
        key = identifier_key(str(user_id))
        if kind == "identify":
            attributes = dict(call.get("traits") or {})
            if anonymous_id:
                attributes["anonymous_id"] = anonymous_id
            self._identify(key, attributes)
        elif kind == "alias" and call.get("previousId"):
            self._merge(key, identifier_key(str(call["previousId"])))
        elif kind in ("track", "page", "screen"):
            self._person(key).events.append((name, self._event_id(seq)))

    # ---- the workspace's rules

    def _event_id(self, seq: int | None) -> int | None:
        return self._events.get(seq) if seq is not None else None

    def _person(self, key: tuple[str, str]) -> CustomerIOProfile:
        person = self._index.get(key)
        if person is None:
            person = CustomerIOProfile(identifiers={key[0]: key[1]})
            self._profiles.append(person)
            self._index[key] = person
        return person

    def _identify(self, key: tuple[str, str], attributes: dict[str, Any]) -> None:
        person = self._person(key)
        email = attributes.get("email")
        if isinstance(email, str) and email and key[0] != "email":
            owner = self._index.get(("email", email.lower()))
            if owner is None:
                person.identifiers["email"] = email.lower()
                self._index[("email", email.lower())] = person
            elif owner is not person:
                # Customer.io answers 200 and logs an "Attribute Update Failure".
                self.attribute_conflicts.append(email)
                attributes = {k: v for k, v in attributes.items() if k != "email"}
        anonymous_id = attributes.get("anonymous_id")
        if isinstance(anonymous_id, str) and anonymous_id in self.anonymous:
            waiting = self.anonymous.pop(anonymous_id)
            person.events.extend(waiting)
            person.merged_anonymous += len(waiting)
        person.attributes.update(attributes)

    def _anonymous_event(self, anonymous_id: str, name: str, seq: int | None) -> None:
        self.anonymous.setdefault(anonymous_id, []).append((name, self._event_id(seq)))

    def _merge(self, primary: tuple[str, Any] | None, secondary: tuple[str, Any] | None) -> None:
        if primary is None or secondary is None:
            return
        keep = self._person(_key(primary))
        gone = self._index.get(_key(secondary))
        if gone is None or gone is keep:
            return
        for name, value in gone.identifiers.items():
            keep.identifiers.setdefault(name, value)
            self._index[(name, value)] = keep
        keep.attributes = {**gone.attributes, **keep.attributes}
        keep.events.extend(gone.events)
        keep.merged_anonymous += gone.merged_anonymous
        self._profiles.remove(gone)


def _key(pair: tuple[str, Any]) -> tuple[str, str]:
    name, value = pair
    text = str(value)
    return (name, text.lower()) if name == "email" else (name, text)
