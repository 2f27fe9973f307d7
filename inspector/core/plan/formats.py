"""Detecting a plan file's format and reading its rules.

Supported shapes (detection looks at structure, never at the file name):

* ``segment-public-api``: ``{"rules": [RuleV1, ...]}`` (a replace-rules export, or a saved plan
  with ``trackingPlan`` metadata beside the rules), a bare ``[RuleV1, ...]`` list, one paginated
  ``{"data": {"rules": [...], "pagination": {...}}}`` answer, or a list of such pages.
* ``typewriter``: Typewriter v8+ ``plan.json``: the Public API shape, but every ``jsonSchema`` is
  already flattened to the properties schema and carries ``eventMetadata``.
* ``config-api``: the legacy Config API (and Typewriter <= v7) shape ``{"rules": {"events": [...],
  "global": {...}, "identify": {...}, "group": {...}}}``.
* ``legacy-local``: pre-2019 local files ``{"events": [{name, rules}, ...]}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from inspector.core.plan.errors import PlanError
from inspector.core.plan.rules import PlanSettings, Rule, RuleType, TrackingPlan

__all__ = ["FORMATS", "detect_format", "load_bytes", "load_data", "load_file", "read_plan"]

FORMATS = ("segment-public-api", "typewriter", "config-api", "legacy-local")

#: Keys under which a saved plan may carry Segment's schema-configuration flags.
_SETTINGS_KEYS = ("settings", "schemaSettings", "schema_settings")


def load_file(path: Path) -> TrackingPlan:
    """Read and detect a plan file; every failure is a PlanError naming the file.

    Schema errors a rule only shows when compiled (an unsupported regex) are raised by
    :func:`~inspector.core.plan.compile.compile_plan` (``reading.load_plan_file`` does both).
    """
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise PlanError(f"cannot read plan file: {error.strerror or error}", file=source) from None
    return load_bytes(raw, source=source)


def load_bytes(raw: bytes, *, source: str = "<memory>") -> TrackingPlan:
    """Decode, parse and detect a plan's bytes; PlanErrors name ``source`` and the line and
    column of a syntax error."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line, column = _position(raw[: error.start].decode("utf-8", "replace"))
        raise PlanError(
            "plan file is not UTF-8 text", file=source, line=line, column=column
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise PlanError(
            f"invalid JSON: {error.msg}", file=source, line=error.lineno, column=error.colno
        ) from None
    except RecursionError:
        raise PlanError("invalid JSON: nested too deeply", file=source) from None
    return load_data(data, source=source)


def load_data(data: Any, *, source: str = "<memory>") -> TrackingPlan:
    """Detect the format of parsed JSON and build a plan from it."""
    fmt = detect_format(data, source=source)
    if fmt == "config-api":
        rules = list(_config_api_rules(data, source))
    elif fmt == "legacy-local":
        rules = list(_legacy_rules(data, source))
    else:
        rules = list(_public_api_rules(_rule_list(data), source))
    plan = TrackingPlan(
        rules=_index(rules),
        settings=_settings(data),
        source=source,
        format=fmt,
        name=_plan_name(data),
    )
    return plan


def read_plan(path: str | Path) -> TrackingPlan:
    """Read a plan file in any supported format (:func:`load_file` for any path-like)."""
    return load_file(Path(path))


def detect_format(data: Any, *, source: str = "<memory>") -> str:
    """Name the format of parsed plan JSON, or raise PlanError explaining what was expected."""
    if isinstance(data, dict):
        rules = data.get("rules")
        if isinstance(rules, dict) and any(
            key in rules for key in ("events", "global", "identify", "group")
        ):
            return "config-api"
        page = data.get("data")
        if isinstance(page, dict) and isinstance(page.get("rules"), list):
            return "segment-public-api"
        if isinstance(rules, list):
            return _public_or_typewriter(rules)
        if isinstance(data.get("events"), list):
            return "legacy-local"
    elif isinstance(data, list):
        if all(isinstance(item, dict) and isinstance(item.get("data"), dict) for item in data):
            if data:
                return "segment-public-api"
        elif all(isinstance(item, dict) and "jsonSchema" in item for item in data):
            return _public_or_typewriter(data)
    raise PlanError(
        "not a tracking plan: expected Segment Public API rules ({\"rules\": [...]} or "
        "{\"data\": {\"rules\": [...]}}), a Typewriter plan.json, a Config API plan "
        "({\"rules\": {\"events\": [...]}}) or a local {\"events\": [...]} file",
        file=source,
    )


def _public_or_typewriter(rules: list[Any]) -> str:
    # Typewriter v8 flattens every rule and stamps eventMetadata on each; one flattened rule is
    # not enough to call the whole file Typewriter, but each rule is unwrapped on its own anyway.
    schemas = [rule.get("jsonSchema") for rule in rules if isinstance(rule, dict)]
    if schemas and all(isinstance(s, dict) and "eventMetadata" in s for s in schemas):
        return "typewriter"
    return "segment-public-api"


def _rule_list(data: Any) -> list[Any]:
    """The RuleV1 objects of any Public API shape, pages concatenated in order."""
    if isinstance(data, dict):
        page = data.get("data")
        if isinstance(page, dict) and isinstance(page.get("rules"), list):
            return list(page["rules"])
        return list(data["rules"])
    rules: list[Any] = []
    for item in data:
        if "jsonSchema" in item:
            rules.append(item)
        else:
            rules.extend(item["data"].get("rules") or [])
    return rules


def _public_api_rules(raw_rules: list[Any], source: str) -> Iterable[Rule]:
    for index, raw in enumerate(raw_rules):
        where = f"rules[{index}]"
        if not isinstance(raw, dict):
            raise PlanError("a rule must be a JSON object", file=source, rule=where)
        type_name = raw.get("type")
        try:
            rule_type = RuleType(str(type_name).upper())
        except ValueError:
            raise PlanError(
                f"unknown rule type {type_name!r}; expected one of "
                f"{', '.join(t.value for t in RuleType)}",
                file=source,
                rule=where,
            ) from None
        key = raw.get("key")
        if key is not None and not isinstance(key, str):
            raise PlanError("rule key must be a string", file=source, rule=where)
        if rule_type is RuleType.TRACK and not key:
            raise PlanError("a TRACK rule needs a key (the event name)", file=source, rule=where)
        if rule_type in (RuleType.COMMON, RuleType.IDENTIFY, RuleType.GROUP):
            # Segment exports these with key null (or ""); there is one per plan.
            key = None
        label = f"{rule_type} {key!r}" if key is not None else str(rule_type)
        version = _version(raw.get("version", 1), source, label)
        schema = raw.get("jsonSchema")
        if not isinstance(schema, dict):
            raise PlanError("jsonSchema must be a JSON object", file=source, rule=label)
        if "eventMetadata" in schema and rule_type is not RuleType.COMMON:
            schema = _wrap_flattened(schema, rule_type)
        yield Rule(
            type=rule_type,
            key=key,
            version=version,
            schema=schema,
            description=_text(schema.get("description")),
            deprecated_at=_text(raw.get("deprecatedAt")) or None,
            labels=_labels(schema),
        )


def _config_api_rules(data: dict[str, Any], source: str) -> Iterable[Rule]:
    rules: dict[str, Any] = data["rules"]
    events = rules.get("events") or []
    if not isinstance(events, list):
        raise PlanError("rules.events must be a list", file=source)
    yield from _event_rules(events, source, "rules.events")
    for name, rule_type in (
        ("global", RuleType.COMMON),
        ("identify", RuleType.IDENTIFY),
        ("group", RuleType.GROUP),
    ):
        schema = rules.get(name)
        if schema is None or schema == {}:
            continue  # Config API writes {} for "no rule": not a rule that plans zero traits.
        if not isinstance(schema, dict):
            raise PlanError(f"rules.{name} must be a JSON object", file=source, rule=rule_type)
        yield Rule(type=rule_type, key=None, version=1, schema=schema,
                   description=_text(schema.get("description")), labels=_labels(schema))


def _legacy_rules(data: dict[str, Any], source: str) -> Iterable[Rule]:
    yield from _event_rules(data["events"], source, "events")


def _event_rules(events: list[Any], source: str, path: str) -> Iterable[Rule]:
    for index, event in enumerate(events):
        where = f"{path}[{index}]"
        if not isinstance(event, dict):
            raise PlanError("an event must be a JSON object", file=source, rule=where)
        name = event.get("name")
        if not isinstance(name, str) or not name:
            raise PlanError("an event needs a non-empty string name", file=source, rule=where)
        label = f"TRACK {name!r}"
        schema = event.get("rules", {})
        if not isinstance(schema, dict):
            raise PlanError("rules must be a JSON object", file=source, rule=label)
        yield Rule(
            type=RuleType.TRACK,
            key=name,
            version=_version(event.get("version", 1), source, label),
            schema=schema,
            description=_text(event.get("description")),
            labels=_labels(schema),
        )


def _wrap_flattened(schema: dict[str, Any], rule_type: RuleType) -> dict[str, Any]:
    """Put a Typewriter-flattened properties schema back under ``properties.<member>``."""
    member = "traits" if rule_type in (RuleType.IDENTIFY, RuleType.GROUP) else "properties"
    inner = dict(schema)
    wrapped: dict[str, Any] = {"type": "object", "properties": {member: inner}}
    # Root-only keywords stay at the root so "$ref": "#/definitions/x" still resolves.
    for keyword in ("$schema", "definitions", "$defs", "description", "labels"):
        if keyword in inner:
            wrapped[keyword] = inner.pop(keyword)
    inner.pop("$id", None)
    wrapped["eventMetadata"] = inner.pop("eventMetadata")
    return wrapped


def _index(rules: list[Rule]) -> dict[tuple[RuleType, str | None], list[Rule]]:
    by_key: dict[tuple[RuleType, str | None], dict[int, Rule]] = {}
    for rule in rules:
        # The same version twice (pages saved twice over) keeps the later copy.
        by_key.setdefault((rule.type, rule.key), {})[rule.version] = rule
    return {key: [versions[v] for v in sorted(versions)] for key, versions in by_key.items()}


def _settings(data: Any) -> PlanSettings:
    if not isinstance(data, dict):
        return PlanSettings()
    for key in _SETTINGS_KEYS:
        if isinstance(data.get(key), dict):
            return PlanSettings.from_mapping(data[key])
    return PlanSettings.from_mapping(data)


def _plan_name(data: Any) -> str | None:
    if not isinstance(data, dict):
        return None
    plan = data.get("trackingPlan")
    if isinstance(plan, dict) and isinstance(plan.get("name"), str):
        return str(plan["name"])
    for key in ("display_name", "name"):
        if isinstance(data.get(key), str):
            return str(data[key])
    return None


def _version(value: Any, source: str, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise PlanError(f"version must be an integer, got {value!r}", file=source, rule=label)
    return int(value)


def _labels(schema: dict[str, Any]) -> dict[str, Any]:
    labels = schema.get("labels")
    return dict(labels) if isinstance(labels, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _position(text: str) -> tuple[int, int]:
    line = text.count("\n") + 1
    return line, len(text) - (text.rfind("\n") + 1) + 1
