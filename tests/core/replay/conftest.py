"""Fixtures for replay tests: an isolated keyring, the stand-in over HTTP and HTTPS."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import trustme

from tests.support.customerio_standin import CustomerIOStandIn, StandInThread
from tests.support.events import add_events, make_event


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


@pytest.fixture
def server() -> Iterator[CustomerIOStandIn]:
    """The stand-in on its own thread (for the command line, which runs its own loop)."""
    with StandInThread(CustomerIOStandIn()) as standin:
        yield standin


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database with session "qa": an identify, a track and an anonymous track."""
    path = tmp_path / "inspector.sqlite"
    events = [make_event("identify", index=0, userId="u1"),
              make_event("track", index=1, userId="u1", event="Signed Up"),
              make_event("track", index=2, anonymousId="anon", event="Browsed")]
    store, _, _ = add_events(path, events, session="qa")
    store.close()
    return path
