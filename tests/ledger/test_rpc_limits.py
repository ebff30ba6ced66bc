"""What an anonymous /rpc caller may cost: gas, time, batch, logs, filters, body, rate, slots."""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from core.settings import Settings
from ledger.node import EmbeddedNode
from ledger.node.errors import ExecutionTimeout
from ledger.node.models import CallRequest
from ledger.node.read_pool import ReadPool, ReadPoolBusy
from ledger.node.rpc import make_rpc_app
from ledger.node.rpc_limits import RpcLimits, client_key
from tests.ledger.node_helpers import ALICE, INIT_CODE, OWNER, signed

#: Init code JUMPDEST PUSH0 JUMP: an endless loop, callable without deploying anything.
ENDLESS = "0x5b5f56"
LIMIT_EXCEEDED = -32005
FAST = RpcLimits(read_processes=0)  # heavy reads on this process's threads: no spawn per test


@pytest.fixture
def node(tmp_path: Path) -> Iterator[EmbeddedNode]:
    with EmbeddedNode(tmp_path, prefund=[OWNER.address, ALICE.address], coalesce_delay=0.002) as n:
        yield n


def _http(node: EmbeddedNode, limits: RpcLimits | None = None, peer: str = "203.0.113.7") -> TestClient:
    app = make_rpc_app(node) if limits is None else make_rpc_app(node, limits)
    return TestClient(app, client=(peer, 40000))


def _rpc(http: TestClient, method: str, params: list[Any], **headers: str) -> dict[str, Any]:
    answer = http.post("/", json={"jsonrpc": "2.0", "id": 7, "method": method, "params": params}, headers=headers)
    assert answer.status_code in (200, 429), answer.text
    body: dict[str, Any] = answer.json()
    return body


def _mine_logs(node: EmbeddedNode, count: int) -> str:
    """Deploy the test contract and make it log `count` times; returns its address."""
    deploy = node.send_raw_transaction(signed(OWNER, 0, data=INIT_CODE, gas=300_000))
    receipt = node.wait_for_receipt(deploy, 10)
    assert receipt.contract_address is not None
    contract = "0x" + receipt.contract_address.hex()
    from web3 import Web3

    to = Web3.to_checksum_address(contract)
    for nonce in range(count):  # one block each
        sent = node.send_raw_transaction(signed(ALICE, nonce, to=to, data=(nonce + 1).to_bytes(32, "big")))
        node.wait_for_receipt(sent, 10)
    return contract


def test_endless_loop_estimate_stops_at_the_default_gas_cap(node: EmbeddedNode) -> None:
    """Public default: 5M gas per call, not the block's 30M (no deadline here: gas decides)."""
    answer = _rpc(_http(node, FAST.with_(call_timeout=None)), "eth_estimateGas", [{"data": ENDLESS}])
    assert answer["error"]["code"] == -32000
    assert "gas required exceeds allowance (5000000)" in answer["error"]["message"]
    assert RpcLimits().gas_cap == 5_000_000


def test_endless_loop_call_stops_at_the_configured_cap_in_a_read_process(node: EmbeddedNode) -> None:
    """eth_call runs in a read process (not this one) and stops at the configured gas cap."""
    app = make_rpc_app(node, RpcLimits(gas_cap=1_000_000, call_timeout=None))
    try:
        answer = _rpc(TestClient(app), "eth_call", [{"data": ENDLESS, "gas": hex(10**7)}])
        assert answer["error"]["code"] == -32000
        assert "out of gas" in answer["error"]["message"]
        assert "(gas allowance 1000000)" in answer["error"]["message"]
        pool = app.state.rpc_service.pool
        assert pool is not None and pool.pids() and os.getpid() not in pool.pids()
    finally:
        app.state.rpc_service.close()


