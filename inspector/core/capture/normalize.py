"""From a parsed request body to the Segment calls it carries.

A single-call route (``/v1/track``) carries one call typed by its path; a batch route carries
``body["batch"]`` and an envelope whose ``context``, ``integrations`` and ``sentAt`` its calls
share. Normalising each call is the verdict's first step
(:func:`inspector.core.verdict.normalize.normalise_call`).
"""

from __future__ import annotations

from typing import Any

from inspector.core.capture.decode import RequestError

__all__ = ["ROUTE_TYPES", "split_request"]

#: URL path segment after ``/v1/`` → the call type it implies (``None``: a batch envelope).
ROUTE_TYPES: dict[str, str | None] = {
    "identify": "identify",
    "track": "track",
    "page": "page",
    "screen": "screen",
    "group": "group",
    "alias": "alias",
    "i": "identify",
    "t": "track",
    "p": "page",
    "s": "screen",
    "g": "group",
    "a": "alias",
    "batch": None,
    "import": None,
    "b": None,
}

# Envelope fields that belong to the request, not to each event.
_ENVELOPE_ONLY = ("batch", "writeKey", "secret", "sentAt", "context", "integrations")


def split_request(route_type: str | None, body: Any) -> tuple[list[Any], dict[str, Any]]:
    """The items a request carries and the envelope they share.

    A single-call route (``/v1/track``) yields the body as its only item, typed by the path. A
    batch route yields ``body["batch"]``. Raises :class:`RequestError` for a body that is valid
    JSON but not a Segment request at all.
    """
    if not isinstance(body, dict):
        raise RequestError(
            "invalid_request",
            f"Expected a JSON object, got {type(body).__name__ if body is not None else 'null'}",
        )
    if route_type is not None:
        item = dict(body)
        # The path decides the type, as on api.segment.io.
        item["type"] = route_type
        return [item], {}
    batch = body.get("batch")
    if not isinstance(batch, list):
        raise RequestError(
            "invalid_request",
            "A batch request needs a \"batch\" array of calls"
            + ("" if batch is None else f", got {type(batch).__name__}"),
        )
    envelope = {key: body[key] for key in _ENVELOPE_ONLY if key in body and key != "batch"}
    return batch, envelope
