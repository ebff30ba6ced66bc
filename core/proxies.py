"""Who is calling: the peer's address, or behind trusted proxies the address they vouch for.

``X-Forwarded-For`` is believed only when the direct peer is in ``settings.trusted_proxies``;
its hops are then read right to left, skipping trusted ones, and the first other hop is
the client (anything left of it was written by the client and is ignored). IPv6 callers
are keyed by their /64 for throttling: one host is usually given a whole /64.

Example::

    trusted = parse_networks(settings.trusted_proxies)
    address = client_address(request.client.host if request.client else None,
                             request.headers.getlist("x-forwarded-for"), trusted)
    key = throttle_key(address)     # "203.0.113.7" or "2001:db8:1:2::/64"
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

__all__ = ["IPNetwork", "client_address", "in_networks", "parse_networks", "throttle_key"]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

UNKNOWN = "unknown"


def parse_networks(cidrs: Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDRs (or single addresses) as networks; ValueError names a bad entry."""
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"not a network: {cidr!r}") from exc
    return tuple(networks)


def _address(text: str) -> IPAddress | None:
    text = text.strip()
    if text.startswith("["):  # "[2001:db8::1]:443"
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # "203.0.113.7:5000"
        text = text.partition(":")[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _trusted(ip: IPAddress | None, trusted: Sequence[IPNetwork]) -> bool:
    return ip is not None and any(ip.version == n.version and ip in n for n in trusted)


def in_networks(address: str, networks: Sequence[IPNetwork]) -> bool:
    """Whether ``address`` (as :func:`client_address` gives it) lies in one of ``networks``."""
    return _trusted(_address(address), networks)


def client_address(peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]) -> str:
    """The caller's address as text; ``"unknown"`` when nothing usable was given."""
    direct = _address(peer) if peer else None
    if not _trusted(direct, trusted):
        return str(direct) if direct is not None else (peer or UNKNOWN)[:64]
    hops = [hop for header in forwarded_for for hop in header.split(",") if hop.strip()]
    client: IPAddress | None = direct
    for hop in reversed(hops):
        ip = _address(hop)
        if ip is None:  # a hop no proxy writes: the client's own text; stop at what we trust
            break
        client = ip
        if not _trusted(ip, trusted):
            break
    return str(client) if client is not None else UNKNOWN


def throttle_key(address: str) -> str:
    """The key to count an address under: itself for IPv4, its /64 for IPv6."""
    ip = _address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip) if ip is not None else address[:64]
