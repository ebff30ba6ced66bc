"""The egress address policy: every non-public address and every wrapper of one is refused."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.egress import EgressPolicy, check_url, non_public_reason

PRIVATE_V4 = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
    "224.0.0.0/4", "240.0.0.0/4")]


def _in(network: ipaddress.IPv4Network) -> st.SearchStrategy[ipaddress.IPv4Address]:
    return st.integers(0, network.num_addresses - 1).map(lambda i: network[i])


private_v4 = st.one_of(*[_in(n) for n in PRIVATE_V4])


@given(private_v4)
def test_private_ipv4_is_refused_in_every_wrapping(ip: ipaddress.IPv4Address) -> None:
    value = int(ip)
    wrapped = [
        ip,
        ipaddress.IPv6Address((0xFFFF << 32) | value),  # ::ffff:a.b.c.d
        ipaddress.IPv6Address(value) if value > 1 else ipaddress.IPv6Address(1),  # ::a.b.c.d
        ipaddress.IPv6Address((0x64FF9B << 96) | value),  # NAT64
        ipaddress.IPv6Address((0x2002 << 112) | (value << 80)),  # 6to4
        ipaddress.IPv6Address((0x20010000 << 96) | (value ^ 0xFFFFFFFF)),  # Teredo client (obfuscated)
    ]
    for address in wrapped:
        assert non_public_reason(address) is not None, address


@given(st.ip_addresses(v=4))
def test_an_allowed_ipv4_is_global_unicast(ip: ipaddress.IPv4Address) -> None:
    if non_public_reason(ip) is None:
        assert ip.is_global and not ip.is_multicast and not any(ip in n for n in PRIVATE_V4)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"])
def test_public_addresses_pass(address: str) -> None:
    assert non_public_reason(ipaddress.ip_address(address)) is None


def test_the_operator_allowlist_is_exact() -> None:
    policy = EgressPolicy.from_entries(["10.20.0.0/16", "127.0.0.1:8443", "[fd00::5]:443"])
    assert policy.refusal(ipaddress.ip_address("10.20.3.4"), 1) is None
    assert policy.refusal(ipaddress.ip_address("10.21.0.1"), 443) is not None
    assert policy.refusal(ipaddress.ip_address("127.0.0.1"), 8443) is None
    assert policy.refusal(ipaddress.ip_address("127.0.0.1"), 8444) is not None
    assert policy.refusal(ipaddress.ip_address("::ffff:127.0.0.1"), 8443) is None
    assert policy.refusal(ipaddress.ip_address("fd00::5"), 443) is None
    assert policy.refusal(ipaddress.ip_address("fd00::6"), 443) is not None
    with pytest.raises(ValueError, match="OPSURE_EGRESS_ALLOW"):
        EgressPolicy.from_entries(["intranet.example"])


def test_check_url_keeps_a_good_url_and_says_why_it_refuses() -> None:
    assert check_url("  https://hooks.partner.example/x  ", EgressPolicy()) == "https://hooks.partner.example/x"
    with pytest.raises(ValueError, match="four decimal numbers"):
        check_url("https://2130706433/", EgressPolicy())
    with pytest.raises(ValueError, match="loopback"):
        check_url("https://[::ffff:127.0.0.1]/", EgressPolicy())
