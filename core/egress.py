"""Outbound HTTP to URLs that outsiders chose (webhooks): only public addresses, checked at connect.

Two gates. :func:`check_url` runs when a URL is registered and refuses every literal
form of a non-public address (``127.1``, ``2130706433``, ``0x7f000001``, ``0``,
``017700000001``, ``[::ffff:127.0.0.1]``, NAT64/6to4/Teredo wrappers of private IPv4…),
userinfo, trailing dots and local names. :func:`egress_client` builds the httpx client that
delivers: its network backend resolves the host itself, refuses the connection unless
*every* address of the answer is allowed, and connects to the address it checked — so a DNS
answer that changes between check and connect (rebinding) cannot reach a private address.
TLS still verifies the certificate against the URL's host name (SNI too). Redirects are
not followed, proxies from the environment are ignored, keep-alive is off, and each
connection has a total time budget (slow senders cannot hold a worker).

Allowed means :func:`non_public_reason` finds nothing (``ipaddress`` properties plus the
special ranges Python 3.11 still calls global), or the operator listed the address in
``settings.egress_allow`` (``OPSURE_EGRESS_ALLOW``: CIDRs, ``addr:port`` or ``[v6]:port``),
e.g. an internal partner gateway.

Example::

    policy = EgressPolicy.from_settings(settings)
    url = check_url("https://hooks.partner.example/opsure", policy)
    with egress_client(policy) as client:
        with client.stream("POST", url, content=b"{}") as response:
            status = response.status_code          # the body is never read
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from core.settings import Settings

__all__ = [
    "EgressPolicy",
    "EgressRefused",
    "Resolver",
    "check_url",
    "egress_client",
    "is_guarded",
    "non_public_reason",
    "system_resolver",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: ``resolver(host, port)`` -> the addresses to connect to, in order (a test can inject its own).
Resolver = Callable[[str, int], Sequence[str]]

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_IETF_V4 = ipaddress.ip_network("192.0.0.0/24")  # protocol assignments (3.11 calls most of it global)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_V4_COMPATIBLE = ipaddress.ip_network("::/96")
_LOCAL_SUFFIXES = ("localhost", "local", "localdomain", "internal", "intranet", "lan", "home.arpa", "invalid",
                   "onion")
_DOTTED_QUAD = re.compile(r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$")
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|\d+)$")
_BAD_CHARS = re.compile(r"[\x00-\x20\x7f\\]")


class EgressRefused(httpcore.ConnectError):
    """A connection (or URL) refused because it would reach a non-public address."""


def _v4_reason(ip: ipaddress.IPv4Address) -> str | None:
    if ip.is_unspecified or ip in ipaddress.IPv4Network("0.0.0.0/8"):
        return "this-network address"
    if ip.is_loopback:
        return "loopback address"
    if ip.is_link_local:
        return "link-local address"
    if ip.is_multicast:
        return "multicast address"
    if ip in _CGNAT:
        return "shared (carrier-grade NAT) address"
    if ip.is_private or ip in _IETF_V4:
        return "private or special-purpose address"
    if ip.is_reserved or not ip.is_global:
        return "reserved address"
    return None


def _embedded_v4(ip: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    if ip.ipv4_mapped is not None:
        return "IPv4-mapped", ip.ipv4_mapped
    if ip in _NAT64:
        return "NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return "6to4", ip.sixtofour
    if ip.teredo is not None:
        return "Teredo", ip.teredo[1]
    if ip in _V4_COMPATIBLE and int(ip) > 1:
        return "IPv4-compatible", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def non_public_reason(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public unicast address (None when it is)."""
    if isinstance(ip, ipaddress.IPv4Address):
        return _v4_reason(ip)
    if ip.is_loopback:
        return "loopback address"
    if ip.is_unspecified:
        return "unspecified address"
    embedded = _embedded_v4(ip)
    if embedded is not None:
        kind, v4 = embedded
        if (reason := _v4_reason(v4)) is not None:
            return f"{reason} ({kind})"
        if kind in ("IPv4-mapped", "NAT64"):
            return None  # the same public IPv4 host, reached through a translator
    if ip.is_link_local:
        return "link-local address"
    if ip.is_site_local:
        return "site-local address"
    if ip.is_multicast:
        return "multicast address"
    if ip in _NAT64_LOCAL:
        return "local-use NAT64 address"
    if ip.is_private:
        return "private or special-purpose address"
    if ip.is_reserved or not ip.is_global:
        return "reserved address"
    return None


@dataclass(frozen=True)
class EgressPolicy:
    """Which addresses outbound calls may reach: public ones, plus what the operator allowed."""

    allowed: tuple[tuple[IPNetwork, int | None], ...] = ()

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> EgressPolicy:
        """Parse allowlist entries: ``10.1.2.0/24``, ``10.1.2.3:8443``, ``[fd00::5]:443``, ``fd00::/8``."""
        allowed: list[tuple[IPNetwork, int | None]] = []
        for raw in entries:
            entry, port = raw.strip(), None
            if entry.startswith("["):
                address, _, rest = entry[1:].partition("]")
                entry, port = address, int(rest.removeprefix(":")) if rest else None
            elif entry.count(":") == 1:
                address, _, port_text = entry.partition(":")
                entry, port = address, int(port_text)
            try:
                allowed.append((ipaddress.ip_network(entry, strict=False), port))
            except ValueError as exc:
                raise ValueError(f"OPSURE_EGRESS_ALLOW: not an address or network: {raw!r}") from exc
        return cls(tuple(allowed))

    @classmethod
    def from_settings(cls, settings: Settings) -> EgressPolicy:
        """The policy of ``settings.egress_allow``."""
        return cls.from_entries(settings.egress_allow)

    def refusal(self, ip: IPAddress, port: int) -> str | None:
        """Why connecting to ``ip:port`` is refused (None when it is allowed)."""
        candidates: list[IPAddress] = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
        for network, allowed_port in self.allowed:
            if allowed_port in (None, port) and any(c.version == network.version and c in network for c in candidates):
                return None
        return non_public_reason(ip)


