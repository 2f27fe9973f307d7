"""Body decoding, JSON parsing and write-key extraction, without a server."""

from __future__ import annotations

import base64
import gzip
import zlib

import pytest

from inspector.core.capture.decode import (
    MAX_REQUEST_BYTES,
    RequestError,
    decode_body,
    parse_json,
    write_key_from,
)


def test_gzip_and_both_deflate_flavours_are_decoded() -> None:
    body = b'{"batch": []}'
    assert decode_body(gzip.compress(body), "gzip", limit=1000) == body
    assert decode_body(zlib.compress(body), "deflate", limit=1000) == body
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw_deflate = raw.compress(body) + raw.flush()
    assert decode_body(raw_deflate, "deflate", limit=1000) == body


def test_gzip_bomb_stops_at_the_limit() -> None:
    bomb = gzip.compress(b"0" * (50 * 1024 * 1024))  # 50 MB of zeros in ~50 KB
    with pytest.raises(RequestError) as caught:
        decode_body(bomb, "gzip", limit=MAX_REQUEST_BYTES)
    assert caught.value.code == "payload_too_large"
    assert "inflates to more than 512,000 bytes" in caught.value.message


def test_corrupt_and_truncated_gzip_are_named() -> None:
    with pytest.raises(RequestError, match="not valid gzip"):
        decode_body(b"not gzip at all", "gzip", limit=1000)
    with pytest.raises(RequestError, match="truncated gzip"):
        decode_body(gzip.compress(b'{"a": 1}' * 50)[:20], "gzip", limit=1000)


def test_unknown_encoding_is_415() -> None:
    with pytest.raises(RequestError) as caught:
        decode_body(b"{}", "br", limit=1000)
    assert caught.value.http_status == 415


def test_identity_body_over_limit() -> None:
    with pytest.raises(RequestError, match="Payload is too large"):
        decode_body(b"x" * 11, None, limit=10)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", "the request body is empty"),
        (b"{bad", "line 1 column 2"),
        (b'{"a": "\xff"}', "UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_json_errors_are_precise(body: bytes, expected: str) -> None:
    with pytest.raises(RequestError) as caught:
        parse_json(body)
    assert caught.value.code == "invalid_json"
    assert expected in caught.value.message


def test_write_key_precedence_basic_then_body_then_secret() -> None:
    basic = "Basic " + base64.b64encode(b"from-basic:").decode()
    body = {"writeKey": "from-body", "secret": "from-secret"}
    assert write_key_from(basic, body) == ("from-basic", "basic")
    assert write_key_from(None, body) == ("from-body", "body")
    assert write_key_from(None, {"secret": "from-secret"}) == ("from-secret", "secret")
    assert write_key_from("Bearer token", {"writeKey": "k"}) == ("k", "body")
    # Without the colon (tolerated by Segment "for backward compatibility").
    assert write_key_from("Basic " + base64.b64encode(b"nocolon").decode(), None) == (
        "nocolon", "basic"
    )
    assert write_key_from("Basic !!!", None) == (None, None)
    assert write_key_from(None, {}) == (None, None)
