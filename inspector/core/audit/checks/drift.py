"""Drift across events of one name: what a tracking plan would have caught, found without one.

Types, names and formats that change between calls of one event split Customer.io segments
and triggers silently: each check keeps, per (event name, property path), a count and the first
example of each variant it sees, and reports when a second variant appears.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from inspector.core.audit.finding import Finding, FindingSeverity
from inspector.core.audit.framework import AuditContext, SessionCheck
from inspector.core.audit.text import join_names, plural, quoted
from inspector.core.jsontypes import json_type
from inspector.core.observed import ObservedEvent
from inspector.core.people import Person

__all__ = [
    "EventNameDrift",
    "PropertyNameDrift",
    "PropertyTypeDrift",
    "ValueFormatDrift",
    "name_words",
    "property_paths",
]

#: Nesting followed into properties (deeper objects are rare and not segmented on).
_MAX_DEPTH = 6
#: Distinct keys remembered per (event name, object path) by drift.property_name: keys made
#: of ids (one per product) would otherwise make comparing each new key quadratic.
_MAX_KEYS = 200
_TRACK = frozenset({"track"})

Leaf = tuple[str, Any]
Obj = tuple[str, Mapping[str, Any]]


@dataclass(slots=True)
class _First:
    """How often a variant was seen, and where first (with the value, for the message)."""

    event_id: int
    message_id: str | None
    value: Any = None
    count: int = 1

    @property
    def event(self) -> tuple[int, str | None]:
        return self.event_id, self.message_id


def _first(event: ObservedEvent, value: Any = None) -> _First:
    return _First(event.id, event.message_id, value)


def _variants(firsts: Iterable[tuple[str, _First]],
              describe: Callable[[str], str] = str) -> list[dict[str, Any]]:
    """The competing variants as a finding's ``variants`` (the window shows them side by
    side): each with its words (``label``), count, first event and (a number, text or
    boolean) its value there."""
    return [{"variant": variant, "label": describe(variant), "count": first.count,
             "event_id": first.event_id,
             "message_id": first.message_id,
             "value": first.value if isinstance(first.value, str | int | float | bool)
             else None}
            for variant, first in firsts]


def _walk(properties: Mapping[str, Any]) -> tuple[list[Leaf], list[Obj]]:
    leaves: list[Leaf] = []
    objects: list[Obj] = [("", properties)]
    stack: list[tuple[str, Mapping[str, Any], int]] = [("", properties, 0)]
    while stack:
        parent, obj, depth = stack.pop()
        for key, value in obj.items():
            path = f"{parent}.{key}" if parent else key
            leaves.append((path, value))
            if depth >= _MAX_DEPTH:
                continue
            if isinstance(value, dict):
                objects.append((path, value))
                stack.append((path, value, depth + 1))
            elif isinstance(value, list):
                element_path = path + "[]"
                for element in value:
                    leaves.append((element_path, element))
                    if isinstance(element, dict):
                        objects.append((element_path, element))
                        stack.append((element_path, element, depth + 1))
    return leaves, objects


#: The last event walked, with its walk: the drift and items checks see each call in turn,
#: so one entry shares the walk between them. One tuple, read and replaced whole, so two
#: auditors on two threads (the window's and the server's) never mix an event with another's
#: walk; the reference keeps the event alive, so ``is`` is sound.
_last: tuple[ObservedEvent | None, tuple[list[Leaf], list[Obj]]] = (None, ([], []))


def property_paths(event: ObservedEvent) -> tuple[list[Leaf], list[Obj]]:
    """Every ``(path, value)`` of a call's properties (nested objects dotted, array elements
    as ``items[]``), and every object with its path (``""`` for the properties)."""
    global _last
    cached = _last
    if cached[0] is event:
        return cached[1]
    walked = _walk(event.properties)
    _last = (event, walked)
    return walked


_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def _stem(word: str) -> str:
    """A light stemmer for tense and number: completed/complete, added/add, items/item."""
    if len(word) > 4 and word.endswith("ing"):
        word = word[:-3]
    elif len(word) > 3 and word.endswith("ed"):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]  # shipped -> shipp -> ship, cancelled -> cancel
    return word


def name_words(name: str) -> tuple[str, ...]:
    """The words of a name, lowercased and stemmed, split on case changes, underscores,
    hyphens and spaces: ``order_completed`` and ``OrderComplete`` give the same words."""
    return tuple(_stem(word.lower()) for word in _WORD.findall(name))


def _bag(name: str) -> str:
    return " ".join(sorted(name_words(name)))


#: The JSON type of the plain Python types a parsed payload holds, integer and number as one
#: (JSON has one number type): a dict look-up, where json_type's chain of isinstance calls
#: cost a property-heavy session a microsecond per call.
_KINDS = {str: "string", int: "number", float: "number", bool: "boolean", list: "array",
          dict: "object"}


def _kind(value: Any) -> str:
    kind = _KINDS.get(type(value))
    if kind is None:  # a subclass (not from orjson): the general rule
        kind = json_type(value)
        kind = "number" if kind == "integer" else kind
    return kind


_ARTICLES = {"array": "an array", "object": "an object", "integer": "a number"}


def _a(kind: str) -> str:
    return _ARTICLES.get(kind, f"a {kind}")


def _shares(variants: Mapping[str, _First], describe: Any) -> tuple[str, int]:
    total = sum(first.count for first in variants.values())
    parts = [f"{describe(variant)} in {round(100 * first.count / total)}% "
             f"(e.g. {quoted(first.value)})"
             for variant, first in sorted(variants.items(), key=lambda i: (-i[1].count, i[0]))]
    return join_names(parts), total


class _VariantsByPath(SessionCheck):
    """A check counting variants (a type, a format) per (event name, property path)."""

    call_types = _TRACK

    def __init__(self) -> None:
        super().__init__()
        self._variants: dict[str, dict[str, dict[str, _First]]] = {}
        self._keys: dict[str, tuple[str, str]] = {}

    def _counted(self, name: str, path: str, variant: str, event: ObservedEvent,
                 value: Any, variants: dict[str, _First]) -> None:
        """A variant seen again, or for the first time, at a path seen before."""
        first = variants.get(variant)
        if first is None:
            variants[variant] = _First(event.id, event.message_id, value)
        else:
            first.count += 1
        if len(variants) > 1:
            key = f"{name}|{path}"
            self._keys[key] = (name, path)
            self.mark(key)

    def _paths(self, name: str) -> dict[str, dict[str, _First]]:
        paths = self._variants.get(name)
        if paths is None:
            paths = self._variants[name] = {}
        return paths

    def _of(self, key: str) -> tuple[str, str, dict[str, _First]]:
        name, path = self._keys[key]
        return name, path, self._variants[name][path]


class PropertyTypeDrift(_VariantsByPath):
    """One event name carrying a property with different JSON types across the session."""

    id = "drift.property_type"
    area = "drift"
    severity = FindingSeverity.ERROR
    title = "Property sent with different types"

    def observe(self, event: ObservedEvent, person: Person | None, ctx: AuditContext) -> None:
        name = event.name
        if not name or not event.properties:
            return
        paths = self._paths(name)
        kinds = _KINDS
        # The loop runs for every property of every track call: the common case (the same
        # type at a known path) is two dict look-ups and an increment, inline.
        for path, value in property_paths(event)[0]:
            kind = kinds.get(type(value))
            if kind is None:
                if value is None:  # null is "not sent", not a type of its own
                    continue
                kind = _kind(value)
            variants = paths.get(path)
            if variants is None:
                paths[path] = {kind: _First(event.id, event.message_id, value)}
                continue
            first = variants.get(kind)
            if first is not None and len(variants) == 1:
                first.count += 1
            else:
                self._counted(name, path, kind, event, value, variants)

    def check_key(self, key: str, ctx: AuditContext) -> Iterable[Finding]:
        name, path, types = self._of(key)
        shares, total = _shares(types, _a)
        return (self.finding(
            ctx, key=key,
            message=(f"{name} sends {path} as {shares} of {plural(total, 'value')}: "
                     "Customer.io segments, trigger filters and Liquid compare one type, so "
                     "the events sending the other silently fall out of them."),
            events=[first.event for first in types.values()],
            event=name, path=path, types={kind: first.count for kind, first in types.items()},
            variants=_variants(types.items(), _a),
        ),)


class EventNameDrift(SessionCheck):
    """Event names that are the same words in another case, separator, order or tense."""

    id = "drift.event_name"
    area = "drift"
    severity = FindingSeverity.ERROR
    title = "One event under several names"
    call_types = _TRACK

    def __init__(self) -> None:
        super().__init__()
        #: Names by their word bag, each with its count and first call.
        self._groups: dict[str, dict[str, _First]] = {}
        self._bags: dict[str, str] = {}
        self._planned: dict[str, list[str]] | None = None

    def _plan(self, ctx: AuditContext) -> dict[str, list[str]]:
        """The plan's names by word bag (the configuration is frozen: built once)."""
        if self._planned is None:
            self._planned = {}
            for planned in dict.fromkeys(ctx.config.planned_events):
                self._planned.setdefault(_bag(planned), []).append(planned)
        return self._planned

    def observe(self, event: ObservedEvent, person: Person | None, ctx: AuditContext) -> None:
        name = event.name
        if not name:
            return
        bag = self._bags.get(name)
        if bag is None:
            bag = self._bags[name] = _bag(name)
        group = self._groups.get(bag)
        if group is None:
            group = self._groups[bag] = {}
        first = group.get(name)
        if first is None:
            group[name] = _first(event, name)
        else:
            first.count += 1
        planned = self._plan(ctx).get(bag)
        if len(group) > 1 or (planned and name not in planned):
            self.mark(bag)

    def check_key(self, key: str, ctx: AuditContext) -> Iterable[Finding]:
        group = self._groups[key]
        planned = self._plan(ctx).get(key, [])
        if len(group) < 2 and all(name in planned for name in group):
            return ()
        ordered = sorted(group.items(), key=lambda item: (-item[1].count, item[0]))
        variants = [f"{quoted(name)} ({plural(first.count, 'call')})" for name, first in ordered]
        if len(variants) == 1:
            what = (f"{variants[0]} is the tracking plan's {join_names(map_quoted(planned))} "
                    "spelled differently")
        else:
            what = f"{join_names(variants)} are one event name spelled differently"
            if planned:
                what += f" (the tracking plan says {join_names(map_quoted(planned))})"
        return (self.finding(
            ctx, key=key,
            message=(f"{what}: Customer.io treats each spelling as its own event, so a "
                     "campaign triggered on one misses the others."),
            events=[first.event for _, first in ordered],
            names={name: first.count for name, first in ordered}, planned=planned,
            variants=_variants(ordered),
        ),)


