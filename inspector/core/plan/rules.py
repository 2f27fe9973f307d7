"""The in-memory tracking plan: rules keyed by (type, key, version) plus the plan's settings.

Every rule's schema is held in Segment's *whole-event* shape (``properties.properties`` for event
properties, ``properties.traits`` for traits), whatever format the file used: the loaders in
:mod:`inspector.core.plan.formats` wrap flattened Typewriter schemas back into that shape so one
validator and one field-path convention (``properties.items.1.price``) serve every format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["PlanSettings", "Rule", "RuleType", "TrackingPlan"]


class RuleType(StrEnum):
    """Segment's RuleV1 types; COMMON applies to every call."""

    TRACK = "TRACK"
    IDENTIFY = "IDENTIFY"
    GROUP = "GROUP"
    PAGE = "PAGE"
    SCREEN = "SCREEN"
    COMMON = "COMMON"


#: The Segment call type each rule type validates (COMMON validates all of them).
CALL_TYPES: dict[str, RuleType] = {
    "track": RuleType.TRACK,
    "identify": RuleType.IDENTIFY,
    "group": RuleType.GROUP,
    "page": RuleType.PAGE,
    "screen": RuleType.SCREEN,
}

#: Segment's "not deprecated" sentinel for ``deprecatedAt``.
_NOT_DEPRECATED = "0001-01-01"


@dataclass(frozen=True, slots=True)
class Rule:
    """One versioned rule; ``schema`` is the whole-event JSON Schema."""

    type: RuleType
    key: str | None
    version: int
    schema: dict[str, Any]
    description: str = ""
    deprecated_at: str | None = None
    labels: dict[str, Any] = field(default_factory=dict)

    @property
    def deprecated(self) -> bool:
        """Whether Segment marked this version deprecated (its zero date means "not")."""
        return bool(self.deprecated_at) and not str(self.deprecated_at).startswith(
            _NOT_DEPRECATED
        )

    @property
    def label(self) -> str:
        """How errors and listings name the rule: ``TRACK 'Order Completed' v2``."""
        key = f" {self.key!r}" if self.key is not None else ""
        return f"{self.type}{key} v{self.version}"

    def member_schema(self) -> dict[str, Any] | None:
        """The schema of ``properties`` (track/page/screen) or ``traits`` (identify/group)."""
        member = "traits" if self.type in (RuleType.IDENTIFY, RuleType.GROUP) else "properties"
        properties = self.schema.get("properties")
        if not isinstance(properties, dict):
            return None
        sub = properties.get(member)
        return sub if isinstance(sub, dict) else None

    def required_fields(self) -> list[str]:
        """Required property/trait names, prefixed the way violations name them."""
        member = "traits" if self.type in (RuleType.IDENTIFY, RuleType.GROUP) else "properties"
        sub = self.member_schema()
        names: list[str] = []
        if sub is not None and isinstance(sub.get("required"), list):
            names = [f"{member}.{name}" for name in sub["required"] if isinstance(name, str)]
        if self.type is RuleType.COMMON and isinstance(self.schema.get("required"), list):
            names = [name for name in self.schema["required"] if isinstance(name, str)]
        return names


@dataclass(frozen=True, slots=True)
class PlanSettings:
    """Segment's schema-configuration flags that change what gets flagged.

    Defaults follow what a tracking-plan user expects from an inspector: unplanned events are
    errors (their status becomes *unplanned*), unplanned properties and traits are reported as
    warnings (shown, but the event stays valid) unless the plan says they are not allowed.
    """

    allow_unplanned_track_events: bool = False
    allow_unplanned_track_event_properties: bool = True
    allow_unplanned_identify_traits: bool = True
    allow_unplanned_group_traits: bool = True

    @classmethod
    def from_mapping(cls, data: Any) -> PlanSettings:
        """Read the flags from any mapping, ignoring unknown keys and non-boolean values."""
        if not isinstance(data, dict):
            return cls()
        values = {
            name: data[name]
            for name in cls.__dataclass_fields__
            if isinstance(data.get(name), bool)
        }
        return cls(**values)

    def to_dict(self) -> dict[str, bool]:
        """The flags as Segment's Config API names them."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True, slots=True)
class TrackingPlan:
    """A loaded tracking plan: its rules, settings, where it came from and in which format.

    ``rules`` maps ``(type, key)`` to that key's versions, oldest first (Segment validates against
    the oldest version unless the event names another in ``context.protocols.event_version``).
    A plan is a value: nothing fills it in later. Validating needs its compiled form,
    :func:`inspector.core.plan.compile.compile_plan` -> ``CompiledPlan``; reading a file is
    :func:`inspector.core.plan.formats.read_plan`.
    """

    rules: Mapping[tuple[RuleType, str | None], list[Rule]]
    settings: PlanSettings = field(default_factory=PlanSettings)
    source: str = "<memory>"
    format: str = "unknown"
    name: str | None = None

    def all_rules(self) -> list[Rule]:
        """Every rule version, in a stable listing order (type, key, version)."""
        order = list(RuleType)
        keys = sorted(self.rules, key=lambda k: (order.index(k[0]), k[1] or ""))
        return [rule for key in keys for rule in self.rules[key]]

    def track_keys(self) -> list[str]:
        """Planned track event names."""
        return [key for (kind, key) in self.rules if kind is RuleType.TRACK and key is not None]

    def __len__(self) -> int:
        return sum(len(versions) for versions in self.rules.values())
