"""A local certificate authority and the capture endpoint's HTTPS certificate.

Mobile SDKs (analytics-swift, analytics-kotlin) assume https, and analytics-next's batching
mode posts to ``https://<apiHost>/v1/b`` whatever the page's scheme, so ``inspector serve
--tls`` also listens with TLS. Like mitmproxy, inspector makes its own CA once, in the data
folder, and the user trusts that CA once per device (:func:`trust_instructions`); the server
certificate it signs is re-issued whenever the set of names it must cover changes or it nears
expiry, which needs no new trust step.

Files in the folder (``<data dir>/tls`` by default):

* ``inspector-ca.pem``: the CA certificate, public, what users install;
* ``inspector-ca-key.pem``: the CA private key, mode 0600, never served or printed;
* ``server.pem`` (0600): the current server certificate followed by its key, one file so that
  a process re-issuing it can never leave another with a certificate and a key that disagree.

Two inspector processes may start at once (the window's child and a ``serve``): each file is
replaced atomically, and the CA is created with links that fail if another process got there
first, in which case its CA is used.
"""

from inspector.core.tls.certificates import (
    CA_CERT_NAME,
    CertificateAuthority,
    TlsError,
    certificate_hosts,
    default_tls_dir,
    load_or_create_ca,
    server_ssl_context,
)
from inspector.core.tls.trust import trust_instructions

__all__ = [
    "CA_CERT_NAME",
    "CertificateAuthority",
    "TlsError",
    "certificate_hosts",
    "default_tls_dir",
    "load_or_create_ca",
    "server_ssl_context",
    "trust_instructions",
]