def map_quoted(names: Sequence[str]) -> list[str]:
    """Names in quotes, as messages show them."""
    return [quoted(name) for name in names]


#: Nouns a property name may carry as a prefix or suffix and still be the same property
#: (``cart_total`` / ``total``), besides the words of the event's own name.
_COMMERCE_NOUNS = frozenset(_stem(noun) for noun in (
    "cart", "order", "checkout", "product", "item", "event"))


def _alike(a: tuple[str, ...], b: tuple[str, ...], nouns: frozenset[str]) -> bool:
    """Whether two property names look like one: the same words, or one is the other with
    nouns of the event before or after it."""
    if sorted(a) == sorted(b):
        return True
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    extra = len(longer) - len(shorter)
    if not shorter or extra == 0:
        return False
    return ((longer[extra:] == shorter and set(longer[:extra]) <= nouns)
            or (longer[:len(shorter)] == shorter and set(longer[len(shorter):]) <= nouns))


@dataclass(slots=True)
class _Keys:
    """The keys seen in one object of one event name, with the look-alike pairs among them."""

    nouns: frozenset[str]
    seen: dict[str, _First] = field(default_factory=dict)
    words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    partners: dict[str, list[str]] = field(default_factory=dict)
    #: Look-alike pairs (sorted) and whether they were ever sent together.
    together: dict[tuple[str, str], bool] = field(default_factory=dict)


