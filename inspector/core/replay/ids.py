"""Stable, ULID-shaped event ids for Customer.io's dedupe.

Customer.io ignores an event whose ``id`` it has already received, and documents that ``id`` as
a ULID (26 Crockford base32 characters). Replaying the same event twice must therefore send the
same ``id`` both times, whatever else changed (a correction, another run, another machine), so
the id is derived from the Segment ``messageId`` alone: a messageId that already is a ULID is
sent as is; any other is hashed into the 128 bits of a ULID.

Trade-off: a hashed id's 48-bit time part is not the event's time (it cannot be, without making
the id change when a correction touches the timestamp). Customer.io documents no use of it
beyond dedupe.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import orjson

__all__ = ["is_ulid", "stable_event_id"]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")
# Namespaced so the same messageId hashed by another tool does not collide with ours by design.
_NAMESPACE = b"inspector.replay.v1:"


def is_ulid(value: str) -> bool:
    """Whether ``value`` is a canonical (upper-case) ULID."""
    return _ULID.fullmatch(value) is not None


def _encode(value: int) -> str:
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def stable_event_id(payload: dict[str, Any]) -> str:
    """The ULID-shaped id replay sends for this Segment call, stable across runs.

    Without a ``messageId`` (rare: every Segment library sets one), the call's identifying
    fields are hashed instead, which stays stable as long as the event is not edited.
    """
    message_id = payload.get("messageId")
    if isinstance(message_id, str) and message_id:
        if is_ulid(message_id.upper()):
            return message_id.upper()
        seed = message_id.encode()
    else:
        keys = ("type", "event", "name", "userId", "anonymousId", "timestamp", "properties",
                "traits")
        seed = orjson.dumps({key: payload.get(key) for key in keys}, option=orjson.OPT_SORT_KEYS)
    digest = hashlib.sha256(_NAMESPACE + seed).digest()
    return _encode(int.from_bytes(digest[:16], "big"))
