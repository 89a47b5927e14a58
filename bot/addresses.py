"""Which network addresses Beacon will fetch a calendar feed from: public unicast addresses only. Pure; used by
the organisation file's checks (an address written in a feed URL) and by the feed fetcher (every address a
name resolves to, at connection time)."""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Public addresses that are nevertheless a cloud host's own services, reachable from inside its virtual machines:
# Azure's WireServer and DNS (168.63.129.16), where NHS trusts often run.
CLOUD_HOST_SERVICES = frozenset({ipaddress.ip_address("168.63.129.16")})


def refused(address: IPAddress) -> bool:
    """Whether Beacon refuses to fetch from `address`: anything that is not a public unicast address, including
    IPv4 addresses carried inside IPv6 (mapped, NAT64, 6to4, Teredo) that are themselves refused."""
    if isinstance(address, ipaddress.IPv6Address):
        inner: list[IPAddress] = []
        if address.ipv4_mapped:
            inner.append(address.ipv4_mapped)
        if address in NAT64:
            inner.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address.sixtofour:
            inner.append(address.sixtofour)
        if address.teredo:
            inner.extend(address.teredo)
        if any(refused(a) for a in inner):
            return True
        if address.ipv4_mapped:
            return False  # a mapped public IPv4 address is that address
        if address.is_site_local:
            return True
    return (address in CLOUD_HOST_SERVICES or not address.is_global or address.is_private or address.is_loopback
            or address.is_link_local or address.is_multicast or address.is_unspecified or address.is_reserved)


def literal_refused(host: str) -> bool:
    """Whether `host`, as written in a URL, is an address (not a name) that `refused` refuses."""
    try:
        return refused(ipaddress.ip_address(host.strip("[]").split("%", 1)[0]))
    except ValueError:
        return False