class PropertyNameDrift(SessionCheck):
    """Within one event name, two keys that never occur together and look like one property."""

    id = "drift.property_name"
    area = "drift"
    severity = FindingSeverity.WARNING
    title = "One property under two names"
    call_types = _TRACK

    def __init__(self) -> None:
        super().__init__()
        self._objects: dict[tuple[str, str], _Keys] = {}
        self._keys: dict[str, tuple[str, str, str, str]] = {}

    def observe(self, event: ObservedEvent, person: Person | None, ctx: AuditContext) -> None:
        name = event.name
        if not name or not event.properties:
            return
        for parent, obj in property_paths(event)[1]:
            state = self._objects.get((name, parent))
            if state is None:
                state = self._objects[(name, parent)] = _Keys(
                    frozenset(name_words(name)) | _COMMERCE_NOUNS)
            for key in obj:
                first = state.seen.get(key)
                if first is not None:
                    first.count += 1
                elif len(state.seen) < _MAX_KEYS:
                    self._add_key(state, key, event)
                else:
                    continue
                for other in state.partners.get(key, ()):
                    pair = (key, other) if key < other else (other, key)
                    if state.together[pair]:
                        continue
                    if other in obj:
                        state.together[pair] = True
                    finding_key = f"{name}|{parent}|{pair[0]}|{pair[1]}"
                    self._keys[finding_key] = (name, parent, *pair)
                    self.mark(finding_key)

    @staticmethod
    def _add_key(state: _Keys, key: str, event: ObservedEvent) -> None:
        words = name_words(key)
        for other, other_words in state.words.items():
            if _alike(words, other_words, state.nouns):
                state.partners.setdefault(key, []).append(other)
                state.partners.setdefault(other, []).append(key)
                state.together[(key, other) if key < other else (other, key)] = False
        state.seen[key] = _first(event)
        state.words[key] = words

    def check_key(self, key: str, ctx: AuditContext) -> Iterable[Finding]:
        name, parent, first_key, second_key = self._keys[key]
        state = self._objects[(name, parent)]
        if state.together[(first_key, second_key)]:
            return ()
        (main, main_seen), (other, other_seen) = sorted(
            ((k, state.seen[k]) for k in (first_key, second_key)),
            key=lambda item: (-item[1].count, item[0]))

        def path(k: str) -> str:
            return f"{parent}.{k}" if parent else k

        return (self.finding(
            ctx, key=key,
            message=(f"{name} sends one property under two names that never appear together: "
                     f"{path(main)} ({plural(main_seen.count, 'time')}) and {path(other)} "
                     f"({plural(other_seen.count, 'time')}): a Customer.io segment built on "
                     "one of them (like Cart Value > $75 on cart_total) misses every event "
                     "that sends the other."),
            events=[main_seen.event, other_seen.event],
            event=name, names={path(main): main_seen.count, path(other): other_seen.count},
            variants=_variants(((path(main), main_seen), (path(other), other_seen))),
        ),)


