"""Where calls come from: backend-only events from clients, two emitters, unnamed write keys."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from inspector.core.audit.config import LIBRARY_CLASSES
from inspector.core.audit.finding import Finding, FindingSeverity
from inspector.core.audit.framework import EXAMPLES, AuditContext, Examples, SessionCheck
from inspector.core.audit.text import join_names, plural, quoted
from inspector.core.observed import ObservedEvent
from inspector.core.people import Person

__all__ = ["ClientSideEvent", "DuplicateEmitters", "UnknownWriteKey"]

#: Libraries that run on the shopper's device, where ad blockers and redirects lose calls.
_CLIENT_LIBRARIES = LIBRARY_CLASSES["browser"] | LIBRARY_CLASSES["mobile"]


class ClientSideEvent(SessionCheck):
    """A backend-only event (``Order Completed``...) sent from a browser or app library."""

    id = "source.client_side_event"
    area = "sources"
    severity = FindingSeverity.ERROR
    title = "Backend-only event sent from a client"
    call_types = frozenset({"track"})

    def __init__(self) -> None:
        super().__init__()
        self._calls: dict[str, Examples] = {}
        self._shown: dict[str, tuple[str, str, str]] = {}

    def observe(self, event: ObservedEvent, person: Person | None, ctx: AuditContext) -> None:
        library, name = event.library_name, event.name
        if (library is None or name is None or library not in _CLIENT_LIBRARIES
                or name not in ctx.config.backend_only_events):
            return
        key = f"{name}|{event.source}"
        examples = self._calls.get(key)
        if examples is None:
            examples = self._calls[key] = Examples()
            self._shown[key] = (name, event.source, library)
        examples.add(event)
        self.mark(key)

    def check_key(self, key: str, ctx: AuditContext) -> Iterable[Finding]:
        name, source, library = self._shown[key]
        examples = self._calls[key]
        sender = source if source == library else f"{source} ({library})"
        return (self.finding(
            ctx, key=key,
            message=(f"{name} is sent from {sender} on {plural(examples.count, 'call')}: "
                     "ad blockers and payment redirects lose client-side calls like this "
                     f"(orders above all), so Customer.io misses some {name} and the "
                     "campaigns and revenue built on it fall short. Send it from the backend."),
            events=examples.events, event=name, source=source, library=library,
            calls=examples.count,
        ),)


@dataclass(slots=True)
class _Emitters:
    """The sources that sent one business event, with the first call of each."""

    first: dict[str, tuple[int, str | None]] = field(default_factory=dict)
    count: int = 0


class DuplicateEmitters(SessionCheck):
    """One business event (same name and ``order_id``, or ``cart_id``) sent by two sources."""

    id = "source.duplicate_emitters"
    area = "sources"
    severity = FindingSeverity.WARNING
    title = "Same business event sent by two sources"
    call_types = frozenset({"track"})

    def __init__(self) -> None:
        super().__init__()
        #: Until a second source appears a key holds only its first source and call: one
        #: tuple per order, not an object.
        self._first: dict[str, tuple[str, int, str | None, int]] = {}
        self._shared: dict[str, _Emitters] = {}
        self._shown: dict[str, tuple[str, str, str]] = {}

    def observe(self, event: ObservedEvent, person: Person | None, ctx: AuditContext) -> None:
        properties = event.properties
        field_name = "order_id"
        value = properties.get("order_id")
        if value is None or value == "":
            field_name, value = "cart_id", properties.get("cart_id")
            if value is None or value == "":
                return
        if not isinstance(value, str | int | float):
            return
        key = f"{event.name}|{field_name}|{value}"
        shared = self._shared.get(key)
        if shared is None:
            first = self._first.get(key)
            if first is None:
                self._first[key] = (event.source, event.id, event.message_id, 1)
                return
            if first[0] == event.source:
                self._first[key] = (*first[:3], first[3] + 1)
                return
            shared = self._shared[key] = _Emitters({first[0]: (first[1], first[2])}, first[3])
            self._shown[key] = (event.name or "", field_name, str(value))
        shared.count += 1
        if event.source not in shared.first:
            shared.first[event.source] = (event.id, event.message_id)
        self.mark(key)

    def check_key(self, key: str, ctx: AuditContext) -> Iterable[Finding]:
        name, field_name, value = self._shown[key]
        shared = self._shared[key]
        sources = sorted(shared.first)
        return (self.finding(
            ctx, key=key,
            message=(f"{name} with {field_name} {quoted(value)} is sent by "
                     f"{join_names(sources)} ({plural(shared.count, 'call')}): Customer.io "
                     "counts it and triggers its campaigns once per call. Send it from one "
                     "source."),
            events=shared.first.values(), event=name, field=field_name, value=value,
            sources=sources, calls=shared.count,
        ),)


class UnknownWriteKey(SessionCheck):
    """Calls whose write key has no name in the session: a source nobody has accounted for."""

    id = "source.unknown_write_key"
    area = "sources"
    severity = FindingSeverity.WARNING
    title = "Calls from an unnamed write key"

    def __init__(self) -> None:
        super().__init__()
        self._keys: dict[str, Examples] = {}
        self._libraries: dict[str, set[str]] = {}

    def observe(self, event: ObservedEvent, person: Person | None, ctx: AuditContext) -> None:
        if event.write_key_named:
            return
        key = event.write_key or ""
        examples = self._keys.get(key)
        if examples is None:
            examples = self._keys[key] = Examples()
            self._libraries[key] = set()
        examples.add(event)
        libraries = self._libraries[key]
        if event.library_name and len(libraries) < EXAMPLES:
            libraries.add(event.library_name)
        self.mark(key)

    def check_key(self, key: str, ctx: AuditContext) -> Iterable[Finding]:
        examples = self._keys[key]
        libraries = sorted(self._libraries[key])
        which = f"write key {quoted(key)}" if key else "no write key"
        sent_by = f" (library {join_names(libraries)})" if libraries else ""
        return (self.finding(
            ctx, key=key,
            message=(f"{plural(examples.count, 'call')} came with {which}{sent_by}, which "
                     "has no name in this session: a source nobody has accounted for can "
                     "write traits and trigger campaigns in Customer.io. Name the key or "
                     "revoke it."),
            events=examples.events, write_key=key or None, libraries=libraries,
            calls=examples.count,
        ),)
