"""Destinations: keyring credentials, no secrets at rest, test connection, stand-in rules."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from inspector.core.replay import (
    Credentials,
    Destination,
    DestinationStore,
    Marking,
    Mode,
    Region,
    ReplayClient,
)
from inspector.core.store.connection import Database
from tests.support.customerio_standin import CustomerIOStandIn
from tests.support.keyring import MemoryKeyring

SECRET = "super-secret-api-key-0123"


def test_credentials_go_to_the_keyring_and_never_to_the_database(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    db_path = tmp_path / "db.sqlite"
    store = DestinationStore(Database(db_path))
    destination = Destination(name="Staging EU", region=Region.EU, marking=Marking.STAGING)
    credentials = Credentials(site_id="site-1", api_key=SecretStr(SECRET))
    store.save(destination, credentials)

    assert store.get("Staging EU") == destination
    assert store.list() == [destination]
    assert store.credentials.get("Staging EU") == credentials
    assert SECRET in (memory_keyring.get_password("inspector.replay", "Staging EU") or "")
    for path in tmp_path.glob("db.sqlite*"):
        assert SECRET.encode() not in path.read_bytes()
    assert SECRET not in repr(credentials)
    assert SECRET not in str(credentials)
    assert SECRET not in destination.model_dump_json()

    store.delete("Staging EU")
    assert store.get("Staging EU") is None
    assert store.credentials.get("Staging EU") is None


def test_authorization_headers_per_mode() -> None:
    credentials = Credentials(site_id="site", api_key=SecretStr("key"))
    assert credentials.authorization(Mode.CLASSIC) == "Basic " + base64.b64encode(
        b"site:key").decode()
    assert credentials.authorization(Mode.PIPELINES) == "Basic " + base64.b64encode(
        b"key:").decode()


@pytest.mark.parametrize(("server_region", "mismatch"), [("us", False), ("eu", True)])
async def test_test_connection_checks_the_region(
    standin: CustomerIOStandIn, server_region: str, mismatch: bool
) -> None:
    standin.region = server_region
    destination = Destination(name="d", region=Region.US, track_host=standin.base_url)
    credentials = Credentials(site_id=standin.site_id, api_key=SecretStr(standin.api_key))
    async with ReplayClient(destination, credentials) as client:
        check = await client.test_connection()
    assert check.ok
    assert check.region_mismatch is mismatch
    assert ("EU region" in check.message) is mismatch


async def test_test_connection_reports_bad_credentials_without_leaking_them(
    standin: CustomerIOStandIn,
) -> None:
    destination = Destination(name="d", track_host=standin.base_url)
    credentials = Credentials(site_id=standin.site_id, api_key=SecretStr(SECRET))
    async with ReplayClient(destination, credentials) as client:
        check = await client.test_connection()
    assert not check.ok
    assert "401" in check.message
    assert SECRET not in check.message


async def test_network_errors_come_back_as_results_without_secrets() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    destination = Destination(name="d", track_host="http://127.0.0.1:9")
    credentials = Credentials(site_id="s", api_key=SecretStr(SECRET))
    from inspector.core.replay import HttpRequest

    async with ReplayClient(destination, credentials,
                            transport=httpx.MockTransport(refuse)) as client:
        result = await client.send(HttpRequest("POST", "http://127.0.0.1:9/x", {}))
    assert result.status is None
    assert result.retryable
    assert result.error is not None
    assert SECRET not in result.error


# ---- the stand-in itself enforces the documented rules


async def _post(standin: CustomerIOStandIn, path: str, body: object, *,
                auth: str | None = None, method: str = "POST") -> httpx.Response:
    async with httpx.AsyncClient(base_url=standin.base_url) as http:
        return await http.request(method, path, json=body,
                                  headers={"Authorization": auth or standin.track_auth()})


async def test_standin_rules(standin: CustomerIOStandIn) -> None:
    wrong = "Basic " + base64.b64encode(b"site-123:nope").decode()
    assert (await _post(standin, "/api/v1/events", {"name": "x"}, auth=wrong)).status_code == 401

    missing_name = await _post(standin, "/api/v1/customers/u/events", {"data": {}})
    assert missing_name.status_code == 400
    assert missing_name.json() == {"meta": {"errors": ["name is required"]}}

    merge = await _post(standin, "/api/v1/merge_customers",
                        {"primary": {"id": "a", "email": "b"}, "secondary": {"id": "c"}})
    assert merge.status_code == 400
    assert "error" in merge.json()["meta"]

    too_many = {f"a{i}": i for i in range(301)}
    assert (await _post(standin, "/api/v1/customers/u", too_many, method="PUT")).status_code \
        == 400
    long_value = await _post(standin, "/api/v1/customers/u", {"a": "x" * 1001}, method="PUT")
    assert long_value.status_code == 400
    long_id = await _post(standin, "/api/v1/customers/" + "i" * 151, {}, method="PUT")
    assert long_id.status_code == 400

    batch = {"batch": [
        {"type": "person", "action": "event", "identifiers": {"id": "u"}, "name": "ok"},
        {"type": "person", "action": "event", "identifiers": {"id": "u", "email": "e"},
         "name": "bad"},
    ]}
    partial = await _post(standin, "/api/v2/batch", batch)
    assert partial.status_code == 207
    assert [e["batch_index"] for e in partial.json()["errors"]] == [1]
    huge = await _post(standin, "/api/v2/batch", {"batch": [{"x": "y" * 500_001}]})
    assert huge.status_code == 400
    assert set(huge.json()["errors"][0]) == {"reason", "field", "message"}

    event = {"name": "e", "id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}
    for _ in range(2):
        assert (await _post(standin, "/api/v1/customers/u/events", event)).status_code == 200
    assert standin.duplicates == 1

    standin.inject(429, retry_after="3")
    throttled = await _post(standin, "/api/v1/customers/u/events", event)
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "3"


def test_retry_after_parsing() -> None:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    from inspector.core.replay.client import parse_retry_after

    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    seconds = parse_retry_after(later)
    assert seconds is not None
    assert 25 < seconds <= 30
