"""Which environment (staging, production...) a call belongs to, from the audit configuration.

An event's environment is where it lands: the environment of its write key (a key, or the name
the key is given with ``--name-key``). Where a call *comes from* is its origin: the host of
``context.page.url`` for browsers, ``context.app.build`` / ``context.app.namespace`` for apps.
The audit compares the two (``environment.wrong_write_key``); the window, replay and the
comparison of captures read :meth:`EnvironmentMap.of_event`.

Qt-free and cheap per call: patterns are compiled once, hosts memoised (bounded).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from inspector.core.audit.config import EnvironmentConfig

__all__ = ["EnvironmentMap", "Origin", "page_host"]

#: Distinct page URLs / app values memoised (bounded memory however many a session has).
_MEMO_LIMIT = 100_000


class Origin(NamedTuple):
    """Where a call came from, and the environment that origin belongs to (a named tuple:
    one is built per call with an origin, and a frozen dataclass costs several times more)."""

    environment: EnvironmentConfig
    #: ``host``, ``build`` or ``namespace``.
    kind: str
    #: The call's value (``shop.staging.example.com``, ``4.2.0-staging``).
    value: str

    @property
    def described(self) -> str:
        """``host "shop.staging.example.com"`` / ``app build "4.2.0-staging"``."""
        label = {"host": "host", "build": "app build", "namespace": "app"}[self.kind]
        return f'{label} "{self.value}"'


@dataclass(frozen=True, slots=True)
class _Rule:
    regex: re.Pattern[str]
    #: Characters the pattern fixes (not ``*``): a longer match is the more specific one.
    weight: int
    environment: EnvironmentConfig


def _rules(environments: Sequence[EnvironmentConfig], field: str) -> list[_Rule]:
    rules = []
    for environment in environments:
        for pattern in getattr(environment, field):
            text = pattern.strip()
            regex = ".*".join(re.escape(part) for part in text.split("*"))
            rules.append(_Rule(re.compile(regex, re.IGNORECASE), len(text.replace("*", "")),
                               environment))
    # Most specific first: ``shop.staging.example.com`` before ``*.example.com``.
    rules.sort(key=lambda rule: -rule.weight)
    return rules


def _first_match(rules: Sequence[_Rule], value: str) -> EnvironmentConfig | None:
    for rule in rules:
        if rule.regex.fullmatch(value):
            return rule.environment
    return None


def _page_url(context: Mapping[str, Any]) -> str | None:
    page = context.get("page")
    url = page.get("url") if isinstance(page, dict) else None
    return url if isinstance(url, str) and url else None


def page_host(context: Mapping[str, Any]) -> str | None:
    """The lower-case host of ``context.page.url`` (no port), or ``None``."""
    url = _page_url(context)
    if url is None:
        return None
    return _host_of(url)


def _host_of(url: str) -> str | None:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host or None


class EnvironmentMap:
    """The configured environments, ready to answer per call."""

    def __init__(self, environments: Iterable[EnvironmentConfig] = ()) -> None:
        self.environments: tuple[EnvironmentConfig, ...] = tuple(environments)
        self._by_entry: dict[str, EnvironmentConfig] = {}
        for environment in self.environments:
            for entry in environment.write_keys:
                self._by_entry.setdefault(entry, environment)
        self._by_name = {environment.name: environment for environment in self.environments}
        self._hosts = _rules(self.environments, "hosts")
        self._builds = _rules(self.environments, "app_builds")
        self._namespaces = _rules(self.environments, "app_namespaces")
        self._host_memo: dict[str, EnvironmentConfig | None] = {}
        #: Page URL -> its host and that host's environment (a URL repeats on every call
        #: of a page view: parsing it once is most of the per-call cost).
        self._url_memo: dict[str, tuple[str, EnvironmentConfig] | None] = {}

    def __bool__(self) -> bool:
        return bool(self.environments)

    def named(self, name: str) -> EnvironmentConfig | None:
        """The environment called ``name``."""
        return self._by_name.get(name)

    def of_key(self, write_key: str | None,
               key_name: str | None = None) -> EnvironmentConfig | None:
        """The environment a write key belongs to: listed by the key itself or by its name."""
        by_entry = self._by_entry
        if write_key is not None and write_key in by_entry:
            return by_entry[write_key]
        if key_name is not None:
            return by_entry.get(key_name)
        return None

    def of_keys(self, write_keys: Iterable[str], key_names: Mapping[str, str]
                ) -> tuple[list[EnvironmentConfig], list[str]]:
        """The environments a set of write keys (a session's) belongs to, in configuration
        order, and the keys no environment lists (sorted)."""
        found: set[str] = set()
        unlisted: list[str] = []
        for write_key in write_keys:
            environment = self.of_key(write_key, key_names.get(write_key))
            if environment is None:
                unlisted.append(write_key)
            else:
                found.add(environment.name)
        return ([environment for environment in self.environments if environment.name in found],
                sorted(unlisted))

    def of_host(self, host: str) -> EnvironmentConfig | None:
        """The environment whose host patterns match ``host`` (the most specific one)."""
        memo = self._host_memo
        if host in memo:
            return memo[host]
        found = _first_match(self._hosts, host)
        if len(memo) < _MEMO_LIMIT:
            memo[host] = found
        return found

    def origin(self, context: Mapping[str, Any]) -> Origin | None:
        """Where a call came from, if a configured host or app pattern says which environment
        that is: the page's host first, then the app's build, then its namespace (a staging
        build often shares the production app's namespace)."""
        if not self.environments:
            return None
        if self._hosts:
            url = _page_url(context)
            if url is not None:
                found = self._url_origin(url)
                if found is not None:
                    return Origin(found[1], "host", found[0])
        app = context.get("app")
        if not isinstance(app, dict):
            return None
        for kind, rules in (("build", self._builds), ("namespace", self._namespaces)):
            value = app.get(kind)
            if rules and isinstance(value, str | int) and not isinstance(value, bool):
                text = str(value)
                environment = _first_match(rules, text)
                if environment is not None:
                    return Origin(environment, kind, text)
        return None

    def _url_origin(self, url: str) -> tuple[str, EnvironmentConfig] | None:
        memo = self._url_memo
        try:
            return memo[url]
        except KeyError:
            pass
        host = _host_of(url)
        environment = self.of_host(host) if host is not None else None
        found = (host, environment) if host is not None and environment is not None else None
        if len(memo) < _MEMO_LIMIT:
            memo[url] = found
        return found

    def of_event(self, write_key: str | None, key_name: str | None = None,
                 context: Mapping[str, Any] | None = None) -> EnvironmentConfig | None:
        """The environment an event lands in: its write key's, else (a key no environment
        lists) the one its origin says."""
        environment = self.of_key(write_key, key_name)
        if environment is None and context is not None:
            origin = self.origin(context)
            return origin.environment if origin is not None else None
        return environment

    def of_destination(self, destination: str) -> EnvironmentConfig | None:
        """The environment whose ``destination`` is this replay destination (by name)."""
        for environment in self.environments:
            if environment.destination == destination:
                return environment
        return None
