"""Embedded node over JSON-RPC: web3.py HTTPProvider end to end, restart, error codes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from hexbytes import HexBytes
from web3 import HTTPProvider, Web3
from web3.exceptions import ContractLogicError

from ledger.node import DEFAULT_CHAIN_ID, EmbeddedNode
from tests.ledger.node_helpers import ALICE, BOB, INIT_CODE, MALLORY, OWNER, STORED_TOPIC, serve, signed

PREFUND = [OWNER.address, ALICE.address, BOB.address, MALLORY.address]
ALLOWED = [OWNER.address, ALICE.address, BOB.address]


def _open(data_dir: Path) -> EmbeddedNode:
    return EmbeddedNode(data_dir, prefund=PREFUND, allowlist=ALLOWED, coalesce_delay=0.002)


def _send(w3: Web3, raw: bytes) -> Any:
    tx_hash = w3.eth.send_raw_transaction(raw)
    return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=10, poll_latency=0.02)


def _rpc(url: str, method: str, params: list[Any]) -> dict[str, Any]:
    answer = httpx.post(url, json={"jsonrpc": "2.0", "id": 7, "method": method, "params": params})
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


def test_web3_deploy_call_logs_and_restart(tmp_path: Path) -> None:
    """Deploy, transact, read receipts/logs via web3.py; a restart sees the same chain."""
    with _open(tmp_path) as node, serve(node) as url:
        w3 = Web3(HTTPProvider(url))
        assert w3.is_connected()
        assert w3.eth.chain_id == DEFAULT_CHAIN_ID
        assert w3.net.version == str(DEFAULT_CHAIN_ID)
        assert w3.eth.block_number == 0
        assert w3.eth.get_balance(OWNER.address) == 10**24
        # deploy with web3-built fees/nonce/gas to exercise estimateGas and fee methods
        tx: dict[str, Any] = {
            "from": OWNER.address,
            "data": INIT_CODE,
            "nonce": w3.eth.get_transaction_count(OWNER.address, "pending"),
            "chainId": w3.eth.chain_id,
            "maxFeePerGas": w3.eth.gas_price * 2,
            "maxPriorityFeePerGas": w3.eth.max_priority_fee,
        }
        tx["gas"] = w3.eth.estimate_gas(tx)  # type: ignore[arg-type]
        deploy = _send(w3, bytes(OWNER.sign_transaction(tx).raw_transaction))
        assert deploy["status"] == 1
        contract = deploy["contractAddress"]
        assert contract is not None
        assert w3.eth.get_code(contract) != b""

        receipts = []
        for i, account in enumerate([ALICE, BOB, ALICE]):
            nonce = w3.eth.get_transaction_count(account.address, "pending")
            payload = (i + 1).to_bytes(32, "big") + b"hello"
            receipts.append(_send(w3, signed(account, nonce, to=contract, data=payload)))
        assert all(r["status"] == 1 for r in receipts)
        last = receipts[-1]
        assert len(last["logs"]) == 1
        log = last["logs"][0]
        assert log["topics"][0] == STORED_TOPIC
        assert log["data"].endswith(b"hello")
        assert w3.eth.call({"to": contract, "data": b""}) == (3).to_bytes(32, "big")
        assert w3.eth.get_storage_at(contract, 0) == (3).to_bytes(32, "big")

        # a reverting transaction is mined with status 0; eth_call surfaces the revert data
        bad = b"\xff" + b"nope"
        with pytest.raises(ContractLogicError) as info:
            w3.eth.call({"to": contract, "data": bad, "from": ALICE.address})
        assert info.value.data in ("0x" + bad.hex(), bad)
        nonce = w3.eth.get_transaction_count(ALICE.address)
        failed = _send(w3, signed(ALICE, nonce, to=contract, data=bad))
        assert failed["status"] == 0 and failed["logs"] == []

        # log queries: address, topic OR-lists, null wildcards, sender topic
        alice_topic = HexBytes(bytes(12) + bytes.fromhex(ALICE.address[2:]))
        everything = w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest", "address": contract})
        assert len(everything) == 3
        by_alice = w3.eth.get_logs(
            {"fromBlock": 0, "topics": [[HexBytes(STORED_TOPIC), HexBytes(b"\x11" * 32)], alice_topic]}
        )
        assert [e["transactionHash"] for e in by_alice] == [
            receipts[0]["transactionHash"],
            receipts[2]["transactionHash"],
        ]
        assert len(w3.eth.get_logs({"fromBlock": 0, "topics": [None, alice_topic]})) == 2
        assert w3.eth.get_logs({"fromBlock": 0, "topics": [None, None, None]}) == []
        one_block = w3.eth.get_logs({"blockHash": receipts[1]["blockHash"]})
        assert [e["logIndex"] for e in one_block] == [0]

        block = w3.eth.get_block(last["blockNumber"], full_transactions=True)
        assert block["transactions"][last["transactionIndex"]]["hash"] == last["transactionHash"]
        assert block["timestamp"] > w3.eth.get_block(0)["timestamp"]
        fetched = w3.eth.get_transaction(last["transactionHash"])
        assert fetched["from"] == ALICE.address and fetched["blockNumber"] == last["blockNumber"]
        for tag in ("latest", "earliest", "pending", "safe", "finalized"):
            assert w3.eth.get_block(tag)["hash"] is not None
        head = w3.eth.get_block("latest")
        history = w3.eth.fee_history(3, "latest", [50])
        assert len(history["baseFeePerGas"]) == len(history["gasUsedRatio"]) + 1
        nonces = {a.address: w3.eth.get_transaction_count(a.address) for a in (OWNER, ALICE, BOB)}
        last_receipt = w3.eth.get_transaction_receipt(last["transactionHash"])

    with _open(tmp_path) as node, serve(node) as url:
        w3 = Web3(HTTPProvider(url))
        assert w3.eth.get_block("latest") == head
        assert w3.eth.get_transaction_receipt(last["transactionHash"]) == last_receipt
        assert len(w3.eth.get_logs({"fromBlock": 0, "address": contract})) == 3
        for address, nonce in nonces.items():
            assert w3.eth.get_transaction_count(address) == nonce
        # and the chain keeps growing on top of the resumed head
        more = _send(w3, signed(BOB, nonces[BOB.address], to=contract, data=b"\x01" * 32))
        assert more["blockNumber"] == head["number"] + 1
        assert node.verify()["head"] == head["number"] + 1


def test_rejections_and_error_codes(tmp_path: Path) -> None:
    """Non-allowlisted senders and bad requests get JSON-RPC errors, never a 500."""
    with _open(tmp_path) as node, serve(node) as url:
        raw = signed(MALLORY, 0, to=BOB.address, value=1, gas=21_000)
        answer = _rpc(url, "eth_sendRawTransaction", ["0x" + raw.hex()])
        assert answer["error"]["code"] == -32000
        assert "sender not allowlisted" in answer["error"]["message"]
        time.sleep(0.05)
        assert node.block_number() == 0 and node.pending_count() == 0

        node.allow_account(MALLORY.address)
        assert _rpc(url, "eth_sendRawTransaction", ["0x" + raw.hex()])["result"]
        assert node.wait_for_receipt(bytes.fromhex(_tx_hash(raw)), 5).status == 1
        node.revoke_account(MALLORY.address)
        assert MALLORY.address.lower() not in node.allowed_accounts()

        wrong_nonce = signed(ALICE, 5, to=BOB.address, gas=21_000)
        answer = _rpc(url, "eth_sendRawTransaction", ["0x" + wrong_nonce.hex()])
        assert answer["error"]["code"] == -32000 and "nonce too high" in answer["error"]["message"]
        wrong_chain = signed(ALICE, 0, to=BOB.address, gas=21_000, chain_id=1)
        answer = _rpc(url, "eth_sendRawTransaction", ["0x" + wrong_chain.hex()])
        assert answer["error"]["code"] == -32000 and "chain id" in answer["error"]["message"]
        answer = _rpc(url, "eth_sendRawTransaction", ["0x02c0"])
        assert answer["error"]["code"] == -32000

        cases: list[tuple[Any, int]] = [
            (b"{not json", -32700),
            (b"[]", -32600),
            (b"42", -32600),
            (b'{"jsonrpc":"2.0","id":1}', -32600),
            (b'{"jsonrpc":"2.0","id":1,"method":"eth_nope","params":[]}', -32601),
            (b'{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x12"]}', -32602),
            (b'{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":{}}', -32602),
            (b'{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["0xzz"]}', -32602),
            (b'{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[1,2]}', -32602),
            (b'{"jsonrpc":"2.0","id":1,"method":"eth_getLogs","params":[{"topics":"x"}]}', -32602),
            (b'{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x1"}]}', -32602),
            (
                b'{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":'
                b'["0x' + b"00" * 20 + b'","0xffff"]}',
                -32000,
            ),
            ("\xff\xfe".encode("latin-1"), -32700),
            # py-evm raises the recursion limit: deep JSON must be refused before parsing
            (b"[" * 100_000 + b"]" * 100_000, -32600),
            (
                b'{"jsonrpc":"2.0","id":1,"method":"eth_getLogs","params":[' + b"[" * 70 + b"]" * 70 + b"]}",
                -32600,
            ),
        ]
        for body, code in cases:
            response = httpx.post(url, content=body, headers={"content-type": "application/json"})
            assert response.status_code == 200, body
            assert response.json()["error"]["code"] == code, body

        batch = httpx.post(
            url,
            json=[
                {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"},
                {"jsonrpc": "2.0", "id": 2, "method": "nope"},
                {"jsonrpc": "2.0", "method": "eth_blockNumber"},
            ],
        ).json()
        assert [a["id"] for a in batch] == [1, 2]
        assert batch[0]["result"] == "0x1" and batch[1]["error"]["code"] == -32601
        assert _rpc(url, "eth_getTransactionReceipt", ["0x" + "00" * 32])["result"] is None
        assert _rpc(url, "eth_getBlockByNumber", ["0x99", False])["result"] is None
        assert _rpc(url, "eth_accounts", [])["result"] == []
        assert _rpc(url, "eth_syncing", [])["result"] is False


def test_filters_and_pending_nonce(tmp_path: Path) -> None:
    """Block/log filters return what was mined since the last poll; 'pending' counts the pool."""
    with EmbeddedNode(tmp_path, prefund=PREFUND, automine=False) as node, serve(node) as url:
        block_filter = _rpc(url, "eth_newBlockFilter", [])["result"]
        log_filter = _rpc(url, "eth_newFilter", [{"topics": [None]}])["result"]
        node.send_raw_transaction(signed(OWNER, 0, data=INIT_CODE, gas=200_000))
        node.send_raw_transaction(signed(OWNER, 1, to=BOB.address, value=5, gas=21_000))
        pending = _rpc(url, "eth_getTransactionCount", [OWNER.address, "pending"])["result"]
        latest = _rpc(url, "eth_getTransactionCount", [OWNER.address, "latest"])["result"]
        assert (pending, latest) == ("0x2", "0x0")
        queued = _rpc(
            url,
            "eth_getTransactionByHash",
            ["0x" + _tx_hash(signed(OWNER, 1, to=BOB.address, value=5, gas=21_000))],
        )
        assert queued["result"]["blockHash"] is None
        mined = node.mine_pending()
        assert mined is not None and len(mined.tx_hashes) == 2
        receipt = node.receipt(mined.tx_hashes[0])
        assert receipt is not None and receipt.contract_address is not None
        contract = "0x" + receipt.contract_address.hex()
        node.send_raw_transaction(signed(ALICE, 0, to=Web3.to_checksum_address(contract), data=b"\x02" * 40))
        node.mine_pending()
        changes = _rpc(url, "eth_getFilterChanges", [block_filter])["result"]
        assert len(changes) == 2
        logs = _rpc(url, "eth_getFilterChanges", [log_filter])["result"]
        assert len(logs) == 1 and logs[0]["address"] == contract
        assert _rpc(url, "eth_getFilterChanges", [log_filter])["result"] == []
        assert _rpc(url, "eth_uninstallFilter", [log_filter])["result"] is True
        assert _rpc(url, "eth_getFilterChanges", [log_filter])["error"]["code"] == -32000


def _tx_hash(raw: bytes) -> str:
    from eth_utils.crypto import keccak

    return keccak(raw).hex()


def test_run_node_serves_and_stops_cleanly(tmp_path: Path) -> None:
    """run_node() serves JSON-RPC standalone; SIGINT stops it and releases the store."""
    import os
    import signal
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    repo = Path(__file__).resolve().parents[2]
    code = (
        "from ledger.node.rpc import run_node; "
        f"run_node('127.0.0.1', {port}, {str(tmp_path)!r}, prefund=[{OWNER.address!r}],"
        " log_level='warning')"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=repo, env={**os.environ, "PYTHONPATH": str(repo)}
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{url}/health").json()["head"] == 0:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "run_node did not start"
            time.sleep(0.05)
        raw = signed(OWNER, 0, to=BOB.address, value=1, gas=21_000)
        assert "result" in _rpc(url, "eth_sendRawTransaction", ["0x" + raw.hex()])
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
    with EmbeddedNode(tmp_path, automine=False) as node:
        assert node.block_number() == 1
        assert node.transaction_count(OWNER.address) == 1


def test_concurrent_senders_are_batched(tmp_path: Path) -> None:
    """Parallel HTTP senders and readers: every tx mined once, in few blocks, indexes agree."""
    import threading

    senders = [OWNER, ALICE, BOB]
    errors: list[BaseException] = []
    hashes: list[bytes] = []
    lock = threading.Lock()
    stop = threading.Event()

    def send_all(account: Any, url: str) -> None:
        try:
            with httpx.Client() as client:
                for nonce in range(30):
                    raw = signed(account, nonce, to=BOB.address, value=1, gas=21_000)
                    body = {
                        "jsonrpc": "2.0",
                        "id": nonce,
                        "method": "eth_sendRawTransaction",
                        "params": ["0x" + raw.hex()],
                    }
                    answer = client.post(url, json=body).json()
                    with lock:
                        hashes.append(bytes.fromhex(answer["result"][2:]))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def read_loop(url: str) -> None:
        with httpx.Client() as client:
            while not stop.is_set():
                body = {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "eth_getBlockByNumber",
                    "params": ["latest", True],
                }
                if "result" not in client.post(url, json=body).json():
                    errors.append(AssertionError("block read failed"))

    with _open(tmp_path) as node, serve(node) as url:
        reader = threading.Thread(target=read_loop, args=(url,))
        reader.start()
        threads = [threading.Thread(target=send_all, args=(a, url)) for a in senders]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        receipts = [node.wait_for_receipt(h, 20) for h in hashes]
        stop.set()
        reader.join()
        assert not errors, errors
        assert len(receipts) == 90 and all(r.status == 1 for r in receipts)
        assert len({r.block_number for r in receipts}) < 90
        assert node.verify()["txs"] == 90
        for account in senders:
            assert node.transaction_count(account.address) == 30
