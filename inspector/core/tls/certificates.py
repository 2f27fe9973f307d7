"""The local CA and the server certificate it signs (see :mod:`inspector.core.tls`)."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import socket
import ssl
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from inspector.core.paths import user_data_dir

__all__ = [
    "CA_CERT_NAME",
    "CertificateAuthority",
    "TlsError",
    "certificate_hosts",
    "default_tls_dir",
    "load_or_create_ca",
    "server_ssl_context",
]

CA_CERT_NAME = "inspector-ca.pem"
_CA_KEY_NAME = "inspector-ca-key.pem"
_SERVER_CERT_NAME = "server.pem"
#: How long to wait for the CA certificate another process is writing.
_RACE_WAIT_S = 5.0
_CA_DAYS = 3650
#: Apple rejects TLS server certificates valid for more than 825 days, even under a user CA;
#: stay well within it and re-issue a month before the end.
_SERVER_DAYS = 397
_RENEW_BEFORE = dt.timedelta(days=30)
#: 10.0.2.2 is how the Android emulator reaches this machine's loopback.
_LOOPBACK = ("localhost", "127.0.0.1", "::1", "10.0.2.2")


class TlsError(Exception):
    """The CA or the server certificate cannot be made or read; the message names the file."""


def default_tls_dir() -> Path:
    """``<data dir>/tls`` (``~/.local/share/inspector/tls`` on Linux)."""
    return user_data_dir() / "tls"


@dataclass(frozen=True)
class CertificateAuthority:
    """The local CA: its certificate (public) and where its files are."""

    folder: Path
    certificate: x509.Certificate

    @property
    def cert_path(self) -> Path:
        """The public CA certificate, the file users trust."""
        return self.folder / CA_CERT_NAME

    @property
    def key_path(self) -> Path:
        """The private key (0600); only this module ever reads it."""
        return self.folder / _CA_KEY_NAME

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the certificate, as ``AB:CD:...`` (what OS trust dialogs show)."""
        digest = self.certificate.fingerprint(hashes.SHA256())
        return ":".join(f"{byte:02X}" for byte in digest)

    def pem(self) -> bytes:
        """The CA certificate in PEM (public only)."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def der(self) -> bytes:
        """The CA certificate in DER (Android's settings app wants a ``.crt`` of this)."""
        return self.certificate.public_bytes(serialization.Encoding.DER)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _temporary(folder: Path, data: bytes, mode: int) -> Path:
    """``data`` in a new file of ``folder`` with ``mode`` (mkstemp creates it 0600, so a key is
    never readable by others, not even for an instant)."""
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".inspector-tls-")
    try:
        os.chmod(temporary, mode)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return Path(temporary)


def _write_private(path: Path, data: bytes, mode: int) -> None:
    """Replace ``path`` with ``data`` atomically, created with ``mode``."""
    temporary = _temporary(path.parent, data, mode)
    try:
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _create_exclusive(path: Path, data: bytes, mode: int) -> bool:
    """Create ``path`` with ``data`` unless it exists; ``False`` if another process did first."""
    temporary = _temporary(path.parent, data, mode)
    try:
        os.link(temporary, path)  # atomic, and fails rather than replacing
    except FileExistsError:
        return False
    except OSError:  # a file system without hard links: no race protection, still atomic
        os.replace(temporary, path)
        return True
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    return True


def _private_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise TlsError(f"cannot create {folder}: {error.strerror}") from None


def load_or_create_ca(folder: Path | None = None) -> CertificateAuthority:
    """The CA in ``folder`` (default :func:`default_tls_dir`), created on first use."""
    folder = folder or default_tls_dir()
    cert_path, key_path = folder / CA_CERT_NAME, folder / _CA_KEY_NAME
    if cert_path.exists() and key_path.exists():
        try:
            certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        except (OSError, ValueError) as error:
            raise TlsError(f"cannot read the CA certificate {cert_path}: {error}") from None
        return CertificateAuthority(folder, certificate)
    _make_folder(folder)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "inspector (local)"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"inspector local CA ({socket.gethostname()})"),
    ])
    now = _now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=_CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    try:
        # The key first: a certificate on disk without its key would be taken for a whole CA.
        if not _create_exclusive(key_path, _private_key_pem(key), 0o600):
            return _wait_for_ca(folder)
        _write_private(cert_path, certificate.public_bytes(serialization.Encoding.PEM), 0o644)
    except OSError as error:
        raise TlsError(f"cannot write the CA into {folder}: {error.strerror}") from None
    # A new CA invalidates any server certificate signed by an earlier one.
    with contextlib.suppress(FileNotFoundError):
        (folder / _SERVER_CERT_NAME).unlink()
    return CertificateAuthority(folder, certificate)


