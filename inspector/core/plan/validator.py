"""Validating one Segment call against a loaded tracking plan.

This runs on the ingest path for every captured event, so the common case is kept short: two
string-keyed dict lookups find the rule, and one jsonschema_rs ``is_valid`` call on the
event's ``properties``/``traits`` against the rule's *strict* schema (the rule plus
``additionalProperties: false`` where the plan lists names, see compile.py) answers "valid,
nothing unplanned" (~3 µs for a 1 KB event). Only an event that fails that goes further:

* a names-only validator says whether anything is unplanned;
* :mod:`~inspector.core.plan.explain` names the schema violations with small per-property
  validators instead of jsonschema_rs ``iter_errors`` (which builds a costly Python error object
  per error);
* violations, being frozen, are cached and shared wherever their text cannot differ.

A validator holds no mutable state apart from caches whose entries never change once stored
(racing threads store equal values), so one instance can serve every thread.
"""

from __future__ import annotations

import logging
from typing import Any

from inspector.core.model import Severity, Source, Status, Violation, ViolationKind
from inspector.core.plan.compile import (
    CompiledPlan,
    CompiledRule,
    KeyTree,
    explain_tree,
    names_validator,
)
from inspector.core.plan.explain import Node
from inspector.core.plan.messages import field_path, json_type
from inspector.core.plan.rules import CALL_TYPES, RuleType
from inspector.core.plan.suggest import Suggester

__all__ = ["PlanValidator"]

_CALLS = {rule_type: call for call, rule_type in CALL_TYPES.items()}
#: Entries hold one level's violations (~300 bytes each); cleared when full.
_UNPLANNED_CACHE_SIZE = 2048
# Module globals: reading an enum member off its class runs the enum metaclass (~0.2 µs, a
# noticeable share of a 3 µs event).
_VALID = Status.VALID
_INVALID = Status.INVALID
_ERROR = Severity.ERROR
_PLAN = Source.PLAN

_log = logging.getLogger(__name__)

#: A rule's versions by number, and the oldest (the default). ``by_version`` is None when there
#: is only one version: then the event's ``context.protocols.event_version`` cannot matter and
#: is not even read.
_Versions = tuple[dict[int | None, CompiledRule] | None, CompiledRule]


