"""/rpc in every worker: the process holding the ledger serves it, the others forward to it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from click.testing import CliRunner
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.testclient import TestClient
from web3 import Web3

from core.settings import override_settings
from ledger import service as ledger_service
from ledger.chain_client import load_or_create_account
from ledger.models import LedgerRecord
from ledger.node.rpc_socket import socket_path
from ledger.verify import verify_bundle
from opsure.app import create_app
from opsure.cli import main
from opsure.demo import load_demo
from opsure.runtime import Runtime

REPO = Path(__file__).resolve().parents[2]


def _rpc(http: Any, method: str, params: list[Any], **headers: str) -> dict[str, Any]:
    answer = http.post("/rpc", json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
                       headers=headers)
    assert answer.status_code in (200, 429), answer.text
    body: dict[str, Any] = answer.json()
    return body


@pytest.fixture
def two_workers(runtime: Runtime) -> Iterator[tuple[Starlette, Starlette]]:
    """Two apps on one data dir, as two `opsure serve` workers: the first holds the node."""
    runtime.settings = runtime.settings.with_(ledger_mode="embedded", anchoring_in_process=False,
                                              rpc_rate_per_minute=40)
    owner = create_app(runtime.settings, runtime)
    other = create_app(runtime.settings, runtime)
    try:
        assert owner.state.ledger.node is not None and other.state.ledger.node is None
        yield owner, other
    finally:
        other.state.ledger.close()
        owner.state.ledger.close()


@pytest.fixture
def served_other(two_workers: tuple[Starlette, Starlette]) -> Iterator[str]:
    """The non-owner app served by uvicorn on loopback (for HTTP-only clients: web3, the CLI)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(two_workers[1], host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)


def test_non_owner_serves_reads_and_forwards_writes(two_workers: tuple[Starlette, Starlette],
                                                     runtime: Runtime) -> None:
    owner_app, other_app = two_workers
    owner, other = TestClient(owner_app), TestClient(other_app, client=("203.0.113.9", 5000))
    head = _rpc(owner, "eth_blockNumber", [])["result"]
    assert _rpc(other, "eth_blockNumber", [])["result"] == head
    assert _rpc(other, "eth_chainId", [])["result"] == hex(runtime.settings.ledger_chain_id)
    assert _rpc(other, "eth_call", [{"data": "0x00"}])["result"] == "0x"  # a heavy read, via the owner
    assert other.get("/rpc").json()["chainId"] == runtime.settings.ledger_chain_id

    # a write sent to the non-owner reaches the one pool: same nonces, same receipt
    account = load_or_create_account(runtime.settings.keys_dir)
    nonce = int(_rpc(other, "eth_getTransactionCount", [account.address, "pending"])["result"], 16)
    gas_price = int(_rpc(other, "eth_gasPrice", [])["result"], 16)
    tx: dict[str, Any] = {"to": account.address, "value": 1, "gas": 21_000, "nonce": nonce, "chainId": runtime.settings.ledger_chain_id,
          "maxFeePerGas": 2 * gas_price, "maxPriorityFeePerGas": 10**9}
    raw = account.sign_transaction(tx).raw_transaction
    block_filter = _rpc(other, "eth_newBlockFilter", [])["result"]
    tx_hash = _rpc(other, "eth_sendRawTransaction", ["0x" + bytes(raw).hex()])["result"]
    assert owner_app.state.ledger.node.wait_for_receipt(bytes.fromhex(tx_hash[2:]), 10).status == 1
    assert _rpc(owner, "eth_getTransactionReceipt", [tx_hash])["result"]["status"] == "0x1"
    assert _rpc(other, "eth_getTransactionReceipt", [tx_hash])["result"]["status"] == "0x1"
    assert _rpc(owner, "eth_getFilterChanges", [block_filter])["result"]  # filters live in the owner

    # rate limits count the original client, not the forwarding worker
    while "result" in _rpc(other, "eth_chainId", []):
        pass
    refused = other.post("/rpc", json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert "result" in _rpc(TestClient(other_app, client=("203.0.113.10", 5000)), "eth_chainId", [])


def test_verify_against_the_non_owner(two_workers: tuple[Starlette, Starlette], served_other: str,
                                      runtime: Runtime, tmp_path: Path) -> None:
    """An auditor's `opsure verify --rpc` works whichever worker answers."""
    owner_app, _ = two_workers
    load_demo(runtime, customers=3, years=1, seed=3)
    assert owner_app.state.ledger.anchor_now().ok
    with runtime.session_factory() as s:
        record_id = s.scalars(select(LedgerRecord.id).limit(1)).one()
        bundle = ledger_service.proof_bundles(s, record_ids=[record_id])[record_id]
    rpc_url = f"{served_other}/rpc"
    assert Web3(Web3.HTTPProvider(rpc_url)).eth.chain_id == runtime.settings.ledger_chain_id
    assert verify_bundle(bundle, rpc_url).ok
    override_settings(runtime.settings)
    try:
        out = tmp_path / "proofs"
        assert CliRunner().invoke(main, ["ledger", "export-proofs", str(out)]).exit_code == 0
        checked = CliRunner().invoke(main, ["verify", str(sorted(out.glob("*.json"))[0]), "--rpc", rpc_url])
        assert checked.exit_code == 0, checked.output
    finally:
        override_settings(None)


def test_without_a_reachable_owner_the_answer_is_a_json_rpc_error(two_workers: tuple[Starlette, Starlette],
                                                                    runtime: Runtime) -> None:
    owner_app, other_app = two_workers
    owner_app.state.ledger.close()
    assert not socket_path(runtime.settings.data_dir / "chain").exists()
    answer = TestClient(other_app).post("/rpc", json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"})
    assert answer.status_code == 503 and answer.json()["error"]["code"] == -32000


@pytest.mark.slow
def test_serve_with_two_workers_answers_every_rpc(tmp_path: Path) -> None:
    """`opsure serve --workers 2` with the embedded ledger: no /rpc request gets a 503."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSURE_")}
    env.update({"OPSURE_DATA_DIR": str(tmp_path / "data"), "OPSURE_LEDGER": "embedded",
                "OPSURE_LOG_LEVEL": "warning", "PYTHONPATH": str(REPO)})
    subprocess.run([sys.executable, "-m", "opsure.cli", "migrate"], cwd=REPO, env=env, check=True,
                   capture_output=True, timeout=120)
    server = subprocess.Popen([sys.executable, "-m", "opsure.cli", "serve", "--port", str(port), "--workers", "2"],
                              cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/rpc"
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    try:
        deadline = time.monotonic() + 90
        ready = 0
        while ready < 10:  # both workers up: ten answers in a row on fresh connections
            assert time.monotonic() < deadline and server.poll() is None, "server did not come up"
            try:
                ready = ready + 1 if httpx.post(url, json=body, timeout=5).status_code == 200 else 0
            except httpx.HTTPError:
                ready = 0
                time.sleep(0.3)
        statuses = [httpx.post(url, json=body, timeout=10).status_code for _ in range(60)]  # one connection each
        assert statuses == [200] * 60
    finally:
        server.terminate()
        server.wait(30)
