"""Which keyring backend would hold a secret, said plainly, and storing only where it is safe.

``keyring`` picks the highest-priority backend it can load. On a desktop that is the Secret
Service, the macOS Keychain or the Windows Credential Manager; but with keyrings.alt installed
and no desktop keyring running it is a *plaintext file*, and with nothing at all it is the
``fail`` backend that raises on every call. inspector names the active backend wherever it
stores a secret, refuses a plaintext (or keep-nothing) backend unless the user opts in
(``--allow-plaintext-keyring`` or ``INSPECTOR_ALLOW_PLAINTEXT_KEYRING=1``), and turns every
keyring failure into :class:`SecretStoreError` with a message for a human.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import keyring
import keyring.errors
from keyring.backends.chainer import ChainerBackend

__all__ = [
    "ALLOW_PLAINTEXT_ENV",
    "BackendKind",
    "KeyringInfo",
    "PlaintextKeyringError",
    "SecretStoreError",
    "delete_secret",
    "describe_keyring",
    "plaintext_allowed_by_environment",
    "read_secret",
    "store_secret",
]

ALLOW_PLAINTEXT_ENV = "INSPECTOR_ALLOW_PLAINTEXT_KEYRING"


class BackendKind(StrEnum):
    """How much a backend protects what it stores."""

    ENCRYPTED = "encrypted"  # an OS keyring, or an encrypted file
    PLAINTEXT = "plaintext"  # anyone who can read the file can read the secret
    UNAVAILABLE = "unavailable"  # stores nothing (fail / null backends)
    OTHER = "other"  # a third-party backend inspector does not know


class SecretStoreError(Exception):
    """A secret could not be stored, read or deleted; the message says why and what to do."""


class PlaintextKeyringError(SecretStoreError):
    """The active backend would keep the secret unencrypted and the user has not opted in."""


@dataclass(frozen=True)
class KeyringInfo:
    """The active keyring backend, for messages and for the store-or-refuse decision."""

    #: What users call it: "Secret Service (GNOME Keyring, KWallet)", "plaintext file".
    name: str
    #: The name with where it keeps things and how safe that is, for one line of UI.
    description: str
    kind: BackendKind
    #: ``module.Class`` of the backend.
    backend: str

    @property
    def usable(self) -> bool:
        """Whether storing a secret here can work at all."""
        return self.kind is not BackendKind.UNAVAILABLE


#: Known backends by ``module.Class`` (subclasses are matched through their MRO).
_KNOWN: dict[str, tuple[str, BackendKind]] = {
    "keyring.backends.SecretService.Keyring": ("Secret Service (GNOME Keyring, KWallet)",
                                               BackendKind.ENCRYPTED),
    "keyring.backends.libsecret.Keyring": ("libsecret (GNOME Keyring)", BackendKind.ENCRYPTED),
    "keyring.backends.kwallet.DBusKeyring": ("KWallet", BackendKind.ENCRYPTED),
    "keyring.backends.macOS.Keyring": ("macOS Keychain", BackendKind.ENCRYPTED),
    "keyring.backends.Windows.WinVaultKeyring": ("Windows Credential Manager",
                                                 BackendKind.ENCRYPTED),
    "keyrings.alt.file.EncryptedKeyring": ("encrypted file (keyrings.alt)",
                                           BackendKind.ENCRYPTED),
    "keyrings.alt.file.PlaintextKeyring": ("plaintext file (keyrings.alt)",
                                           BackendKind.PLAINTEXT),
    "keyring.backends.fail.Keyring": ("no keyring backend", BackendKind.UNAVAILABLE),
    "keyring.backends.null.Keyring": ("null keyring (keeps nothing)", BackendKind.UNAVAILABLE),
}


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def describe_keyring(backend: Any = None) -> KeyringInfo:
    """Describe ``backend`` (default: the active one, ``keyring.get_keyring()``)."""
    backend = keyring.get_keyring() if backend is None else backend
    qualified = _qualified(type(backend))
    if isinstance(backend, ChainerBackend):
        # The chainer writes to the first of its backends (by priority) that accepts.
        chained = list(backend.backends)
        if not chained:
            return KeyringInfo("no keyring backend", "no keyring backend is available",
                               BackendKind.UNAVAILABLE, qualified)
        return describe_keyring(chained[0])
    for cls in type(backend).__mro__:
        known = _KNOWN.get(_qualified(cls))
        if known is not None:
            name, kind = known
            break
    else:
        name, kind = f"{type(backend).__name__} ({type(backend).__module__})", BackendKind.OTHER
    description = name
    path = getattr(backend, "file_path", None)
    if kind is BackendKind.PLAINTEXT:
        description = f"plaintext file {path} — not encrypted"
    elif kind is BackendKind.ENCRYPTED and path:
        description = f"{name}: {path}"
    elif kind is BackendKind.UNAVAILABLE:
        description = (f"{name}: secrets cannot be stored (install and unlock an OS keyring, "
                       "or give the key through an environment variable)")
    return KeyringInfo(name, description, kind, qualified)


def plaintext_allowed_by_environment() -> bool:
    """Whether ``INSPECTOR_ALLOW_PLAINTEXT_KEYRING`` opts in to a plaintext backend."""
    return os.environ.get(ALLOW_PLAINTEXT_ENV, "").strip().lower() in ("1", "true", "yes")


def store_secret(service: str, name: str, secret: str, *,
                 allow_plaintext: bool = False) -> KeyringInfo:
    """Store ``secret`` under ``service``/``name``; the backend it went to.

    Raises :class:`PlaintextKeyringError` for a plaintext backend without the opt-in
    (``allow_plaintext`` or the environment variable), and :class:`SecretStoreError` when the
    backend cannot store anything or fails.
    """
    info = describe_keyring()
    if not info.usable:
        raise SecretStoreError(f"cannot store the secret: {info.description}")
    if info.kind is BackendKind.PLAINTEXT and not (
            allow_plaintext or plaintext_allowed_by_environment()):
        raise PlaintextKeyringError(
            f"refusing to store the secret in the {info.description}. Unlock or install an "
            "OS keyring, give the key through an environment variable, or opt in with "
            f"--allow-plaintext-keyring (or {ALLOW_PLAINTEXT_ENV}=1)")
    try:
        keyring.set_password(service, name, secret)
    except (keyring.errors.KeyringError, OSError) as error:
        raise SecretStoreError(f"the {info.name} could not store the secret: "
                               f"{error or type(error).__name__}") from None
    return info


def read_secret(service: str, name: str) -> str | None:
    """The secret under ``service``/``name``, ``None`` when there is none (or no backend)."""
    try:
        value = keyring.get_password(service, name)
    except keyring.errors.NoKeyringError:
        return None
    except (keyring.errors.KeyringError, OSError) as error:
        raise SecretStoreError(f"cannot read the {describe_keyring().name}: "
                               f"{error or type(error).__name__}") from None
    return None if value is None else str(value)


def delete_secret(service: str, name: str) -> None:
    """Forget ``service``/``name`` (no error when it was not there or there is no backend)."""
    try:
        keyring.delete_password(service, name)
    except (keyring.errors.PasswordDeleteError, keyring.errors.NoKeyringError):
        pass
    except (keyring.errors.KeyringError, OSError) as error:
        raise SecretStoreError(f"cannot delete from the {describe_keyring().name}: "
                               f"{error or type(error).__name__}") from None
