"""What one anonymous JSON-RPC caller may cost: gas, time, batch, logs, filters, rate.

``RpcLimits()`` are the public bounds (the defaults of ``core.settings``);
``RpcLimits.internal()`` is for the process's own trusted callers (the anchorer's
in-process provider): the block gas limit, no deadline, no rate. The client a request is
counted against is its peer address, or the first untrusted hop of ``X-Forwarded-For``
when the peer is a trusted proxy (IPv6 clients by their /64, which one host gets whole).

Example::

    limits = RpcLimits.from_settings(settings)
    key = client_key(scope, limits.trusted_proxies)     # "203.0.113.7" or "2001:db8:1:2::/64"
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from typing import Any

from core.settings import Settings
from ledger.node.chain import BLOCK_GAS_LIMIT

__all__ = ["RpcLimits", "client_key"]

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class RpcLimits:
    """Bounds of the public JSON-RPC endpoint (None: unbounded)."""

    gas_cap: int = 5_000_000  # gas of one eth_call / eth_estimateGas
    call_timeout: float | None = 2.0  # seconds of read work per HTTP request (a batch shares it)
    max_batch: int = 50  # requests in one batch
    max_body_bytes: int = 1024 * 1024  # request body
    max_response_bytes: int = 16 * 1024 * 1024  # answers past it become -32005 errors
    max_log_blocks: int | None = 5_000  # block range of eth_getLogs / log filters
    max_logs: int = 10_000  # logs in one answer
    max_filter_terms: int = 256  # addresses, or alternatives of one topic position
    max_filters: int = 256  # installed filters (all clients)
    filter_ttl: float = 300.0  # an unpolled filter is forgotten after this many seconds
    rate_per_minute: int = 600  # requests (batch items) per client and minute; 0 = off
    read_processes: int = 1  # processes running the heavy reads; 0 = in this process
    read_queue: int = 8  # heavy-read requests queued or running; beyond them "busy"
    max_inflight_per_client: int = 2  # heavy-read requests of one client at once
    trusted_proxies: tuple[_Network, ...] = field(default=())

    @classmethod
    def from_settings(cls, settings: Settings) -> RpcLimits:
        """The public bounds from ``core.settings.Settings`` (``rpc_*``, ``trusted_proxies``)."""
        return cls(
            gas_cap=int(settings.rpc_gas_cap),
            call_timeout=float(settings.rpc_call_timeout) or None,
            max_batch=int(settings.rpc_max_batch),
            max_log_blocks=int(settings.rpc_max_log_blocks) or None,
            max_logs=int(settings.rpc_max_logs),
            rate_per_minute=int(settings.rpc_rate_per_minute),
            read_processes=int(settings.rpc_read_processes),
            trusted_proxies=tuple(
                ipaddress.ip_network(c.strip(), strict=False) for c in settings.trusted_proxies if c.strip()
            ),
        )

    @classmethod
    def internal(cls) -> RpcLimits:
        """Bounds for trusted in-process callers: the block's gas, no deadline, no rate."""
        return cls(
            gas_cap=BLOCK_GAS_LIMIT,
            call_timeout=None,
            max_batch=10_000,
            max_log_blocks=None,
            max_filters=1_000,
            rate_per_minute=0,
            read_processes=0,
        )

    def with_(self, **changes: Any) -> RpcLimits:
        """A copy with some bounds changed."""
        return replace(self, **changes)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: tuple[_Network, ...]) -> bool:
    return any(address.version == net.version and address in net for net in proxies)


def _key(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def client_key(scope: Any, trusted_proxies: tuple[_Network, ...] = ()) -> str:
    """Who a request counts against: the peer, or the nearest hop a trusted proxy reported."""
    peer = scope.get("client")
    address = _address(str(peer[0])) if peer else None
    if address is None:
        return "local"  # a Unix socket or an in-process (test) transport
    if not _trusted(address, trusted_proxies):
        return _key(address)
    forwarded = [
        value.decode("latin-1")
        for name, value in scope.get("headers", [])
        if name.lower() == b"x-forwarded-for"
    ]
    hops = [h for line in forwarded for h in line.split(",") if h.strip()]
    for hop in reversed(hops):  # right to left: the first one no trusted proxy vouches for
        hop_address = _address(hop)
        if hop_address is None:
            return _key(address)  # garbage from a proxy: count against the proxy itself
        if not _trusted(hop_address, trusted_proxies):
            return _key(hop_address)
        address = hop_address
    return _key(address)
