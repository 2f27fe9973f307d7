"""Item payloads for personalisation: what a cart-recovery or order email needs to list."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from inspector.core.audit.finding import Finding, FindingSeverity
from inspector.core.audit.framework import EXAMPLES, AuditContext, SessionCheck
from inspector.core.audit.text import join_names, plural
from inspector.core.observed import ObservedEvent
from inspector.core.people import Person

__all__ = ["ItemsIncomplete", "ItemsTotalMismatch", "event_items", "item_array", "items_sum"]

_TRACK = frozenset({"track"})
#: The pseudo-field of a call that carries no items at all.
NO_ITEMS = "items"


@dataclass(slots=True)
class _Tally:
    """Calls (and items) short of one field, with the first few calls."""

    calls: int = 0
    items: int = 0
    events: list[tuple[int, str | None]] = field(default_factory=list)

    def add(self, event: ObservedEvent, items: int = 0) -> None:
        self.calls += 1
        self.items += items
        if len(self.events) < EXAMPLES:
            self.events.append((event.id, event.message_id))


@dataclass(slots=True)
class _PerEvent:
    """One event name's calls and item elements so far, and its tallies by missing field."""

    calls: int = 0
    items: int = 0
    missing: dict[str, _Tally] = field(default_factory=dict)


def item_array(properties: Mapping[str, Any]) -> list[Any] | None:
    """A call's non-empty ``items[]``, else its ``products[]`` (Segment's v2 name)."""
    for name in ("items", "products"):
        value = properties.get(name)
        if isinstance(value, list) and value:
            return value
    return None


def event_items(properties: Mapping[str, Any],
                item_fields: Sequence[str]) -> list[Any] | None:
    """A call's items: ``items[]``, else ``products[]``, else the properties themselves when
    they carry item fields (Segment's Product Added puts the one product at the top level);
    ``None`` when there are none."""
    array = item_array(properties)
    if array is not None:
        return array
    if any(name in properties for name in item_fields):
        return [properties]
    return None


def _blank(value: Any) -> bool:
    return value is None or value == ""


class ItemsIncomplete(SessionCheck):
    """Cart, checkout and order events whose items lack a field item-level emails need, or
    that carry no cart_id (order events: order_id)."""

    id = "items.incomplete"
    area = "items"
    severity = FindingSeverity.ERROR
    title = "Items missing what recovery emails need"
    call_types = _TRACK

    def __init__(self) -> None:
        super().__init__()
        self._events: dict[str, _PerEvent] = {}

    def observe(self, event: ObservedEvent, person: Person | None, ctx: AuditContext) -> None:
        name = event.name
        config = ctx.config
        if not name or name not in config.item_events:
            return
        per = self._events.get(name)
        if per is None:
            per = self._events[name] = _PerEvent()
        per.calls += 1
        properties = event.properties
        items = event_items(properties, config.item_fields)
        if items is None:
            self._tally(per, NO_ITEMS).add(event)
        else:
            per.items += len(items)
            fields = config.item_fields
            short: dict[str, int] = {}
            for item in items:  # items outer, fields inner: no generator per field
                for wanted in fields:
                    value = item.get(wanted) if isinstance(item, dict) else None
                    if value is None or value == "":
                        short[wanted] = short.get(wanted, 0) + 1
            for wanted, count in short.items():
                self._tally(per, wanted).add(event, count)
        id_field = config.item_events[name]
        if id_field and _blank(properties.get(id_field)):
            self._tally(per, id_field).add(event)
        # The shares in every message of this event name changed.
        for missing in per.missing:
            self.mark(f"{name}|{missing}")

    @staticmethod
    def _tally(per: _PerEvent, missing: str) -> _Tally:
        tally = per.missing.get(missing)
        if tally is None:
            tally = per.missing[missing] = _Tally()
        return tally

    def check_key(self, key: str, ctx: AuditContext) -> Iterable[Finding]:
        name, _, missing = key.rpartition("|")
        per = self._events[name]
        tally = per.missing[missing]
        calls = f"{tally.calls} of {plural(per.calls, name + ' call')}"
        one = tally.calls == 1
        if missing == NO_ITEMS:
            message = (f"{calls} {'carries' if one else 'carry'} no items[] (or products[]): "
                       "item-level emails (cart recovery, order confirmation) have no "
                       "products to list.")
        elif missing in ctx.config.item_fields:
            message = (f"{missing} is missing from {tally.items} of "
                       f"{plural(per.items, 'item')} in {calls}: item-level cart recovery "
                       f"needs {join_names(list(ctx.config.item_fields))} on every item to "
                       "show and rebuild the cart.")
        else:
            thing = missing.removesuffix("_id")
            message = (f"{calls} {'has' if one else 'have'} no {missing}: without it "
                       f"Customer.io cannot tie the events of one {thing} together or tell a "
                       f"repeat from a new {thing}.")
        return (self.finding(
            ctx, key=key, message=message, events=tally.events,
            event=name, missing=missing, calls=tally.calls, of_calls=per.calls,
            items=tally.items,
        ),)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def items_sum(items: Sequence[Any]) -> float | None:
    """The sum of price x quantity, or ``None`` when an item lacks a numeric one."""
    total = 0.0
    for item in items:
        if not isinstance(item, dict):
            return None
        price, quantity = _number(item.get("price")), _number(item.get("quantity"))
        if price is None or quantity is None:
            return None
        total += price * quantity
    return total


@dataclass(slots=True)
class _Mismatches:
    checked: int = 0
    count: int = 0
    first: tuple[float, float] = (0.0, 0.0)
    events: list[tuple[int, str | None]] = field(default_factory=list)


class ItemsTotalMismatch(SessionCheck):
    """``total`` differs from the sum of price x quantity beyond the configured tolerance."""

    id = "items.total_mismatch"
    area = "items"
    severity = FindingSeverity.WARNING
    title = "Total differs from the items' sum"
    call_types = _TRACK

    def __init__(self) -> None:
        super().__init__()
        self._events: dict[str, _Mismatches] = {}

    def observe(self, event: ObservedEvent, person: Person | None, ctx: AuditContext) -> None:
        name = event.name
        config = ctx.config
        if not name or name not in config.item_events:
            return
        properties = event.properties
        total = _number(properties.get("total"))
        items = item_array(properties)
        if total is None or items is None:
            return
        summed = items_sum(items)
        if summed is None:  # a price as text is drift.property_type's to report
            return
        state = self._events.get(name)
        if state is None:
            state = self._events[name] = _Mismatches()
        state.checked += 1
        tolerance = max(config.item_total_tolerance_absolute,
                        config.item_total_tolerance_relative * abs(summed))
        if abs(total - summed) > tolerance:
            if not state.count:
                state.first = (total, summed)
            state.count += 1
            if len(state.events) < EXAMPLES:
                state.events.append((event.id, event.message_id))
        if state.count:
            self.mark(name)

    def check_key(self, key: str, ctx: AuditContext) -> Iterable[Finding]:
        state = self._events[key]
        total, summed = state.first
        config = ctx.config
        return (self.finding(
            ctx, key=key,
            message=(f"{key}'s total differs from the sum of its items' price x quantity in "
                     f"{state.count} of {plural(state.checked, 'call')}, by more than "
                     f"{config.item_total_tolerance_absolute:g} or "
                     f"{100 * config.item_total_tolerance_relative:g}%: e.g. total "
                     f"{total:.2f} against items summing to {summed:.2f}. Order emails and "
                     "revenue segments will disagree with the items they list."),
            events=state.events, event=key, calls=state.count, of_calls=state.checked,
            total=total, items_sum=summed,
        ),)
