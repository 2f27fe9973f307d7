"""From request bytes to JSON: content decoding, size limits, JSON parsing, write keys.

Pure functions with no I/O, so the rules (which are Segment's, see the limits below) are tested
without a server. Every failure is a :class:`RequestError` carrying the ``code`` and ``message``
that analytics-python reads out of a ``400`` body.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from typing import Any

import orjson

from inspector.core.verdict.checks import MAX_BATCH_EVENTS, MAX_EVENT_BYTES, MAX_REQUEST_BYTES

__all__ = [
    "MAX_BATCH_EVENTS",
    "MAX_EVENT_BYTES",
    "MAX_REQUEST_BYTES",
    "RequestError",
    "big_integers",
    "decode_body",
    "parse_json",
    "write_key_from",
]

#: orjson keeps integers in [-2**63, 2**64) and turns any other integer into a float.
_INT_RANGE = range(-(2**63), 2**64)
#: Any integer outside that range has at least 19 digits: bodies without such a run skip the
#: (slower) second parse that finds them.
_LONG_DIGITS = re.compile(rb"\d{19}")


class RequestError(Exception):
    """A request Segment would answer with ``400``: the body is unusable as a whole."""

    def __init__(self, code: str, message: str, *, http_status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status

    def to_body(self) -> dict[str, str]:
        """The JSON error body; ``code`` and ``message`` are what analytics-python reads."""
        return {"code": self.code, "message": self.message}


def decode_body(raw: bytes, content_encoding: str | None, *, limit: int) -> bytes:
    """Undo ``Content-Encoding`` (gzip, deflate or identity), never producing more than ``limit``.

    The bound is applied while inflating, so a gzip bomb costs at most ``limit`` bytes of memory.
    """
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        body = raw
    elif encoding in ("gzip", "x-gzip", "deflate"):
        body = _inflate(raw, encoding, limit)
    else:
        raise RequestError(
            "unsupported_encoding",
            f"Content-Encoding {content_encoding!r} is not supported (use gzip, deflate or none)",
            http_status=415,
        )
    if len(body) > limit:
        raise RequestError(
            "payload_too_large",
            f"Payload is too large: {len(body):,} bytes, the limit is {limit:,} bytes",
        )
    return body


def _inflate(raw: bytes, encoding: str, limit: int) -> bytes:
    if encoding == "deflate":
        # RFC 9110 says zlib-wrapped, but some clients send raw deflate: accept both.
        wbits = zlib.MAX_WBITS if raw[:1] == b"\x78" else -zlib.MAX_WBITS
    else:
        wbits = zlib.MAX_WBITS | 16
    inflater = zlib.decompressobj(wbits)
    try:
        body = inflater.decompress(raw, limit + 1)
    except zlib.error as error:
        raise RequestError(
            "invalid_encoding", f"Body is not valid {encoding} data: {error}"
        ) from error
    if len(body) > limit or inflater.unconsumed_tail:
        raise RequestError(
            "payload_too_large",
            f"Payload is too large: it inflates to more than {limit:,} bytes "
            f"({len(raw):,} bytes of {encoding} received)",
        )
    if not inflater.eof:
        raise RequestError("invalid_encoding", f"Body is truncated {encoding} data")
    return body


def parse_json(body: bytes) -> Any:
    """Parse a request body as JSON, whatever its Content-Type claimed.

    orjson rejects invalid UTF-8 and nesting deeper than 1024 levels with an exception rather
    than recursing, so a hostile body cannot take the process down.
    """
    if not body.strip():
        raise RequestError("invalid_json", "Invalid JSON: the request body is empty")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        reason = error.msg
        if "recursion" in reason.lower() or "depth limit" in reason.lower():
            reason = "nested too deeply (more than 1024 levels)"
        raise RequestError(
            "invalid_json",
            f"Invalid JSON: {reason} at line {error.lineno} column {error.colno}",
        ) from error


class _BigInteger(str):
    """An integer literal orjson turns into a float (kept as its text)."""

    __slots__ = ()


def _integer(text: str) -> int | _BigInteger:
    number = int(text)
    return number if number in _INT_RANGE else _BigInteger(text)


def big_integers(body: bytes) -> list[tuple[tuple[str | int, ...], str]]:
    """Where ``body`` holds an integer that orjson reads as a float: ``(path, literal)`` pairs.

    orjson accepts integers beyond 64 bits silently as floats, losing digits; the raw request
    keeps the original, and this says where. Python's json module parses the body a second time
    (only when a 19-digit run occurs at all), keeping such integers as text.
    """
    if _LONG_DIGITS.search(body) is None:
        return []
    try:
        tree = json.loads(body, parse_int=_integer)
    except (ValueError, RecursionError):
        return []
    found: list[tuple[tuple[str | int, ...], str]] = []
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), tree)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, _BigInteger):
            found.append((path, str(value)))
        elif isinstance(value, dict):
            stack.extend(((*path, key), item) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend(((*path, index), item) for index, item in enumerate(value))
    found.sort(key=lambda pair: [str(part) for part in pair[0]])
    return found


def write_key_from(
    authorization: str | None, body: dict[str, Any] | None
) -> tuple[str | None, str | None]:
    """The write key and where it came from: ``basic``, ``body`` or ``secret``.

    Segment reads Basic auth first (username = write key, empty password), then the body's
    ``writeKey``, then the legacy ``secret`` field of very old analytics-php. A missing key is
    recorded as ``None`` and never rejected.
    """
    if authorization:
        scheme, _, credentials = authorization.strip().partition(" ")
        if scheme.lower() == "basic" and credentials:
            try:
                decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            username = decoded.partition(":")[0]
            if username:
                return username, "basic"
    if body is not None:
        for field, source in (("writeKey", "body"), ("secret", "secret")):
            value = body.get(field)
            if isinstance(value, str) and value:
                return value, source
    return None, None