class PlanValidator:
    """Checks Segment calls against one tracking plan and names every violation.

    ``validate`` returns VALID, INVALID or UNPLANNED (never MALFORMED: Segment's own drop rules
    belong to the ingest layer, which overrides the status). Warnings (allowed unplanned
    properties and traits) are reported without changing the status.
    """

    def __init__(self, compiled: CompiledPlan) -> None:
        self.compiled = compiled
        self.plan = plan = compiled.plan
        # Rules by call type ("track", the payload's own string), then by key: two lookups on
        # plain strings. Keying one dict by (RuleType, key) tuples cost more than validating a
        # small event, as hashing a StrEnum member runs Python code.
        self._tables: dict[str, dict[str | None, _Versions]] = {call: {} for call in CALL_TYPES}
        self._common: _Versions | None = None
        for (rule_type, key), versions in compiled.rules.items():
            if not versions:
                continue
            by_version: dict[int | None, CompiledRule] = {c.rule.version: c for c in versions}
            entry = (by_version if len(by_version) > 1 else None, versions[0])
            if rule_type is RuleType.COMMON:
                self._common = entry
            else:
                self._tables[_CALLS[rule_type]][key] = entry
        self._events = Suggester(plan.track_keys())
        self._members: dict[int, Suggester] = {}
        #: Suggesters for nested levels' names by id(KeyTree), built on first use.
        self._nested: dict[int, Suggester] = {}
        #: A level's unplanned-name violations by (id(KeyTree), path, the level's names).
        self._unplanned_cache: dict[tuple[Any, ...], list[Violation]] = {}
        #: explain trees by (id(compiled rule), member?): built on a rule's first failure.
        self._trees: dict[tuple[int, bool], Node] = {}
        #: compile.names_validator by id(compiled rule), built on a rule's first failure.
        self._name_checks: dict[int, Any] = {}
        settings = plan.settings
        self._event_severity = (
            Severity.WARNING if settings.allow_unplanned_track_events else Severity.ERROR
        )
        self._member_severity = {
            RuleType.TRACK: settings.allow_unplanned_track_event_properties,
            RuleType.PAGE: settings.allow_unplanned_track_event_properties,
            RuleType.SCREEN: settings.allow_unplanned_track_event_properties,
            RuleType.IDENTIFY: settings.allow_unplanned_identify_traits,
            RuleType.GROUP: settings.allow_unplanned_group_traits,
        }
        for versions in compiled.rules.values():
            for rule in versions:
                if rule.keys is not None and rule.keys.planned is not None:
                    self._members[id(rule)] = Suggester(rule.keys.planned)

    def validate(self, payload: dict[str, Any]) -> tuple[Status, list[Violation]]:
        """The status of one call and all its violations; never raises."""
        try:
            return self._validate(payload)
        except Exception:  # a validator bug must not take the ingest path down
            _log.exception("tracking-plan validation failed")
            return Status.INVALID, [
                Violation(
                    kind=ViolationKind.JSON_SCHEMA,
                    field="",
                    message="The event could not be validated (internal error, see the log)",
                    source=_PLAN,
                )
            ]

    def rule_for(self, payload: dict[str, Any]) -> CompiledRule | None:
        """The rule version that applies to ``payload`` (None: unplanned or no rule)."""
        call = payload.get("type")
        table = self._tables.get(call) if isinstance(call, str) else None
        if table is None:
            return None
        return self._select(self._lookup(call, table, payload), payload)

    # ---- internals

    def _validate(self, payload: Any) -> tuple[Status, list[Violation]]:
        if not isinstance(payload, dict):
            return Status.INVALID, [
                Violation(
                    kind=ViolationKind.JSON_SCHEMA,
                    field="",
                    message=f"Invalid type. Expected: object, given: {json_type(payload)}",
                    source=_PLAN,
                )
            ]
        violations: list[Violation] = []
        status = _VALID
        if self._common is not None:
            self._check(self._select(self._common, payload), payload, violations, common=True)
        call = payload.get("type")
        table = self._tables.get(call) if isinstance(call, str) else None
        if table is not None:
            if call == "track":
                event = payload.get("event")
                versions = table.get(event) if isinstance(event, str) else None
            else:
                versions = self._lookup(call, table, payload)
            if versions is not None:
                compiled = versions[1] if versions[0] is None else versions[0].get(
                    _event_version(payload), versions[1])
                # The usual event, inlined (each Python call here is ~5% of a valid event):
                # its properties/traits pass the strict validator.
                strict = compiled.strict_validator
                value = payload.get(compiled.member) if strict is not None else None
                if type(value) is dict:
                    if not strict.is_valid(value):
                        self._failed_strict(compiled, value, violations, False)
                else:
                    self._check(compiled, payload, violations, common=False)
            elif call == "track" and isinstance(payload.get("event"), str):
                status = Status.UNPLANNED
                violations.insert(0, self._unplanned_event(payload["event"]))
        if violations and status is _VALID:
            for violation in violations:
                if violation.severity is _ERROR:
                    status = _INVALID
                    break
        return status, violations

    @staticmethod
    def _lookup(
        call: Any, table: dict[str | None, _Versions], payload: dict[str, Any]
    ) -> _Versions | None:
        if call == "track":
            event = payload.get("event")
            return table.get(event) if isinstance(event, str) else None
        if call == "page" or call == "screen":
            name = payload.get("name")
            if isinstance(name, str):
                found = table.get(name)
                if found is not None:
                    return found
        return table.get(None)

    @staticmethod
    def _select(versions: _Versions | None, payload: dict[str, Any]) -> CompiledRule | None:
        if versions is None:
            return None
        by_version, oldest = versions
        if by_version is None:
            return oldest
        return by_version.get(_event_version(payload), oldest)

    def _check(
        self,
        compiled: CompiledRule | None,
        payload: dict[str, Any],
        out: list[Violation],
        *,
        common: bool,
    ) -> None:
        if compiled is None:
            return
        value = payload.get(compiled.member) if compiled.member else None
        member_validator = compiled.member_validator
        keys = compiled.keys
        if member_validator is not None and type(value) is dict:
            strict = compiled.strict_validator
            if strict is not None:
                if not strict.is_valid(value):
                    self._failed_strict(compiled, value, out, common)
                return  # passing: the common case, valid and nothing unplanned
            if not member_validator.is_valid(value):
                self._tree(compiled, True).collect(value, (compiled.member,), out, common)
        elif not compiled.validator.is_valid(payload):
            self._tree(compiled, False).collect(payload, (), out, common)
        # Cheap structural pass first; the path-building walk only runs on a hit.
        if keys is not None and type(value) is dict and value and not _all_planned(keys, value):
            self._unplanned(compiled, keys, value, (compiled.member,), out)

    def _failed_strict(
        self, compiled: CompiledRule, value: dict[str, Any], out: list[Violation], common: bool
    ) -> None:
        """Name what failed ``compiled.strict_validator`` on ``value``: schema or names."""
        # Names first (one cheap is_valid): when some are unplanned (a plan lagging behind its
        # senders: every event), one member_validator call tells whether the schema passes
        # too, instead of the tree's is_valid per property.
        tree = self._tree(compiled, True)
        keys = compiled.keys
        if keys is not None and value and not self._names(compiled).is_valid(value):
            if not compiled.member_validator.is_valid(value):
                tree.collect(value, (compiled.member,), out, common)
            self._unplanned(compiled, keys, value, (compiled.member,), out)
        else:
            # The schema failed: the tree checks each part itself, so running
            # member_validator first would only repeat work.
            tree.explain(value, (compiled.member,), out, common)

    def _names(self, compiled: CompiledRule) -> Any:
        found = self._name_checks.get(id(compiled))
        if found is None:
            found = self._name_checks[id(compiled)] = names_validator(compiled)
        return found

    def _tree(self, compiled: CompiledRule, member: bool) -> Node:
        key = (id(compiled), member)
        tree = self._trees.get(key)
        if tree is None:
            # Two threads may both build it; either result is the same, and the store atomic.
            tree = self._trees[key] = explain_tree(compiled, member=member)
        return tree

    def _unplanned(
        self,
        compiled: CompiledRule,
        tree: KeyTree,
        value: Any,
        path: tuple[str | int, ...],
        out: list[Violation],
    ) -> None:
        if isinstance(value, dict):
            planned = tree.planned
            if planned is not None and not value.keys() <= planned:
                # What this level reports depends only on the level, the path and the event's
                # names there, in order (the message holds the path; the suggestion skips the
                # planned names present), and violations are frozen: build them once. Building
                # them (path, message, suggestion, dataclass) cost ~6 µs per unplanned key,
                # paid for every event of a plan that lags behind its senders.
                cache_key = (id(tree), path, tuple(value))
                found = self._unplanned_cache.get(cache_key)
                if found is None:
                    found = [
                        self._unplanned_member(compiled, tree, value, [*path, key])
                        for key in value
                        if key not in planned
                    ]
                    if len(self._unplanned_cache) >= _UNPLANNED_CACHE_SIZE:
                        self._unplanned_cache.clear()
                    self._unplanned_cache[cache_key] = found
                out.extend(found)
            for name, child in tree.children.items():
                if name in value:
                    self._unplanned(compiled, child, value[name], (*path, name), out)
        elif isinstance(value, list) and tree.items is not None:
            items = tree.items
            for index, item in enumerate(value):
                self._unplanned(compiled, items, item, (*path, index), out)

    def _unplanned_member(
        self, compiled: CompiledRule, tree: KeyTree, value: dict[str, Any], path: list[str | int]
    ) -> Violation:
        rule_type = compiled.rule.type
        is_trait = compiled.member == "traits"
        allowed = self._member_severity.get(rule_type, True)
        field = field_path(path)
        name = str(path[-1])
        suggestion: str | None = None
        if tree is compiled.keys:
            suggester = self._members.get(id(compiled))
            if suggester is not None:
                present = value.keys() & (tree.planned or frozenset())
                suggestion = suggester.suggest(name, exclude=present)
        elif tree.planned:
            suggestion = self._nested_suggester(tree).suggest(name, exclude=value.keys())
        noun = "trait" if is_trait else "property"
        message = f"{field} is not in the tracking plan (unplanned {noun})"
        if suggestion is not None:
            message += f"; did you mean {suggestion!r}?"
        return Violation(
            kind=ViolationKind.UNPLANNED_TRAIT if is_trait else ViolationKind.UNPLANNED_PROPERTY,
            field=field,
            message=message,
            severity=Severity.WARNING if allowed else Severity.ERROR,
            suggestion=suggestion,
            source=_PLAN,
        )

    def _nested_suggester(self, tree: KeyTree) -> Suggester:
        # One per nested level, kept (with its cache): building one per unplanned key re-split
        # every planned name into words each time.
        found = self._nested.get(id(tree))
        if found is None:
            found = self._nested[id(tree)] = Suggester(tree.planned or ())
        return found

    def _unplanned_event(self, event: str) -> Violation:
        suggestion = self._events.suggest(event)
        message = f"Event {event!r} is not in the tracking plan"
        if suggestion is not None:
            message += f"; did you mean {suggestion!r}?"
        return Violation(
            kind=ViolationKind.UNPLANNED_EVENT,
            field="event",
            message=message,
            severity=self._event_severity,
            suggestion=suggestion,
            source=_PLAN,
        )


