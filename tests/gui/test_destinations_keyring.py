"""The destinations dialog with a plaintext, missing or failing keyring, and an API key taken
from an environment variable: it says what the backend is and never half saves."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import keyring
import keyring.backends.fail
import pytest
from PySide6.QtWidgets import QMessageBox

from inspector.core.replay import DestinationStore
from inspector.core.store import EventStore
from inspector.core.store.connection import Database
from inspector.gui.widgets.destinations_dialog import DestinationsDialog
from tests.support.keyring import LockedKeyring, MemoryKeyring, PlaintextFileKeyring


@pytest.fixture
def db(store: EventStore) -> Database:
    return Database(store.path)


@pytest.fixture
def backend_restored() -> Iterator[None]:
    previous = keyring.get_keyring()
    yield
    keyring.set_keyring(previous)


def _dialog(qtbot: Any, db: Database) -> DestinationsDialog:
    dialog = DestinationsDialog(db)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.name.setText("staging")
    dialog.site_id.setText("site-1")
    dialog.host.setText("http://127.0.0.1:9")
    return dialog


def _refusal(qtbot: Any, dialog: DestinationsDialog) -> QMessageBox:
    box = dialog.error_box
    assert box is not None
    qtbot.waitUntil(box.isVisible)
    return box


def test_plaintext_keyring_is_named_and_refused_until_the_user_opts_in(
    qtbot: Any, db: Database, backend_restored: None
) -> None:
    plaintext = PlaintextFileKeyring()
    keyring.set_keyring(plaintext)
    dialog = _dialog(qtbot, db)
    assert dialog.keyring_label.text() == (
        f"Keys are kept in: plaintext file {plaintext.file_path} — not encrypted")
    assert dialog.allow_plaintext.isVisible()
    assert not dialog.allow_plaintext.isChecked()
    dialog.api_key.setText("secret-key")
    assert not dialog.save()
    box = _refusal(qtbot, dialog)
    assert "not encrypted" in box.text()
    assert "plaintext file anyway" in box.informativeText()
    box.accept()
    assert dialog.names() == []
    assert plaintext.store == {}

    dialog.allow_plaintext.setChecked(True)
    assert dialog.save(), dialog.message.text()
    assert dialog.names() == ["staging"]
    assert "secret-key" in plaintext.store[("inspector.replay", "staging")]
    assert "not encrypted" in dialog.message.text()


@pytest.mark.parametrize("backend", [keyring.backends.fail.Keyring, LockedKeyring],
                         ids=["no backend", "locked keyring"])
def test_a_keyring_that_cannot_store_gives_a_dialog_and_saves_nothing(
    qtbot: Any, db: Database, backend_restored: None, backend: type[Any]
) -> None:
    keyring.set_keyring(backend())
    dialog = _dialog(qtbot, db)
    assert not dialog.allow_plaintext.isVisible()
    dialog.api_key.setText("secret-key")
    assert not dialog.save()
    box = _refusal(qtbot, dialog)
    assert "'staging' was not saved" in box.text()
    assert "environment variable" in box.informativeText()
    box.accept()
    assert dialog.names() == []
    assert DestinationStore(db).list() == []


def test_an_environment_variable_key_saves_without_any_keyring(
    qtbot: Any, db: Database, backend_restored: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    dialog = _dialog(qtbot, db)
    dialog.key_env.setText("CIO_DIALOG_KEY")
    assert not dialog.save()  # not set in inspector's environment
    assert "CIO_DIALOG_KEY is not set" in dialog.message.text()
    monkeypatch.setenv("CIO_DIALOG_KEY", "secret-from-env")
    assert dialog.save(), dialog.message.text()
    saved = DestinationStore(db).get("staging")
    assert saved is not None
    assert (saved.api_key_env, saved.site_id) == ("CIO_DIALOG_KEY", "site-1")
    assert "$CIO_DIALOG_KEY" in dialog.key_state.text()
    credentials = DestinationStore(db).credentials_for(saved)
    assert credentials is not None
    assert credentials.api_key.get_secret_value() == "secret-from-env"


def test_a_secure_backend_is_named_in_the_dialog(
    qtbot: Any, db: Database, memory_keyring: MemoryKeyring
) -> None:
    dialog = _dialog(qtbot, db)
    assert "MemoryKeyring" in dialog.keyring_label.text()
    assert not dialog.allow_plaintext.isVisible()
    dialog.api_key.setText("k")
    assert dialog.save()
    assert "MemoryKeyring" in dialog.key_state.text()