def _wait_for_ca(folder: Path) -> CertificateAuthority:
    """Another process created the CA key a moment ago: use its CA once its certificate is
    there."""
    deadline = time.monotonic() + _RACE_WAIT_S
    while not (folder / CA_CERT_NAME).exists():
        if time.monotonic() > deadline:
            raise TlsError(f"{folder / _CA_KEY_NAME} exists without its certificate "
                           f"{CA_CERT_NAME}: delete the key to make a new CA")
        time.sleep(0.05)  # a file another process is about to write: nothing to wait on
    return load_or_create_ca(folder)


def certificate_hosts(bind_host: str) -> list[str]:
    """The names the server certificate covers when listening on ``bind_host``: loopback
    always, plus the bound address, or for a wildcard bind this machine's own addresses (what
    a phone on the LAN would use)."""
    hosts = list(_LOOPBACK)
    if bind_host in ("0.0.0.0", "::", ""):
        with contextlib.suppress(OSError):
            for info in socket.getaddrinfo(socket.gethostname(), None):
                hosts.append(str(info[4][0]))
    else:
        hosts.append(bind_host)
    unique: list[str] = []
    for host in hosts:
        host = host.split("%", 1)[0]  # no scope ids in a certificate
        if host and host not in unique:
            unique.append(host)
    return unique


def _san_entries(hosts: list[str]) -> list[x509.GeneralName]:
    entries: list[x509.GeneralName] = []
    for host in hosts:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            entries.append(x509.DNSName(host))
    return entries


def _covered_names(certificate: x509.Certificate) -> set[str]:
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return {str(value) for value in names.get_values_for_type(x509.IPAddress)} | set(
        names.get_values_for_type(x509.DNSName))


def _server_cert_current(ca: CertificateAuthority, hosts: list[str]) -> bool:
    cert_path = ca.folder / _SERVER_CERT_NAME
    if not cert_path.exists():
        return False
    try:
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError):
        return False
    wanted = {str(ipaddress.ip_address(h)) if _is_ip(h) else h for h in hosts}
    return (certificate.issuer == ca.certificate.subject
            and certificate.not_valid_after_utc - _RENEW_BEFORE > _now()
            and _covered_names(certificate) == wanted)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _issue_server_cert(ca: CertificateAuthority, hosts: list[str]) -> None:
    try:
        ca_key = serialization.load_pem_private_key(ca.key_path.read_bytes(), password=None)
    except (OSError, ValueError) as error:
        raise TlsError(f"cannot read the CA key {ca.key_path}: {error}") from None
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise TlsError(f"{ca.key_path} is not an inspector CA key")
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca.certificate.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=_SERVER_DAYS))
        .add_extension(x509.SubjectAlternativeName(_san_entries(hosts)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, key_encipherment=False, key_cert_sign=False, crl_sign=False,
            content_commitment=False, data_encipherment=False, key_agreement=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    try:
        _write_private(ca.folder / _SERVER_CERT_NAME,
                       certificate.public_bytes(serialization.Encoding.PEM)
                       + _private_key_pem(key), 0o600)
    except OSError as error:
        raise TlsError(f"cannot write the server certificate into {ca.folder}: "
                       f"{error.strerror}") from None


def server_ssl_context(hosts: list[str], folder: Path | None = None) -> ssl.SSLContext:
    """A server-side TLS context for ``hosts``, re-issuing the certificate if needed."""
    ca = load_or_create_ca(folder)
    if not _server_cert_current(ca, hosts):
        _issue_server_cert(ca, hosts)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(ca.folder / _SERVER_CERT_NAME)  # certificate, then key
    except (OSError, ssl.SSLError) as error:
        raise TlsError(f"cannot load the server certificate in {ca.folder}: {error}") from None
    return context
