"""Contract: inspector's Track v1 requests equal what the official ``customerio`` 3.x sends.

For each call the official client is driven with the same data (timestamps handed to it as
``datetime`` objects, so *its* code turns them into unix seconds), and what it puts on the wire
is captured twice: at the ``requests`` adapter level (exact URL) and by pointing it at the HTTPS
stand-in. Method, path with percent-encoding, Basic auth header and JSON body must match.

The one documented difference: ``pageview()`` cannot send ``id`` or ``timestamp``; inspector adds
both (dedupe and ordering), so for pages those two keys are checked separately.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import trustme
from customerio import CustomerIO
from requests.adapters import BaseAdapter

from inspector.core.replay import (
    Credentials,
    Destination,
    HttpRequest,
    Mode,
    PlannedRequest,
    ReplayClient,
    ReplayItem,
    stable_event_id,
)
from inspector.core.replay.mapping.classic import ClassicMapper
from inspector.core.timeutil import parse_timestamp
from tests.support.customerio_standin import CustomerIOStandIn
from tests.support.events import make_event

SITE_ID, API_KEY = "site-123", "track-key-456"


def _dt(value: str) -> datetime:
    parsed = parse_timestamp(value)
    assert parsed is not None
    return parsed


@dataclass(frozen=True)
class Case:
    """A Segment call, and the same data given to the official client."""

    name: str
    event: dict[str, Any]
    library_call: Callable[[CustomerIO], Any]
    extra_keys: frozenset[str] = frozenset()


IDENTIFY = make_event(
    "identify", index=1, userId="user@example.com", anonymousId="anon-1",
    traits={"email": "user@example.com", "createdAt": "2024-01-02T03:04:05.000Z",
            "plan": "pro", "seats": 3, "trial_ends": "2024-02-01T00:00:00Z"},
)
TRACK = make_event(
    "track", index=2, userId="a/b c?d", event="Order Completed",
    timestamp="2026-11-20T10:00:00.250Z",
    properties={"total": 12.5, "ordered_at": "2026-11-20T09:59:00Z",
                "items": [{"sku": "X"}], "note": "naïve ünïcode"},
)
PAGE = make_event("page", index=3, userId="u-42", name="Pricing",
                  properties={"url": "https://example.com/pricing", "path": "/pricing"})
SCREEN = make_event("screen", index=4, userId="u-42", name="Cart", properties={"items": 2})
ANONYMOUS = make_event("track", index=5, anonymousId="anon-7", event="Viewed Promo",
                       properties={"promo": "bf"})
ALIAS = make_event("alias", index=6, userId="new@example.com", previousId="old-id")

CASES = [
    Case("identify", IDENTIFY, lambda cio: cio.identify(
        "user@example.com", email="user@example.com", created_at=_dt("2024-01-02T03:04:05Z"),
        plan="pro", seats=3, trial_ends=_dt("2024-02-01T00:00:00Z"), anonymous_id="anon-1")),
    Case("track", TRACK, lambda cio: cio.track(
        "a/b c?d", "Order Completed",
        data={"total": 12.5, "ordered_at": _dt("2026-11-20T09:59:00Z"), "items": [{"sku": "X"}],
              "note": "naïve ünïcode"},
        id=stable_event_id(TRACK), timestamp=_dt("2026-11-20T10:00:00.250Z"))),
    Case("page", PAGE, lambda cio: cio.pageview(
        "u-42", "Pricing", url="https://example.com/pricing", path="/pricing"),
        extra_keys=frozenset({"id", "timestamp"})),
    Case("screen", SCREEN, lambda cio: cio.track(
        "u-42", "Viewed Cart Screen", data={"items": 2}, id=stable_event_id(SCREEN),
        timestamp=_dt(SCREEN["timestamp"]))),
    Case("anonymous track", ANONYMOUS, lambda cio: cio.track_anonymous(
        "anon-7", "Viewed Promo", data={"promo": "bf"}, id=stable_event_id(ANONYMOUS),
        timestamp=_dt(ANONYMOUS["timestamp"]))),
    Case("merge", ALIAS, lambda cio: cio.merge_customers(
        "email", "new@example.com", "id", "old-id")),
]


def _ours(case: Case, host: str | None = None) -> HttpRequest:
    destination = Destination(name="staging", mode=Mode.CLASSIC, send_anonymous=True,
                              track_host=host)
    planned = ClassicMapper(destination).map_one(ReplayItem(0, 1, case.event))
    assert isinstance(planned, PlannedRequest), planned
    return planned.request


class _CapturingAdapter(BaseAdapter):
    """A ``requests`` transport that records the prepared request and answers 200 ``{}``."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
             ) -> requests.Response:
        self.sent.append(request)
        response = requests.Response()
        response.status_code = 200
        response._content = b"{}"
        response.request = request
        response.url = request.url or ""
        return response

    def close(self) -> None:
        pass


def _compare_bodies(case: Case, ours: Any, theirs: Any) -> None:
    if case.extra_keys:
        assert set(ours) - set(theirs) == case.extra_keys
        assert ours["id"] == stable_event_id(case.event)
        assert isinstance(ours["timestamp"], int)
        ours = {key: value for key, value in ours.items() if key not in case.extra_keys}
    assert ours == theirs


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_v1_requests_match_the_official_client_at_the_adapter(case: Case) -> None:
    cio = CustomerIO(SITE_ID, API_KEY)
    adapter = _CapturingAdapter()
    cio.http.mount("https://", adapter)
    case.library_call(cio)
    (theirs,) = adapter.sent
    ours = _ours(case)
    credentials = Credentials(site_id=SITE_ID, api_key=API_KEY)  # type: ignore[arg-type]

    assert ours.method == theirs.method
    assert ours.url == theirs.url
    assert credentials.authorization(Mode.CLASSIC) == theirs.headers["Authorization"]
    assert theirs.body is not None
    _compare_bodies(case, json.loads(ours.content()), json.loads(theirs.body))


async def test_v1_requests_match_the_official_client_on_the_https_standin(
    standin_tls: CustomerIOStandIn, tls_ca: trustme.CA, client_ssl: ssl.SSLContext,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # requests lets these variables override a session's own CA bundle.
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    ca_file = tmp_path / "ca.pem"
    tls_ca.cert_pem.write_to_path(str(ca_file))
    port = int(standin_tls.base_url.rsplit(":", 1)[1])
    cio = CustomerIO(SITE_ID, API_KEY, host="127.0.0.1", port=port, retries=0)
    cio.http.verify = str(ca_file)

    destination = Destination(name="staging", mode=Mode.CLASSIC, send_anonymous=True,
                              track_host=standin_tls.base_url)
    client = ReplayClient(destination, Credentials(site_id=SITE_ID, api_key=API_KEY),  # type: ignore[arg-type]
                          verify=client_ssl)
    async with client:
        for case in CASES:
            await asyncio.to_thread(case.library_call, cio)
            theirs = standin_tls.requests[-1]
            result = await client.send(_ours(case, standin_tls.base_url))
            ours = standin_tls.requests[-1]
            assert result.status == 200, (case.name, result.body)
            assert theirs.status == 200
            assert ours.method == theirs.method
            assert ours.raw_path == theirs.raw_path, case.name
            assert ours.headers["Authorization"] == theirs.headers["Authorization"]
            _compare_bodies(case, ours.json(), theirs.json())
    cio.close()
    # Track, screen and anonymous events arrived twice with the same id: deduplicated. The
    # library's page view has no id, so both copies of the page were stored.
    assert standin_tls.duplicates == 3
