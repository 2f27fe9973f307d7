"""Replay destinations: metadata in the database, credentials in the keyring or the environment.

A :class:`Destination` carries no secret at all, so it can be stored, logged, exported and shown
freely. Its :class:`Credentials` are kept by :class:`CredentialStore` in the keyring under the
destination's name (never a plaintext backend unless the user opts in, see
:mod:`inspector.core.secrets`), or read at send time from the environment variable the
destination names; either way they only ever become an ``Authorization`` header at send time.
"""

from __future__ import annotations

import base64
import os
import time
from enum import StrEnum
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from inspector.core.secrets import (
    KeyringInfo,
    delete_secret,
    describe_keyring,
    read_secret,
    store_secret,
)
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
    #: Read the API key from this environment variable at send time instead of the keyring.
    api_key_env: str | None = Field(default=None, min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    #: The Site ID of a destination whose key comes from ``api_key_env`` (an identifier, not a
    #: secret: with a keyring entry it is kept there, beside the key).
    site_id: str = ""

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
    """Credentials in the keyring, one entry per destination name."""

    def __init__(self, service: str = KEYRING_SERVICE, *, allow_plaintext: bool = False) -> None:
        self.service = service
        #: Store in a plaintext keyring backend anyway (the user opted in).
        self.allow_plaintext = allow_plaintext

    @staticmethod
    def backend() -> KeyringInfo:
        """The keyring backend secrets would go to."""
        return describe_keyring()

    def set(self, name: str, credentials: Credentials) -> KeyringInfo:
        """Store (or replace) the credentials of destination ``name``; the backend used.

        Raises :class:`~inspector.core.secrets.SecretStoreError` (nothing stored) when the
        backend is plaintext without the opt-in, keeps nothing, or fails.
        """
        secret = orjson.dumps(
            {"site_id": credentials.site_id, "api_key": credentials.api_key.get_secret_value()}
        ).decode()
        return store_secret(self.service, name, secret, allow_plaintext=self.allow_plaintext)

    def get(self, name: str) -> Credentials | None:
        """The credentials of ``name``, or ``None`` if the keyring has none (or there is no
        keyring); :class:`~inspector.core.secrets.SecretStoreError` if it cannot be read."""
        secret = read_secret(self.service, name)
        if secret is None:
            return None
        data: dict[str, Any] = orjson.loads(secret)
        return Credentials(site_id=data.get("site_id", ""), api_key=SecretStr(data["api_key"]))

    def delete(self, name: str) -> None:
        """Forget the credentials of ``name`` (no error if there were none)."""
        delete_secret(self.service, name)

    def _raw(self, name: str) -> str | None:
        return read_secret(self.service, name)

    def _restore(self, name: str, raw: str | None) -> None:
        if raw is None:
            delete_secret(self.service, name)
        else:
            store_secret(self.service, name, raw, allow_plaintext=True)


class DestinationStore:
    """Destination metadata in the inspector database; credentials go to the keyring."""

    def __init__(self, db: Database, credentials: CredentialStore | None = None) -> None:
        self._db = db
        self.credentials = credentials or CredentialStore()

    def save(self, destination: Destination, credentials: Credentials | None = None) -> None:
        """Store a destination, and its credentials in the keyring when given, as one step.

        The secret goes first: when the keyring refuses or fails,
        :class:`~inspector.core.secrets.SecretStoreError` is raised and nothing is saved. When
        the database write fails after that, the previous keyring entry is put back. A
        destination that reads its key from ``api_key_env`` stores no secret (and forgets any
        keyring entry it had).
        """
        previous: str | None = None
        stored_secret = credentials is not None and destination.api_key_env is None
        if stored_secret:
            assert credentials is not None
            previous = self.credentials._raw(destination.name)
            self.credentials.set(destination.name, credentials)
        settings = destination.model_dump(
            mode="json", exclude={"name", "mode", "region", "marking"}
        )
        now = time.time()
        try:
            with self._db.transaction() as connection:
                connection.execute(
                    "INSERT INTO destinations(name, mode, region, marking, settings, created_at, "
                    "updated_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT(name) DO UPDATE SET "
                    "mode = excluded.mode, region = excluded.region, marking = excluded.marking, "
                    "settings = excluded.settings, updated_at = excluded.updated_at",
                    (destination.name, str(destination.mode), str(destination.region),
                     str(destination.marking), orjson.dumps(settings).decode(), now, now),
                )
        except BaseException:
            if stored_secret:
                self.credentials._restore(destination.name, previous)
            raise
        if destination.api_key_env is not None:
            self.credentials.delete(destination.name)

    def credentials_for(self, destination: Destination) -> Credentials | None:
        """What to send with: the environment variable's key when the destination names
        one, else the keyring entry; ``None`` when there is none (see
        :meth:`missing_credentials`)."""
        if destination.api_key_env is not None:
            key = os.environ.get(destination.api_key_env)
            return Credentials(site_id=destination.site_id, api_key=SecretStr(key)) if key \
                else None
        return self.credentials.get(destination.name)

    def missing_credentials(self, destination: Destination) -> str:
        """Why :meth:`credentials_for` found nothing, for a message."""
        if destination.api_key_env is not None:
            return (f"the environment variable {destination.api_key_env} (the API key of "
                    f"{destination.name!r}) is not set")
        return f"no credentials for {destination.name!r} in the {describe_keyring().name}"

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
