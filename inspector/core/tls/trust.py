"""How to trust the local CA on each kind of client (mitmproxy's mitm.it pages are the model)."""

from __future__ import annotations

from inspector.core.tls.certificates import CertificateAuthority

__all__ = ["trust_instructions"]


def trust_instructions(ca: CertificateAuthority, download_url: str | None = None) -> str:
    """How to trust the CA on each kind of client, as plain text (also served as a page)."""
    path = ca.cert_path
    where = f"{download_url} (or the file {path})" if download_url else str(path)
    return f"""\
inspector local CA
  certificate: {path}
  SHA-256 fingerprint: {ca.fingerprint}
  download: {where}
Only this public certificate is ever shown or served; its private key stays in {ca.folder}
(mode 0600). Trust it only on devices you test with; remove it when you are done.

iOS simulator (analytics-swift)
  xcrun simctl keychain booted add-root-cert {path}
  (restart the app; to remove: xcrun simctl keychain booted reset)

iOS device
  open the download link in Safari, install the profile (Settings > General > VPN & Device
  Management), then enable it under Settings > General > About > Certificate Trust Settings.

Android emulator or device (analytics-kotlin)
  adb push {path} /sdcard/Download/inspector-ca.crt
  Settings > Security > Encryption & credentials > Install a certificate > CA certificate.
  Apps targeting API 24+ ignore user CAs unless the debug build opts in:
  res/xml/network_security_config.xml
    <network-security-config>
      <debug-overrides>
        <trust-anchors><certificates src="user" /></trust-anchors>
      </debug-overrides>
    </network-security-config>
  and in AndroidManifest.xml: <application android:networkSecurityConfig=
  "@xml/network_security_config" ...>. The emulator reaches this machine's loopback as
  10.0.2.2 (in the certificate); a device can use `adb reverse tcp:PORT tcp:PORT` and
  127.0.0.1, or a LAN address that serve binds (--host).

Linux (system store; curl, Chrome and most tools)
  sudo cp {path} /usr/local/share/ca-certificates/inspector-ca.crt
  sudo update-ca-certificates
  Firefox keeps its own store: Settings > Privacy & Security > Certificates > View
  Certificates > Authorities > Import.

macOS (Safari, Chrome)
  sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain {path}

Windows (Edge, Chrome)
  certutil -addstore -user Root {path}

One program only (no system change)
  curl --cacert {path} ...; Python requests: REQUESTS_CA_BUNDLE={path};
  httpx: verify="{path}"; Node: NODE_EXTRA_CA_CERTS={path}
"""
