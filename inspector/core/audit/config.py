"""The audit configuration: one file (JSON or YAML) read by the window, ``serve`` and the CLI.

With no file at all the defaults encode the retention taxonomy the seed guide teaches: the
intent events cart recovery starts from, the traits Customer.io segments on and who may write
them, the placeholder values testers type. ``inspector audit --print-schema`` prints the JSON
Schema of this file; errors name the file, line and column of the offending value.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from inspector.core.conditions import CallMatch, Duration, Expectation
from inspector.core.libraries import LIBRARY_CLASSES
from inspector.core.rulefile import (
    MAX_RULE_FILE_BYTES,
    parse_rule_file,
    read_rule_file,
    rule_file_schema,
)

if TYPE_CHECKING:
    from inspector.core.environments import EnvironmentMap

__all__ = [
    "DEFAULT_CRITICAL_TRAITS",
    "DEFAULT_SEGMENTS",
    "LIBRARY_CLASSES",
    "AuditConfig",
    "AuditConfigError",
    "CheckSetting",
    "EnvironmentConfig",
    "LatencyThreshold",
    "SegmentRule",
    "TraitRule",
    "load_audit_config",
    "writer_matches",
]

#: Upper bound on a configuration file: it is hand-written, a bigger one is a mistake.
MAX_CONFIG_BYTES = MAX_RULE_FILE_BYTES

DEFAULT_CRITICAL_TRAITS = (
    "email", "phone", "country", "vip_tier", "marketing_opt_in", "lifetime_value", "first_name",
)

_DEFAULT_PLACEHOLDER_VALUES = (
    "test@test.com", "test@example.com", "asdf", "test", "n/a", "na", "null", "undefined",
    "none", "nil", "xxx", "foo", "bar", "0000000000", "1234567890", "john doe", "first name",
    "last name", "[object object]", "nan",
)
_DEFAULT_PLACEHOLDER_PATTERNS = (
    r"@example\.(com|org|net)$",
    r"^test\d*@",
    r"^\s*$",
    r"^(.)\1{5,}$",
    r"^\{\{.*\}\}$",
)

#: Cart, checkout and order events and the id each must carry (items.incomplete).
_DEFAULT_ITEM_EVENTS: dict[str, str | None] = {
    "Product Added": "cart_id", "Added to Cart": "cart_id", "Cart Viewed": "cart_id",
    "Checkout Started": "cart_id", "Order Completed": "order_id",
}


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as error:
        raise ValueError(f"invalid regular expression {pattern!r}: {error}") from error
    return pattern


class AuditConfigError(Exception):
    """The audit file cannot be used; the message names the file, line and column."""


class TraitRule(BaseModel):
    """Who may write one critical trait."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Sources allowed to write it: a write key's name, a write key, a library name, or a
    #: class of libraries (``server``, ``browser``, ``mobile``). ``None``: the default list.
    allowed_writers: list[str] | None = None


class CheckSetting(BaseModel):
    """Turn one check off, or change its severity."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    severity: Literal["error", "warning", "info"] | None = None


class LatencyThreshold(BaseModel):
    """How late one event may arrive (seconds between its timestamp and its receipt)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    warning: float = Field(gt=0, description="Later than this: a warning.")
    error: float | None = Field(default=None, gt=0,
                                description="Later than this: an error (None: the default "
                                "error threshold, or the warning if that is higher).")


def _valid_pattern(pattern: str) -> str:
    if not pattern.strip():
        raise ValueError("a pattern cannot be empty")
    return pattern


#: A host or app pattern: ``*`` matches any run of characters (``*.staging.example.com``).
Pattern = Annotated[str, AfterValidator(_valid_pattern)]


