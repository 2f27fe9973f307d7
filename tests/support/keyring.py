"""An in-memory keyring backend, so no test ever touches the developer's real keyring."""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked


class MemoryKeyring(KeyringBackend):
    """A keyring that lives in a dict."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


class PlaintextFileKeyring(MemoryKeyring):
    """Stands in for keyrings.alt's ``PlaintextKeyring`` (not installed with the tests): the
    same class identity, so inspector's detection sees it as that plaintext file backend."""

    file_path = "/home/tester/.local/share/python_keyring/keyring_pass.cfg"


PlaintextFileKeyring.__module__ = "keyrings.alt.file"
PlaintextFileKeyring.__qualname__ = PlaintextFileKeyring.__name__ = "PlaintextKeyring"


class LockedKeyring(MemoryKeyring):
    """An OS keyring that fails every write (locked, D-Bus gone): nothing may be half saved."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("the collection is locked")