#: Active ISO 4217 codes: a three-letter value is a currency code only if it is one of them
#: (so "red" and "XXL" variants are not).
_ISO_4217 = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN "
    "BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD "
    "FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY "
    "KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP "
    "MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR "
    "RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SYP SZL THB TJS TMT TND "
    "TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL"
)
_CURRENCY_CODES = frozenset(_ISO_4217.split())
_CURRENCY_SIGNS = "£$€¥₹₩₽"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
                       r"(?:Z|[+-]\d{2}:?\d{2})?)?")
_SLASH_DATE = re.compile(r"\d{1,2}/\d{1,2}/\d{2,4}")
_DOTTED_DATE = re.compile(r"\d{1,2}\.\d{1,2}\.\d{4}")
_NUMBER_TEXT = re.compile(r"-?\d+(?:[.,]\d+)?")
_SIGNED_AMOUNT = re.compile(rf"[{_CURRENCY_SIGNS}]\s?-?\d[\d,]*(?:\.\d+)?|"
                            rf"-?\d[\d,]*(?:[.,]\d+)?\s?[{_CURRENCY_SIGNS}]")

#: Format classes as messages name them.
FORMATS = {
    "iso_date": "an ISO date",
    "slash_date": "a dd/mm/yyyy or mm/dd/yyyy date",
    "dotted_date": "a dd.mm.yyyy date",
    "number_text": "a number as text",
    "signed_amount": "an amount with a currency sign",
    "code_upper": "an upper-case currency code",
    "code_lower": "a lower-case currency code",
    "code_mixed": "a mixed-case currency code",
}


