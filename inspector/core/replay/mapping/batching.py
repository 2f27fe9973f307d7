"""Packing operations into batch requests within Customer.io's size limits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson

from inspector.core.replay.mapping.base import (
    Dropped,
    HttpRequest,
    PlannedRequest,
    Rejected,
)

__all__ = ["MAX_BATCH_BYTES", "MAX_OPERATION_BYTES", "Operation", "pack"]

#: Documented limits for v2 ``/batch`` and Pipelines ``/batch``: 500 KB per request and 32 KB
#: per operation. KB taken as 1000 bytes: the stricter reading, since the docs do not say.
MAX_BATCH_BYTES = 500_000
MAX_OPERATION_BYTES = 32_000

#: An operation ready for a batch: its seq, its JSON value and the people it concerns.
Operation = tuple[int, dict[str, Any], frozenset[str]]


def pack(
    entries: Sequence[Operation | Dropped | Rejected],
    *,
    batch_size: int,
    make_request: Callable[[list[dict[str, Any]]], HttpRequest],
) -> list[PlannedRequest | Dropped | Rejected]:
    """Group consecutive operations into batches of at most ``batch_size`` and 500 KB.

    Consecutive means in capture order: batches never reorder calls, they only cut the ordered
    list into pieces. An operation over 32 KB is rejected here instead of failing a whole batch.
    """
    out: list[PlannedRequest | Dropped | Rejected] = []
    operations: list[dict[str, Any]] = []
    seqs: list[int] = []
    persons: set[str] = set()
    # The envelope {"batch":[]} plus a comma per operation after the first.
    size = len(b'{"batch":[]}')

    def flush() -> None:
        nonlocal size
        if operations:
            out.append(PlannedRequest(make_request(list(operations)), tuple(seqs),
                                      frozenset(persons)))
            operations.clear()
            seqs.clear()
            persons.clear()
        size = len(b'{"batch":[]}')

    for entry in entries:
        if isinstance(entry, Dropped | Rejected):
            out.append(entry)
            continue
        seq, operation, who = entry
        length = len(orjson.dumps(operation))
        if length > MAX_OPERATION_BYTES:
            out.append(Rejected(seq, f"operation is {length} bytes, over the 32 KB limit"))
            continue
        added = length + (1 if operations else 0)
        if operations and (len(operations) >= batch_size or size + added > MAX_BATCH_BYTES):
            flush()
            added = length
        operations.append(operation)
        seqs.append(seq)
        persons.update(who)
        size += added
    flush()
    return out
