"""Fixtures for replay tests: an isolated keyring, the stand-in over HTTP and HTTPS."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import keyring
import pytest
import trustme
from keyring.backend import KeyringBackend
from keyrings.alt.file import PlaintextKeyring

from tests.support.customerio_standin import CustomerIOStandIn


@pytest.fixture(autouse=True)
def isolated_keyring(tmp_path: Path) -> Iterator[KeyringBackend]:
    """Never touch the developer's real keyring: a plaintext file keyring in tmp_path."""
    previous = keyring.get_keyring()
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring.cfg")  # type: ignore[misc]
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(scope="session")
def tls_ca() -> trustme.CA:
    """A throwaway CA for the HTTPS stand-in."""
    return trustme.CA()


@pytest.fixture
def client_ssl(tls_ca: trustme.CA) -> ssl.SSLContext:
    """A client context trusting the throwaway CA."""
    context = ssl.create_default_context()
    tls_ca.configure_trust(context)
    return context


@pytest.fixture
async def standin() -> AsyncIterator[CustomerIOStandIn]:
    """The stand-in over plain HTTP."""
    server = CustomerIOStandIn()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def standin_tls(tls_ca: trustme.CA) -> AsyncIterator[CustomerIOStandIn]:
    """The stand-in over HTTPS, with a certificate for 127.0.0.1 from ``tls_ca``."""
    server = CustomerIOStandIn()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    await server.start(ssl_context=context)
    yield server
    await server.stop()
