"""Fixtures for replay tests: an isolated keyring, the stand-in over HTTP and HTTPS."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator

import pytest
import trustme

from tests.support.customerio_standin import CustomerIOStandIn


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
