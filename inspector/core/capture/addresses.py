"""Host names and addresses: which are loopback, which a bind covers, how to print them.

Only the standard library: the interface addresses come from ``ioctl(SIOCGIFADDR)`` and
``/proc/net/if_inet6`` on Linux, elsewhere from the host name and the routing table's choice
of source address (a UDP ``connect`` sends no packet).
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import struct
import sys
from pathlib import Path

__all__ = ["host_name", "ip_literal", "is_loopback", "is_wildcard", "reachable_addresses",
           "url_host"]

#: The one name every system resolves to the loopback interface without asking DNS.
_LOOPBACK_NAMES = frozenset({"localhost"})
_WILDCARDS = frozenset({"", "0.0.0.0", "::"})
#: ``SIOCGIFADDR`` from <linux/sockios.h>: an interface's IPv4 address.
_SIOCGIFADDR = 0x8915
#: Documentation addresses (RFC 5737, RFC 3849): never routed, so connecting to them only asks
#: the routing table which source address it would use.
_PROBES = ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1"))


def host_name(value: str) -> str:
    """The host part of a ``Host`` header or a ``--host`` value: lower-case, without port,
    brackets or a trailing dot (``[::1]:8787`` -> ``::1``, ``LocalHost.:80`` -> ``localhost``)."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[1:end] if end != -1 else value[1:]
    if value.count(":") == 1:  # name:port or v4:port; more colons is a bare IPv6 address
        value = value.partition(":")[0]
    return value.rstrip(".")


def ip_literal(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``name`` as an address, when it is one (IPv4-mapped IPv6 addresses as IPv4)."""
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_loopback(name: str) -> bool:
    """Whether ``name`` (already through :func:`host_name`) is ``localhost`` or in 127.0.0.0/8
    or ``::1``."""
    if name in _LOOPBACK_NAMES:
        return True
    address = ip_literal(name)
    return address is not None and address.is_loopback


def is_wildcard(name: str) -> bool:
    """Whether binding ``name`` listens on every address of a family."""
    return name in _WILDCARDS


def url_host(address: str) -> str:
    """``address`` as it goes in a URL (IPv6 in brackets)."""
    return f"[{address}]" if ":" in address else address


def reachable_addresses(bind: str) -> list[str]:
    """Addresses a client can use to reach a socket bound to ``bind``, most useful first.

    A specific address is just itself. ``0.0.0.0`` is every IPv4 address of this machine and
    ``::`` every IPv6 one (asyncio sets ``IPV6_V6ONLY``), loopback last; link-local IPv6
    addresses are left out (a URL would need a zone). Best effort: interfaces that appear later,
    or addresses in front of a NAT or a container's port mapping, are not listed.
    """
    name = host_name(bind)
    if not is_wildcard(name):
        return [name]
    families = [socket.AF_INET] if name == "0.0.0.0" else (
        [socket.AF_INET6] if name == "::" else [socket.AF_INET, socket.AF_INET6])
    found: list[str] = []
    for family in families:
        found += _interface_addresses(family)
    loopback = [a for a in dict.fromkeys(found) if ip_literal(a) and is_loopback(a)]
    others = [a for a in dict.fromkeys(found) if a not in loopback
              and not getattr(ip_literal(a), "is_link_local", False)]
    for family in families:
        default = "127.0.0.1" if family == socket.AF_INET else "::1"
        if default not in loopback:
            loopback.append(default)
    return others + loopback


def _interface_addresses(family: socket.AddressFamily) -> list[str]:
    if sys.platform.startswith("linux"):
        found = _linux_ipv4() if family == socket.AF_INET else _linux_ipv6()
        if found:
            return found
    return _resolver_addresses(family)


def _linux_ipv4() -> list[str]:
    import fcntl

    found: list[str] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _index, interface in socket.if_nameindex():
            request = struct.pack("256s", interface.encode()[:15])
            with contextlib.suppress(OSError):  # an interface without an IPv4 address
                answer = fcntl.ioctl(probe.fileno(), _SIOCGIFADDR, request)
                found.append(socket.inet_ntoa(answer[20:24]))
    return found


def _linux_ipv6() -> list[str]:
    try:
        lines = Path("/proc/net/if_inet6").read_text().splitlines()
    except OSError:
        return []
    found: list[str] = []
    for line in lines:
        fields = line.split()
        if fields and len(fields[0]) == 32:
            found.append(str(ipaddress.IPv6Address(bytes.fromhex(fields[0]))))
    return found


def _resolver_addresses(family: socket.AddressFamily) -> list[str]:
    found: list[str] = []
    with contextlib.suppress(OSError):
        for info in socket.getaddrinfo(socket.gethostname(), None, family):
            found.append(str(info[4][0]))
    for probe_family, target in _PROBES:
        if probe_family != family:
            continue
        with contextlib.suppress(OSError), socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((target, 9))
            found.append(str(probe.getsockname()[0]))
    return found
