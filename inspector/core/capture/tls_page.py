"""``GET /inspector/tls``: how to trust the local CA, and its public certificate to download.

mitmproxy's ``mitm.it`` is the model: open the page on the device (over plain HTTP, since the
CA is not trusted yet), download the certificate, follow the steps for that platform. The page
is read-only and only ever serves the CA's public certificate, never a key; it lives outside
``/inspector/api/`` so the API's Host and Origin rules do not apply to it (it reveals nothing
a device on the network could not learn from the TLS handshake itself).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from aiohttp import web

from inspector.core.capture.routes import ApiError

if TYPE_CHECKING:
    from inspector.core.capture.service import CaptureService
    from inspector.core.tls import CertificateAuthority

__all__ = ["TLS_PAGE", "add_tls_routes"]

TLS_PAGE = "/inspector/tls"


def _ca(service: CaptureService) -> CertificateAuthority:
    if service.tls_ca is None:
        raise ApiError(404, "tls_off", "HTTPS is off: start inspector with --tls "
                       "(inspector serve --tls, or inspector --tls for the window)")
    return service.tls_ca


def add_tls_routes(app: web.Application, service: CaptureService) -> None:
    """Register the trust page and the CA certificate downloads."""
    from inspector.core.tls import trust_instructions

    async def page(request: web.Request) -> web.Response:
        ca = _ca(service)
        pem_url = f"{request.scheme}://{request.host}{TLS_PAGE}/inspector-ca.pem"
        text = trust_instructions(ca, download_url=pem_url)
        if "text/html" not in request.headers.get("Accept", ""):
            return web.Response(text=text, content_type="text/plain")
        body = (
            "<!doctype html><html><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width'>"
            "<title>inspector: trust the local CA</title></head><body>"
            "<h1>Trust the inspector local CA</h1>"
            f"<p>HTTPS capture: <code>{html.escape(service.tls_url or '')}</code></p>"
            f"<p><a href='{TLS_PAGE}/inspector-ca.pem'>Download inspector-ca.pem</a> "
            f"(iOS, macOS, Linux, Windows) &middot; "
            f"<a href='{TLS_PAGE}/inspector-ca.crt'>inspector-ca.crt</a> (Android)</p>"
            f"<pre>{html.escape(text)}</pre></body></html>"
        )
        return web.Response(text=body, content_type="text/html")

    async def pem(request: web.Request) -> web.Response:
        response = web.Response(body=_ca(service).pem(), content_type="application/x-pem-file")
        response.headers["Content-Disposition"] = "attachment; filename=inspector-ca.pem"
        return response

    async def der(request: web.Request) -> web.Response:
        response = web.Response(body=_ca(service).der(),
                                content_type="application/x-x509-ca-cert")
        response.headers["Content-Disposition"] = "attachment; filename=inspector-ca.crt"
        return response

    app.router.add_get(TLS_PAGE, page)
    app.router.add_get(TLS_PAGE + "/inspector-ca.pem", pem)
    app.router.add_get(TLS_PAGE + "/inspector-ca.crt", der)
