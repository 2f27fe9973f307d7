"""Replay destinations: metadata in the database, credentials in the OS keyring.

A :class:`Destination` carries no secret at all, so it can be stored, logged, exported and shown
freely. Its :class:`Credentials` are kept by :class:`CredentialStore` in the keyring under the
destination's name, and are only ever turned into an ``Authorization`` header at send time.
"""

from __future__ import annotations

import base64
import contextlib
import time
from enum import StrEnum
from typing import Any

import keyring
import keyring.errors
import orjson
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from inspector.core.store.connection import Database

__all__ = [
    "CredentialStore",
    "Credentials",
    "Destination",
    "DestinationStore",
    "Marking",
    "Mode",
    "Region",
]

KEYRING_SERVICE = "inspector.replay"


class Mode(StrEnum):
    """How events reach Customer.io."""

    CLASSIC = "classic"  # Segment's Customer.io Classic destination, Track API v1
    ACTIONS = "actions"  # Segment's Customer.io (Actions) destination, Track API v2 batch
    PIPELINES = "pipelines"  # Customer.io Data Pipelines, Segment-spec payloads


class Region(StrEnum):
    """The Customer.io data centre."""

    US = "us"
    EU = "eu"


class Marking(StrEnum):
    """Whether a destination is a safe staging workspace or a production one."""

    STAGING = "staging"
    PRODUCTION = "production"


_TRACK_HOSTS = {Region.US: "https://track.customer.io", Region.EU: "https://track-eu.customer.io"}
_CDP_HOSTS = {Region.US: "https://cdp.customer.io", Region.EU: "https://cdp-eu.customer.io"}


class Destination(BaseModel):
    """A Customer.io workspace to replay into. Holds no secrets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    mode: Mode = Mode.CLASSIC
    region: Region = Region.US
    marking: Marking = Marking.STAGING
    #: Overrides the region's host (``http(s)://host[:port]``): self-hosted proxies and tests.
    track_host: str | None = None
    #: Classic's "Convert to Unix Time": ISO 8601 strings in traits/properties become seconds.
    convert_to_unix_time: bool = True
    #: Classic drops calls without a userId; on, track/page/screen go to ``/api/v1/events``.
    send_anonymous: bool = False
    #: Operations per v2 / Pipelines batch request (Segment's default is 50, its maximum 100).
    batch_size: int = Field(default=50, ge=1, le=1000)

    @field_validator("track_host")
    @classmethod
    def _host_has_scheme(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("the host must start with http:// or https://")
        return value

    @property
    def base_url(self) -> str:
        """Scheme and host requests go to (no trailing slash)."""
        if self.track_host:
            return self.track_host
        hosts = _CDP_HOSTS if self.mode is Mode.PIPELINES else _TRACK_HOSTS
        return hosts[self.region]

    @property
    def track_api_url(self) -> str:
        """The Track API host, also used for the region check of Pipelines destinations."""
        return self.track_host or _TRACK_HOSTS[self.region]


class Credentials(BaseModel):
    """Site ID and API key (Track API), or the Pipelines source API key (``site_id`` unused).

    ``api_key`` is a ``SecretStr``: its ``repr`` and ``str`` are masked, so an accidental log
    line or exception message does not leak it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    site_id: str = ""
    api_key: SecretStr

    def authorization(self, mode: Mode) -> str:
        """The ``Authorization`` header value for ``mode``."""
        if mode is Mode.PIPELINES:
            user, password = self.api_key.get_secret_value(), ""
        else:
            user, password = self.site_id, self.api_key.get_secret_value()
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        return f"Basic {token}"


class CredentialStore:
    """Credentials in the OS keyring, one entry per destination name."""

    def __init__(self, service: str = KEYRING_SERVICE) -> None:
        self.service = service

    def set(self, name: str, credentials: Credentials) -> None:
        """Store (or replace) the credentials of destination ``name``."""
        secret = orjson.dumps(
            {"site_id": credentials.site_id, "api_key": credentials.api_key.get_secret_value()}
        ).decode()
        keyring.set_password(self.service, name, secret)

    def get(self, name: str) -> Credentials | None:
        """The credentials of ``name``, or ``None`` if the keyring has none."""
        secret = keyring.get_password(self.service, name)
        if secret is None:
            return None
        data: dict[str, Any] = orjson.loads(secret)
        return Credentials(site_id=data.get("site_id", ""), api_key=SecretStr(data["api_key"]))

    def delete(self, name: str) -> None:
        """Forget the credentials of ``name`` (no error if there were none)."""
        with contextlib.suppress(keyring.errors.PasswordDeleteError):
            keyring.delete_password(self.service, name)


class DestinationStore:
    """Destination metadata in the inspector database; credentials go to the keyring."""

    def __init__(self, db: Database, credentials: CredentialStore | None = None) -> None:
        self._db = db
        self.credentials = credentials or CredentialStore()

    def save(self, destination: Destination, credentials: Credentials | None = None) -> None:
        """Store a destination, and its credentials in the keyring when given."""
        settings = destination.model_dump(
            mode="json", exclude={"name", "mode", "region", "marking"}
        )
        now = time.time()
        with self._db.transaction() as connection:
            connection.execute(
                "INSERT INTO destinations(name, mode, region, marking, settings, created_at, "
                "updated_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT(name) DO UPDATE SET "
                "mode = excluded.mode, region = excluded.region, marking = excluded.marking, "
                "settings = excluded.settings, updated_at = excluded.updated_at",
                (destination.name, str(destination.mode), str(destination.region),
                 str(destination.marking), orjson.dumps(settings).decode(), now, now),
            )
        if credentials is not None:
            self.credentials.set(destination.name, credentials)

    def get(self, name: str) -> Destination | None:
        """A destination by name."""
        row = self._db.connection().execute(
            "SELECT name, mode, region, marking, settings FROM destinations WHERE name = ?",
            (name,),
        ).fetchone()
        return _destination(row) if row else None

    def list(self) -> list[Destination]:
        """All destinations, by name."""
        rows = self._db.connection().execute(
            "SELECT name, mode, region, marking, settings FROM destinations ORDER BY name"
        )
        return [_destination(row) for row in rows]

    def delete(self, name: str) -> None:
        """Remove a destination and its keyring entry."""
        with self._db.transaction() as connection:
            connection.execute("DELETE FROM destinations WHERE name = ?", (name,))
        self.credentials.delete(name)


def _destination(row: tuple[Any, ...]) -> Destination:
    return Destination(
        name=row[0], mode=row[1], region=row[2], marking=row[3], **orjson.loads(row[4])
    )