class EnvironmentConfig(BaseModel):
    """One environment (staging, production...): where its calls come from and go to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100,
                      description="How findings and the window name it: staging, production.")
    production: bool = Field(
        default=False,
        description="Whether real customers' data flows through it (its Customer.io "
        "workspace emails real people).")
    write_keys: list[str] = Field(
        default_factory=list,
        description="Its write keys: a key, or the name a key is given with --name-key "
        "(or in the window).")
    hosts: list[Pattern] = Field(
        default_factory=list,
        description="Hosts of context.page.url its browser calls come from; * matches any "
        "characters (*.staging.example.com). Compared ignoring case and the port.")
    app_namespaces: list[Pattern] = Field(
        default_factory=list,
        description="context.app.namespace patterns of its apps (com.shop.app.staging, *.beta).")
    app_builds: list[Pattern] = Field(
        default_factory=list,
        description="context.app.build patterns of its app builds (*-staging, 4.2.*-rc*).")
    destination: str | None = Field(
        default=None, min_length=1,
        description="The replay destination (Customer.io workspace, by its name in "
        "inspector) this environment's events belong in.")


def _unique_environments(environments: list[EnvironmentConfig]) -> list[EnvironmentConfig]:
    names: set[str] = set()
    keys: dict[str, str] = {}
    for environment in environments:
        if environment.name in names:
            raise ValueError(f"environment {environment.name!r} is defined twice")
        names.add(environment.name)
        for key in environment.write_keys:
            other = keys.setdefault(key, environment.name)
            if other != environment.name:
                raise ValueError(f"write key {key!r} is in both {other!r} and "
                                 f"{environment.name!r}")
    return environments
class SegmentRule(BaseModel):
    """One of the user's own audit segments: the calls it picks and what they must carry.

    A call is in the segment when it matches ``match`` (and, with ``within``, arrived within
    that long of the session's newest call) and breaks ``expect``; with no ``expect`` every
    picked call is in it. A rule with person conditions or ``within`` counts people, as
    Customer.io's segments do ("performed Added to Cart within 1 day").
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200, description="What the panel and the "
                      "reports call it; its check id is segment.<name in snake_case>.")
    description: str = Field(default="", description="Why the segment matters.")
    severity: Literal["error", "warning", "info"] = Field(
        default="warning", description="The severity of its finding.")
    match: CallMatch = Field(description="The calls the rule is about (WHEN).")
    expect: Expectation | None = Field(
        default=None, description="What those calls must satisfy (EXPECT); none: every "
        "picked call is reported.")
    within: Duration | None = Field(
        default=None, description="Only people whose latest picked call arrived within this "
        "long (30m, 24h, 7d) of the session's newest call.")

    @property
    def check_id(self) -> str:
        """``segment.order_completed_missing_order_id_or_total``."""
        return "segment." + (re.sub(r"[^0-9a-z]+", "_", self.name.lower()).strip("_") or "rule")

    @property
    def counts_people(self) -> bool:
        """Whether the segment is about people (person conditions or a time window)."""
        expect_person = self.expect is not None and self.expect.person is not None
        return self.match.person is not None or expect_person or self.within is not None


#: The seed guide's two audit segments, shipped so the "your segments" area is never empty.
DEFAULT_SEGMENTS: tuple[dict[str, Any], ...] = (
    {
        "name": "Order Completed missing order_id or total",
        "description": "Revenue reporting, refunds and post-purchase campaigns key on "
                       "order_id and total.",
        "severity": "error",
        "match": {"type": "track", "event": "Order Completed"},
        "expect": {"fields": {"properties.order_id": {"blank": False},
                              "properties.total": {"exists": True}}},
    },
    {
        "name": "Added to Cart in the last day and email is blank",
        "description": "People cart recovery cannot reach: they added to cart, and no "
                       "email is known for them.",
        "severity": "warning",
        "match": {"type": "track", "event": ["Added to Cart", "Product Added"]},
        "within": "24h",
        "expect": {"person": {"email_known": True}},
    },
)


def _default_segments() -> list[SegmentRule]:
    return [SegmentRule.model_validate(rule) for rule in DEFAULT_SEGMENTS]