def value_format(value: str) -> str | None:
    """The format class of a string value (``None``: free text, not one of the classes)."""
    if not value:
        return None
    head = value[0]
    if head.isdigit() or head == "-":
        if _ISO_DATE.fullmatch(value):
            return "iso_date"
        if _SLASH_DATE.fullmatch(value):
            return "slash_date"
        if _DOTTED_DATE.fullmatch(value):
            return "dotted_date"
        if _NUMBER_TEXT.fullmatch(value):
            return "number_text"
        return "signed_amount" if _SIGNED_AMOUNT.fullmatch(value) else None
    if head in _CURRENCY_SIGNS:
        return "signed_amount" if _SIGNED_AMOUNT.fullmatch(value) else None
    if len(value) == 3 and value.upper() in _CURRENCY_CODES:
        if value.isupper():
            return "code_upper"
        return "code_lower" if value.islower() else "code_mixed"
    return None


#: Format classes remembered by value (cleared when full: order ids never repeat).
_KNOWN_VALUES = 4096
_UNKNOWN = "?"


class ValueFormatDrift(_VariantsByPath):
    """One property whose string values change format (GBP/gbp, ISO dates vs 12/01/2026)."""

    id = "drift.value_format"
    area = "drift"
    severity = FindingSeverity.WARNING
    title = "Property values in several formats"

    def __init__(self) -> None:
        super().__init__()
        self._known: dict[str, str | None] = {}

    def observe(self, event: ObservedEvent, person: Person | None, ctx: AuditContext) -> None:
        name = event.name
        if not name or not event.properties:
            return
        paths: dict[str, dict[str, _First]] | None = None
        known = self._known
        for path, value in property_paths(event)[0]:
            if type(value) is not str:
                continue
            # SKUs, names and currencies repeat call after call: their class is a look-up.
            kind = known.get(value, _UNKNOWN)
            if kind is _UNKNOWN:
                if len(known) >= _KNOWN_VALUES:
                    known.clear()
                kind = known[value] = value_format(value)
            if kind is None:
                continue
            if paths is None:
                paths = self._paths(name)
            variants = paths.get(path)
            if variants is None:
                paths[path] = {kind: _First(event.id, event.message_id, value)}
            else:
                self._counted(name, path, kind, event, value, variants)

    def check_key(self, key: str, ctx: AuditContext) -> Iterable[Finding]:
        name, path, formats = self._of(key)
        shares, total = _shares(formats, FORMATS.__getitem__)
        return (self.finding(
            ctx, key=key,
            message=(f"{name} sends {path} in {len(formats)} formats: {shares} of "
                     f"{plural(total, 'value')}. Customer.io compares text exactly, so a "
                     "segment, filter or Liquid check written for one format misses the "
                     "others."),
            events=[first.event for first in formats.values()],
            event=name, path=path, formats={kind: first.count for kind, first in formats.items()},
            variants=_variants(formats.items(), FORMATS.__getitem__),
        ),)
