"""The caller's address: X-Forwarded-For believed only from trusted proxies, read right to left."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.proxies import client_address, parse_networks, throttle_key

TRUSTED = parse_networks(["10.0.0.0/8", "fd00::/8"])


@pytest.mark.parametrize(("peer", "xff", "expected"), [
    ("198.51.100.1", ["203.0.113.9"], "198.51.100.1"),  # an untrusted peer's header is ignored
    ("10.0.0.2", [], "10.0.0.2"),  # a proxy that sent no header is the caller
    ("10.0.0.2", ["203.0.113.9"], "203.0.113.9"),
    ("10.0.0.2", ["1.2.3.4, 203.0.113.9"], "203.0.113.9"),  # the client's own prefix is not believed
    ("10.0.0.2", ["1.2.3.4, 203.0.113.9, 10.0.0.7"], "203.0.113.9"),  # trusted hops are skipped
    ("10.0.0.2", ["1.2.3.4", "203.0.113.9"], "203.0.113.9"),  # several headers are one list
    ("10.0.0.2", ["garbage, 10.0.0.9"], "10.0.0.9"),  # only proxies behind: the innermost hop
    ("10.0.0.2", ["[2001:db8::5]:443"], "2001:db8::5"),
    ("10.0.0.2", ["203.0.113.9:5000"], "203.0.113.9"),
    ("::ffff:10.0.0.2", ["203.0.113.9"], "203.0.113.9"),  # a mapped peer is its IPv4 self
    ("fd00::1", ["203.0.113.9"], "203.0.113.9"),
    (None, ["203.0.113.9"], "unknown"),
    ("testclient", ["203.0.113.9"], "testclient"),
])
def test_client_address(peer: str | None, xff: list[str], expected: str) -> None:
    assert client_address(peer, xff, TRUSTED) == expected


def test_ipv6_callers_are_counted_by_their_64() -> None:
    assert throttle_key("2001:db8:1:2:aaaa::1") == throttle_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert throttle_key("203.0.113.9") == "203.0.113.9"
    assert throttle_key("unknown") == "unknown"


def test_bad_proxy_settings_are_named() -> None:
    with pytest.raises(ValueError, match="nope"):
        parse_networks(["10.0.0.0/8", "nope"])


@given(st.lists(st.text(max_size=40), max_size=5), st.ip_addresses(v=4))
def test_an_untrusted_peer_is_always_the_answer(headers: list[str], peer: object) -> None:
    assert client_address(str(peer), headers, TRUSTED) == str(peer) or str(peer).startswith("10.")