class AuditConfig(BaseModel):
    """Everything the retention audits can be told; every field has a working default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    intent_events: list[str] = Field(
        default=["Product Added", "Added to Cart", "Checkout Started"],
        description="Events that start a cart-recovery journey: the person must be reachable.",
    )
    checkout_events: list[str] = Field(
        default=["Checkout Started", "Order Completed"],
        description="Events by which the person's email should be known.",
    )
    critical_traits: dict[str, TraitRule] = Field(
        default_factory=lambda: {name: TraitRule() for name in DEFAULT_CRITICAL_TRAITS},
        description="Traits Customer.io segments on, with who may write them.",
    )
    default_allowed_writers: list[str] = Field(
        default=["server", "browser", "mobile"],
        description="Writers of a critical trait that names none: by default the official "
        "Segment libraries, so a quiz tool or a script posting by hand stands out.",
    )
    placeholder_values: list[str] = Field(
        default=list(_DEFAULT_PLACEHOLDER_VALUES),
        description="Trait values that are placeholders (compared ignoring case and spaces).",
    )
    placeholder_patterns: list[Annotated[str, AfterValidator(_compiles)]] = Field(
        default=list(_DEFAULT_PLACEHOLDER_PATTERNS),
        description="Regular expressions (Python syntax, searched ignoring case) for "
        "placeholder trait values.",
    )
    consent_trait: str = Field(
        default="marketing_opt_in",
        description="The boolean trait that records marketing consent.",
    )
    anonymous_id_churn_threshold: int = Field(
        default=3, ge=2,
        description="How many anonymousIds one user or device may have before it is churn.",
    )
    # -- sources and timing (checks/sources.py, checks/timing.py) --
    backend_only_events: list[str] = Field(
        default=["Order Completed", "Order Refunded", "Subscription Canceled"],
        description="Events that must come from the backend: sent from a browser or an app "
        "they are lost to ad blockers and payment redirects.",
    )
    latency_warning_seconds: float = Field(
        default=300, gt=0,
        description="A call received this long after its timestamp is late (a warning).",
    )
    latency_error_seconds: float = Field(
        default=3600, gt=0,
        description="A call received this long after its timestamp is an error.",
    )
    latency_by_event: dict[str, LatencyThreshold] = Field(
        default_factory=dict,
        description="Per event name, thresholds of its own ({warning: 60, error: 600}): "
        "cart events are the time-critical ones.",
    )
    trigger_window_hours: float = Field(
        default=72, gt=0,
        description="Customer.io does not trigger campaigns from events older than this "
        "at receipt.",
    )
    clock_skew_seconds: float = Field(
        default=300, gt=0,
        description="sentAt this far from receivedAt means the sender's clock is wrong.",
    )
    # Drift across events of one name (checks/drift.py) and item payloads (checks/items.py).
    planned_events: list[str] = Field(
        default_factory=list,
        description="Event names of the tracking plan, if any: drift.event_name also compares "
        "the session's names against them (empty: the session's names only).",
    )
    item_events: dict[str, str | None] = Field(
        default_factory=lambda: dict(_DEFAULT_ITEM_EVENTS),
        description="Cart, checkout and order events whose items are checked, each with the "
        "id it must carry (cart_id, order_id; null: none).",
    )
    item_fields: list[str] = Field(
        default=["sku", "name", "variant", "price", "quantity"],
        description="Fields every element of items[] (or products[]) needs for item-level "
        "cart recovery.",
    )
    item_total_tolerance_absolute: float = Field(
        default=0.01, ge=0,
        description="How far total may differ from the sum of price x quantity (currency "
        "units) before items.total_mismatch reports it.",
    )
    item_total_tolerance_relative: float = Field(
        default=0.25, ge=0,
        description="The same as a share of the items' sum (tax, shipping and discounts); "
        "the larger of the two tolerances applies.",
    )
    # Environments (checks/environments.py): none by default, and then those checks are silent.
    environments: Annotated[list[EnvironmentConfig], AfterValidator(_unique_environments)] = (
        Field(default_factory=list,
              description="Staging, production...: each one's write keys, the hosts and apps "
              "its calls are expected from and its Customer.io destination. Empty: the "
              "environment checks say nothing."))
    segments: list[SegmentRule] = Field(
        default_factory=_default_segments,
        description="Your own audit segments (docs/conditions.md): each is a check of its own "
        "in the 'Your segments' area. Giving the list replaces the two defaults.",
    )
    checks: dict[str, CheckSetting] = Field(
        default_factory=dict,
        description="Per check id: {enabled: false} or {severity: warning}.",
    )

    @model_validator(mode="after")
    def _segments_distinct(self) -> AuditConfig:
        seen: dict[str, str] = {}
        for rule in self.segments:
            other = seen.get(rule.check_id)
            if other is not None:
                raise ValueError(f"segments {other!r} and {rule.name!r} have the same id "
                                 f"{rule.check_id}: give them distinct names")
            seen[rule.check_id] = rule.name
        return self

    @cached_property
    def _placeholder_regex(self) -> re.Pattern[str] | None:
        if not self.placeholder_patterns:
            return None
        return re.compile("|".join(f"(?:{p})" for p in self.placeholder_patterns), re.IGNORECASE)

    @cached_property
    def _placeholder_set(self) -> frozenset[str]:
        return frozenset(" ".join(value.lower().split()) for value in self.placeholder_values)

    @cached_property
    def environment_map(self) -> EnvironmentMap:
        """The environments, ready to answer per call (built once per configuration)."""
        from inspector.core.environments import EnvironmentMap

        return EnvironmentMap(self.environments)

    def is_placeholder(self, value: object) -> bool:
        """Whether a trait value is a placeholder (strings only: ``0`` and ``false`` are data)."""
        if not isinstance(value, str):
            return False
        if " ".join(value.lower().split()) in self._placeholder_set:
            return True
        regex = self._placeholder_regex
        return regex is not None and regex.search(value) is not None

    def allowed_writers(self, trait: str) -> list[str] | None:
        """Who may write ``trait`` (``None``: it is not a critical trait)."""
        rule = self.critical_traits.get(trait)
        if rule is None:
            return None
        return rule.allowed_writers if rule.allowed_writers is not None else list(
            self.default_allowed_writers)

    def latency_thresholds(self, event: str | None) -> tuple[float, float]:
        """The (warning, error) lateness thresholds in seconds for one event name."""
        rule = self.latency_by_event.get(event) if event else None
        if rule is None:
            return self.latency_warning_seconds, self.latency_error_seconds
        return rule.warning, rule.error if rule.error is not None else max(
            rule.warning, self.latency_error_seconds)

    def enabled(self, check_id: str) -> bool:
        """Whether a check runs."""
        setting = self.checks.get(check_id)
        return setting is None or setting.enabled

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON Schema of the file (``inspector audit --print-schema``)."""
        return rule_file_schema(cls, "inspector audit configuration")


def writer_matches(writer: str, *, source: str, write_key: str | None,
                   library_name: str | None) -> bool:
    """Whether an allowed-writers entry names this source."""
    if writer in (source, write_key, library_name):
        return True
    members = LIBRARY_CLASSES.get(writer)
    return members is not None and library_name in members


def load_audit_config(path: Path | None) -> AuditConfig:
    """Read an audit file (JSON or YAML); ``None``: the bundled defaults.

    Raises :class:`AuditConfigError` with the file, line and column of what is wrong.
    """
    if path is None:
        return AuditConfig()
    text = read_rule_file(path, "the audit file", AuditConfigError)
    return parse_audit_config(text, str(path))


def parse_audit_config(text: str, name: str = "<audit config>") -> AuditConfig:
    """Parse audit configuration text (YAML, which JSON is a subset of)."""
    return parse_rule_file(text, name, AuditConfig, AuditConfigError, what="the audit file",
                           empty={})
