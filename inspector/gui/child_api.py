"""The window's client of its capture child's REST API (``/inspector/api``), for the views
whose live state the child keeps (the audit, the flow runs).

Calls are synchronous and made on the window's :class:`~inspector.gui.tasks.TaskRunner`
workers, one ``httpx.Client`` per worker thread (a client is not shared across threads).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import httpx
import orjson

if TYPE_CHECKING:
    from inspector.gui.capture import CaptureController

__all__ = ["ChildApi", "ChildApiError", "child_api"]


class ChildApiError(RuntimeError):
    """The child answered with an error: its status, ``code`` and ``message`` (the text)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class ChildApi:
    """The REST API of one running capture child."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        self.base_url = base_url
        self.headers = headers
        self._local = threading.local()  # one client per worker thread

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                body: dict[str, Any] | None = None) -> dict[str, Any]:
        """The JSON answer to ``method path``; :class:`ChildApiError` for an error status
        (a transport failure is httpx's own: the child stopped meanwhile)."""
        client: httpx.Client | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = httpx.Client(
                base_url=self.base_url, headers=self.headers, timeout=60.0)
        response = client.request(method, path, params=params,
                                  content=orjson.dumps(body) if body is not None else None,
                                  headers={"Content-Type": "application/json"}
                                  if body is not None else None)
        data: dict[str, Any] = orjson.loads(response.content) if response.content else {}
        if response.status_code >= 400:
            raise ChildApiError(response.status_code, str(data.get("code") or ""),
                                str(data.get("message") or response.reason_phrase))
        return data

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        """``GET path?params``."""
        return self.request("GET", path, params=params)

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """``POST path`` with a JSON ``body``."""
        return self.request("POST", path, body=body if body is not None else {})


def child_api(current: ChildApi | None, capture: CaptureController | None) -> ChildApi | None:
    """The API of ``capture``'s child while it runs (``current`` if it is still that one's),
    else ``None``."""
    endpoint = capture.api_endpoint() if capture is not None else None
    if endpoint is None:
        return None
    if current is not None and (current.base_url, current.headers) == endpoint:
        return current
    return ChildApi(*endpoint)