def test_endless_loop_past_the_time_limit_is_a_limit_error(node: EmbeddedNode) -> None:
    """A cap too high to end the loop in time: the EVM stops it at the deadline (-32005)."""
    limits = FAST.with_(gas_cap=10**9, call_timeout=0.2)
    http = _http(node, limits)
    answer = _rpc(http, "eth_call", [{"data": ENDLESS}])
    assert answer["error"]["code"] == LIMIT_EXCEEDED
    assert "execution timeout" in answer["error"]["message"]
    estimate = _rpc(http, "eth_estimateGas", [{"data": ENDLESS}])
    assert estimate["error"]["code"] == LIMIT_EXCEEDED
    # the node still answers, and ordinary calls still work
    assert _rpc(http, "eth_call", [{"data": "0x00"}])["result"] == "0x"


def test_deadline_unwinds_nested_frames(node: EmbeddedNode) -> None:
    """The timeout is not a VMError: no CALL frame swallows it, the whole read stops."""
    with pytest.raises(ExecutionTimeout):
        node.reader.call(CallRequest(data=bytes.fromhex("5b5f56")), deadline=time.monotonic())
    with pytest.raises(ExecutionTimeout):
        node.reader.estimate_gas(CallRequest(data=bytes.fromhex("5b5f56")), deadline=time.monotonic())
    # without a deadline the same reader VM behaves as before
    assert node.reader.call(CallRequest(data=b"\x00")) == b""


def test_batches_are_capped(node: EmbeddedNode) -> None:
    http = _http(node, FAST)
    one = {"jsonrpc": "2.0", "method": "eth_chainId", "params": []}
    fifty = http.post("/", json=[{**one, "id": i} for i in range(50)]).json()
    assert len(fifty) == 50 and all("result" in a for a in fifty)
    refused = http.post("/", json=[{**one, "id": i} for i in range(51)])
    assert refused.status_code == 200
    assert refused.json()["error"]["code"] == LIMIT_EXCEEDED
    assert "max 50" in refused.json()["error"]["message"]


def test_get_logs_block_range_and_result_count_are_capped(node: EmbeddedNode) -> None:
    contract = _mine_logs(node, 5)
    http = _http(node, FAST.with_(max_logs=3))
    too_wide = _rpc(http, "eth_getLogs", [{"fromBlock": "0x0", "toBlock": hex(5_000)}])
    assert too_wide["error"]["code"] == LIMIT_EXCEEDED and "max 5000" in too_wide["error"]["message"]
    within = _rpc(http, "eth_getLogs", [{"fromBlock": "0x0", "toBlock": hex(4_999), "address": contract}])
    assert within["error"]["code"] == LIMIT_EXCEEDED  # 5 logs > max_logs=3
    assert "more than 3" in within["error"]["message"]
    narrow = _rpc(http, "eth_getLogs", [{"fromBlock": "0x2", "toBlock": "0x3", "address": contract}])
    assert len(narrow["result"]) == 2
    many = _rpc(http, "eth_getLogs", [{"address": [contract] * 257}])
    assert many["error"]["code"] == LIMIT_EXCEEDED
    # log filters obey the same range
    flt = _rpc(http, "eth_newFilter", [{"fromBlock": "0x0", "toBlock": hex(9_000)}])["result"]
    assert _rpc(http, "eth_getFilterLogs", [flt])["error"]["code"] == LIMIT_EXCEEDED


def test_filters_are_capped(node: EmbeddedNode) -> None:
    http = _http(node, FAST.with_(max_filters=2))
    assert _rpc(http, "eth_newBlockFilter", [])["result"]
    assert _rpc(http, "eth_newFilter", [{}])["result"]
    third = _rpc(http, "eth_newBlockFilter", [])
    assert third["error"]["code"] == LIMIT_EXCEEDED and "too many filters" in third["error"]["message"]


