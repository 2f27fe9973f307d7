"""Which keyring backend holds a secret, refusing plaintext without an opt-in, all-or-nothing
saves, and API keys read from the environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backends.chainer
import keyring.backends.fail
import keyring.backends.null
import orjson
import pytest
from pydantic import SecretStr

from inspector.cli import main
from inspector.core.replay import Credentials, CredentialStore, Destination, DestinationStore
from inspector.core.secrets import (
    ALLOW_PLAINTEXT_ENV,
    BackendKind,
    PlaintextKeyringError,
    SecretStoreError,
    describe_keyring,
    store_secret,
)
from inspector.core.store.connection import Database
from tests.support.customerio_standin import CustomerIOStandIn
from tests.support.keyring import LockedKeyring, MemoryKeyring, PlaintextFileKeyring

KEY = "cio-secret-key-123"


@pytest.fixture
def plaintext() -> Iterator[PlaintextFileKeyring]:
    previous = keyring.get_keyring()
    backend = PlaintextFileKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def use_backend() -> Iterator[list[object]]:
    previous = keyring.get_keyring()
    yield []
    keyring.set_keyring(previous)


def _destination(**extra: object) -> Destination:
    return Destination(name="staging", track_host="http://127.0.0.1:9", **extra)  # type: ignore[arg-type]


def _credentials() -> Credentials:
    return Credentials(site_id="site-1", api_key=SecretStr(KEY))


def test_backends_are_named_plainly(plaintext: PlaintextFileKeyring) -> None:
    info = describe_keyring()
    assert info.kind is BackendKind.PLAINTEXT
    assert info.description == (f"plaintext file {plaintext.file_path} — not encrypted")
    assert describe_keyring(keyring.backends.fail.Keyring()).kind is BackendKind.UNAVAILABLE
    assert describe_keyring(keyring.backends.null.Keyring()).kind is BackendKind.UNAVAILABLE

    class Chain(keyring.backends.chainer.ChainerBackend):
        backends = (plaintext, MemoryKeyring())  # type: ignore[assignment]

    # The chainer writes to its first backend.
    assert describe_keyring(Chain()).kind is BackendKind.PLAINTEXT
    assert describe_keyring(MemoryKeyring()).kind is BackendKind.OTHER


def test_the_real_plaintext_backend_is_recognised_when_installed() -> None:
    file = pytest.importorskip("keyrings.alt.file")
    info = describe_keyring(file.PlaintextKeyring())
    assert info.kind is BackendKind.PLAINTEXT
    assert "not encrypted" in info.description


def test_plaintext_is_refused_unless_opted_in(
    plaintext: PlaintextFileKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(PlaintextKeyringError, match="--allow-plaintext-keyring"):
        store_secret("svc", "name", KEY)
    assert plaintext.store == {}
    store_secret("svc", "name", KEY, allow_plaintext=True)
    assert plaintext.store == {("svc", "name"): KEY}
    monkeypatch.setenv(ALLOW_PLAINTEXT_ENV, "1")
    store_secret("svc", "other", KEY)
    assert ("svc", "other") in plaintext.store


@pytest.mark.parametrize("backend", [keyring.backends.fail.Keyring, LockedKeyring],
                         ids=["no backend", "locked keyring"])
def test_a_secret_that_cannot_be_stored_leaves_no_half_saved_destination(
    tmp_path: Path, use_backend: list[object], backend: type[keyring.backend.KeyringBackend],
) -> None:
    keyring.set_keyring(backend())
    store = DestinationStore(Database(tmp_path / "db.sqlite3"))
    with pytest.raises(SecretStoreError):
        store.save(_destination(), _credentials())
    assert store.list() == []


def test_a_failed_database_write_puts_the_previous_secret_back(
    tmp_path: Path, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(tmp_path / "db.sqlite3")
    store = DestinationStore(db)
    store.save(_destination(), _credentials())
    before = dict(memory_keyring.store)

    def broken() -> object:
        raise OSError("disk full")

    monkeypatch.setattr(db, "transaction", broken)
    with pytest.raises(OSError, match="disk full"):
        store.save(_destination(), Credentials(site_id="site-2", api_key=SecretStr("new")))
    assert memory_keyring.store == before


def test_an_environment_key_is_never_stored_and_is_read_at_send_time(
    tmp_path: Path, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = DestinationStore(Database(tmp_path / "db.sqlite3"))
    store.save(_destination(), _credentials())  # first in the keyring
    env_destination = _destination(api_key_env="CIO_KEY", site_id="site-1")
    store.save(env_destination, _credentials())
    assert memory_keyring.store == {}  # switched to the environment: the entry is gone
    assert KEY.encode() not in (tmp_path / "db.sqlite3").read_bytes()
    saved = store.get("staging")
    assert saved is not None
    assert store.credentials_for(saved) is None
    assert "CIO_KEY" in store.missing_credentials(saved)
    monkeypatch.setenv("CIO_KEY", KEY)
    credentials = store.credentials_for(saved)
    assert credentials is not None
    assert (credentials.site_id, credentials.api_key.get_secret_value()) == ("site-1", KEY)


# ---- the command line


def _add(server: CustomerIOStandIn, db: Path, *extra: str) -> list[str]:
    return ["replay", "--db", str(db), "--add-destination", "Staging", "--mode", "classic",
            "--site-id", server.site_id, "--api-key-env", "CIO_TEST_KEY",
            "--track-host", server.base_url, *extra]


def test_cli_refuses_a_plaintext_keyring_with_exit_2_and_saves_nothing(
    server: CustomerIOStandIn, db: Path, plaintext: PlaintextFileKeyring,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CIO_TEST_KEY", server.api_key)
    assert main(_add(server, db)) == 2
    err = capsys.readouterr().err
    assert f"plaintext file {plaintext.file_path} — not encrypted" in err
    assert "--allow-plaintext-keyring" in err
    assert plaintext.store == {}
    assert main(["replay", "--db", str(db), "--list-destinations"]) == 0
    listed = capsys.readouterr()
    assert listed.out == ""
    assert "plaintext file" in listed.err

    assert main(_add(server, db, "--allow-plaintext-keyring")) == 0
    assert "not encrypted" in capsys.readouterr().err  # says where it went
    assert server.api_key in next(iter(plaintext.store.values()))


def test_cli_key_from_env_is_used_by_replay(
    server: CustomerIOStandIn, db: Path, memory_keyring: MemoryKeyring,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CIO_TEST_KEY", server.api_key)
    assert main(_add(server, db, "--key-from-env")) == 0
    assert memory_keyring.store == {}
    replay = ["replay", "--db", str(db), "--session", "qa", "--destination", "Staging"]
    monkeypatch.delenv("CIO_TEST_KEY")
    assert main(replay) == 2
    assert "CIO_TEST_KEY" in capsys.readouterr().err
    assert server.requests == []
    monkeypatch.setenv("CIO_TEST_KEY", server.api_key)
    assert main(replay) == 0
    summary = orjson.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["counts"]["sent"] == 2  # Classic drops the anonymous one
    assert server.events  # authenticated with the environment's key


def test_plan_token_refuses_a_plaintext_keyring(
    plaintext: PlaintextFileKeyring, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("token-abc\n"))
    assert main(["plan", "token", "work"]) == 2
    assert "not encrypted" in capsys.readouterr().err
    assert plaintext.store == {}
    monkeypatch.setattr("sys.stdin", io.StringIO("token-abc\n"))
    assert main(["plan", "token", "work", "--allow-plaintext-keyring"]) == 0
    assert "plaintext file" in capsys.readouterr().out


def test_credential_store_opt_in_flag(plaintext: PlaintextFileKeyring) -> None:
    CredentialStore(allow_plaintext=True).set("x", _credentials())
    assert ("inspector.replay", "x") in plaintext.store