def _event_version(payload: dict[str, Any]) -> int | None:
    """``context.protocols.event_version`` when it is an integer (else the oldest applies)."""
    context = payload.get("context")
    protocols = context.get("protocols") if isinstance(context, dict) else None
    wanted = protocols.get("event_version") if isinstance(protocols, dict) else None
    if isinstance(wanted, int) and not isinstance(wanted, bool):
        return wanted
    return None  # never a version number: by_version.get falls back to the oldest, as Segment


def _all_planned(tree: KeyTree, value: Any) -> bool:
    """Whether ``value`` has no key the plan does not declare.

    Used where a rule has no strict validator (see compile._strict) or the event is checked
    whole; elsewhere jsonschema_rs answers the same question faster.
    """
    if type(value) is dict:
        planned = tree.planned
        if planned is not None and not value.keys() <= planned:
            return False
        for name, child in tree.children.items():
            sub = value.get(name)
            if sub is not None and not _all_planned(child, sub):
                return False
        return True
    items = tree.items
    if items is not None and type(value) is list:
        if items.children or items.items is not None:
            return all(_all_planned(items, item) for item in value)
        planned_items = items.planned
        if planned_items is not None:
            for item in value:
                if type(item) is dict and not item.keys() <= planned_items:
                    return False
    return True