def test_request_body_is_capped(node: EmbeddedNode) -> None:
    http = _http(node, FAST.with_(max_body_bytes=1000))
    big = http.post("/", content=b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":["' + b"x" * 2000 + b'"]}')
    assert big.status_code == 413 and big.json()["error"]["code"] == LIMIT_EXCEEDED


def test_rate_limit_per_client_answers_429(node: EmbeddedNode) -> None:
    proxy = "10.0.0.5"
    limits = FAST.with_(rate_per_minute=5, trusted_proxies=(ipaddress.ip_network("10.0.0.0/8"),))
    app = make_rpc_app(node, limits)
    direct = TestClient(app, client=("203.0.113.7", 40000))
    for _ in range(5):
        assert "result" in _rpc(direct, "eth_blockNumber", [])
    refused = direct.post("/", json={"jsonrpc": "2.0", "id": 9, "method": "eth_blockNumber", "params": []})
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["id"] == 9 and refused.json()["error"]["code"] == LIMIT_EXCEEDED
    # a batch counts each of its requests
    via_proxy = TestClient(app, client=(proxy, 40000))
    batch = [{"jsonrpc": "2.0", "id": i, "method": "eth_chainId"} for i in range(6)]
    assert via_proxy.post("/", json=batch, headers={"x-forwarded-for": "198.51.100.1"}).status_code == 429
    # another client behind the trusted proxy has its own count; a forged hop does not help
    assert "result" in _rpc(via_proxy, "eth_chainId", [], **{"x-forwarded-for": "198.51.100.2"})
    forged = {"x-forwarded-for": "198.51.100.2, 203.0.113.7"}
    assert _rpc(via_proxy, "eth_chainId", [], **forged)["error"]["code"] == LIMIT_EXCEEDED


def test_client_key_honours_trusted_proxies_only() -> None:
    proxies = (ipaddress.ip_network("10.0.0.0/8"),)

    def scope(peer: str, xff: str | None = None) -> dict[str, Any]:
        headers = [] if xff is None else [(b"x-forwarded-for", xff.encode())]
        return {"client": (peer, 1), "headers": headers}

    assert client_key(scope("203.0.113.7", "1.2.3.4"), proxies) == "203.0.113.7"  # untrusted peer
    assert client_key(scope("10.0.0.5", "1.2.3.4"), proxies) == "1.2.3.4"
    assert client_key(scope("10.0.0.5", "9.9.9.9, 1.2.3.4, 10.0.0.9"), proxies) == "1.2.3.4"
    assert client_key(scope("10.0.0.5", "not-an-ip"), proxies) == "10.0.0.5"
    assert client_key(scope("10.0.0.5"), proxies) == "10.0.0.5"
    assert client_key(scope("2001:db8:1:2::7"), proxies) == "2001:db8:1:2::/64"
    assert client_key(scope("::ffff:203.0.113.7"), proxies) == "203.0.113.7"


def test_read_pool_admission_is_bounded(tmp_path: Path) -> None:
    """Beyond the queue, or a client's share of it, a heavy read is refused, not queued."""
    pool = ReadPool(tmp_path, 1, RpcLimits(read_queue=3, max_inflight_per_client=2))
    pool.admit("a")
    pool.admit("a")
    with pytest.raises(ReadPoolBusy, match="this client"):
        pool.admit("a")
    pool.admit("b")
    with pytest.raises(ReadPoolBusy, match="server busy"):
        pool.admit("c")
    pool.release("a")
    pool.admit("c")


def test_busy_answers_are_limit_errors(node: EmbeddedNode) -> None:
    app = make_rpc_app(node, RpcLimits(max_inflight_per_client=0))
    try:
        answer = _rpc(TestClient(app), "eth_call", [{"data": "0x00"}])
        assert answer["error"]["code"] == LIMIT_EXCEEDED and "heavy reads" in answer["error"]["message"]
        assert _rpc(TestClient(app), "eth_chainId", [])["result"]  # light reads still answer
    finally:
        app.state.rpc_service.close()


def test_limits_come_from_settings() -> None:
    settings = Settings(rpc_gas_cap=123_456, rpc_call_timeout=1.5, rpc_max_batch=7, rpc_max_log_blocks=10,
                        rpc_max_logs=11, rpc_rate_per_minute=12, trusted_proxies=("10.0.0.0/8",))
    limits = RpcLimits.from_settings(settings)
    assert (limits.gas_cap, limits.call_timeout, limits.max_batch) == (123_456, 1.5, 7)
    assert (limits.max_log_blocks, limits.max_logs, limits.rate_per_minute) == (10, 11, 12)
    assert limits.trusted_proxies == (ipaddress.ip_network("10.0.0.0/8"),)