def _host_refusal(host: str, port: int, policy: EgressPolicy) -> str | None:
    if not host or "%" in host:
        return "the host is missing or percent-encoded"
    if host.endswith("."):
        return "write the host without a trailing dot"
    if ":" in host:  # an IPv6 literal
        try:
            return policy.refusal(ipaddress.IPv6Address(host), port)
        except ValueError:
            return "the IPv6 address is malformed"
    if _DOTTED_QUAD.match(host):
        return policy.refusal(ipaddress.IPv4Address(host), port)
    labels = host.split(".")
    try:
        socket.inet_aton(host)
        return "write IPv4 addresses as four decimal numbers"  # 127.1, 2130706433, 0x7f000001, 0177.0.0.1…
    except OSError:
        pass
    if _NUMERIC_LABEL.match(labels[-1]):
        return "the host's last label is numeric"
    if len(labels) < 2:
        return "use a fully qualified host name"
    if any(host == s or host.endswith("." + s) for s in _LOCAL_SUFFIXES):
        return "the host is a local or special-use name"
    return None


def check_url(url: str, policy: EgressPolicy, *, allow_http: bool = False) -> str:
    """``url`` stripped, or ValueError saying why it may not be an outbound target."""
    url = url.strip()
    if len(url) > 2000:
        raise ValueError("the URL is longer than 2000 characters")
    if _BAD_CHARS.search(url):
        raise ValueError("the URL contains spaces, control characters or backslashes")
    try:
        parsed = httpx.URL(url)
        port = parsed.port if parsed.port is not None else (443 if parsed.scheme == "https" else 80)
        split_host = urlsplit(url).hostname or ""
    except (httpx.InvalidURL, ValueError) as exc:
        raise ValueError("the URL is malformed") from exc
    if parsed.scheme not in ("https", "http") or (parsed.scheme == "http" and not allow_http):
        raise ValueError("the URL must use https")
    if parsed.userinfo or "@" in parsed.netloc.decode("ascii", "replace"):
        raise ValueError("the URL may not carry credentials")
    if not 0 < port < 65536:
        raise ValueError("the port must be 1 to 65535")
    host = parsed.host.lower()
    if split_host.lower() != host:
        raise ValueError("the URL's host is ambiguous")
    if (reason := _host_refusal(parsed.raw_host.decode("ascii").lower(), port, policy)) is not None:
        raise ValueError(f"the URL may not target this host: {reason}")
    return url


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (TCP), in its order, once each."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]).partition("%")[0] for info in infos))


class _DeadlineStream(httpcore.NetworkStream):
    """A stream whose every read and write ends by one deadline (slow senders cannot hold us)."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner = inner
        self._deadline = deadline

    def _left(self, timeout: float | None, error: type[Exception]) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise error("the connection's time budget is spent")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, self._left(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(inner, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _GuardedBackend(httpcore.NetworkBackend):
    """Resolves, checks every address, then connects to a checked address (never the name)."""

    def __init__(self, policy: EgressPolicy, resolver: Resolver, budget: float) -> None:
        self._policy = policy
        self._resolver = resolver
        self._budget = budget
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        deadline = time.monotonic() + self._budget
        try:
            answers = [ipaddress.ip_address(a) for a in self._resolver(host, port)]
        except (OSError, ValueError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        if not answers:
            raise httpcore.ConnectError(f"{host} has no address")
        for ip in answers:  # one private answer spoils the lot: no picking among them
            if (reason := self._policy.refusal(ip, port)) is not None:
                raise EgressRefused(f"refused {host} -> {ip}: {reason}")
        error: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for ip in answers:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                stream = self._inner.connect_tcp(str(ip), port, min(timeout or left, left), local_address,
                                                 socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
                continue
            return _DeadlineStream(stream, deadline)
        raise error or httpcore.ConnectTimeout("the connection's time budget is spent")

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        raise EgressRefused("unix sockets are not an outbound target")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with the guarded backend under its connection pool."""

    def __init__(self, policy: EgressPolicy, resolver: Resolver, budget: float,
                 verify: ssl.SSLContext | bool) -> None:
        super().__init__(verify=verify, trust_env=False)
        ssl_context = httpx.create_ssl_context(verify=verify, trust_env=False)
        # httpx builds its pool without a network-backend parameter; swap in one that has ours.
        self._pool = httpcore.ConnectionPool(ssl_context=ssl_context, max_connections=10,
                                             max_keepalive_connections=0, network_backend=_GuardedBackend(
                                                 policy, resolver, budget))


def egress_client(
    policy: EgressPolicy,
    *,
    resolver: Resolver = system_resolver,
    timeout: float = 10.0,
    budget: float = 15.0,
    verify: ssl.SSLContext | bool = True,
) -> httpx.Client:
    """An httpx client that reaches only what ``policy`` allows (see the module docstring).

    ``timeout`` bounds each connect/read/write; ``budget`` bounds one connection in total.
    """
    return httpx.Client(transport=_GuardedTransport(policy, resolver, budget, verify),
                        timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False)


def is_guarded(client: httpx.Client) -> bool:
    """Whether ``client`` was built by :func:`egress_client` (delivery code refuses any other)."""
    return isinstance(getattr(client, "_transport", None), _GuardedTransport)
