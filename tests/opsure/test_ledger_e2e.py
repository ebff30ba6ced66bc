"""The ledger end to end in a served app: demo data anchored on the embedded chain, web3
reads anchors through /rpc, auditors fetch bundles through GraphQL and verify them."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from click.testing import CliRunner
from web3 import Web3

from core.auth import Role, issue_token
from core.settings import override_settings
from ledger.contract import abi
from ledger.verify import verify_bundle
from opsure.app import create_app
from opsure.cli import main
from opsure.demo import load_demo
from opsure.runtime import Runtime


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(runtime: Runtime) -> Iterator[tuple[str, Any]]:
    """The app with the embedded ledger, served by uvicorn on loopback."""
    settings = runtime.settings.with_(ledger_mode="embedded", anchoring_in_process=False)
    runtime.settings = settings
    app = create_app(settings, runtime)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(20)


def test_demo_records_are_anchored_and_verifiable(served, runtime: Runtime, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base, app = served
    load_demo(runtime, customers=12, years=2, seed=5)
    result = app.state.ledger.anchor_now()
    assert result.ok and result.records >= 12

    w3 = Web3(Web3.HTTPProvider(f"{base}/rpc"))
    assert w3.eth.chain_id == runtime.settings.ledger_chain_id
    for _ in range(3):  # blocks in quick succession never get timestamps ahead of the clock
        load_demo(runtime, customers=1, years=1, seed=int(time.time() * 1000) % 10_000)
        app.state.ledger.anchor_now()
    assert w3.eth.get_block("latest")["timestamp"] <= time.time()
    token = issue_token(runtime.token_keys, runtime.settings, subject="aud", role=Role.AUDITOR)
    query = ("{ ledgerStatus { outbox records { pending anchored } } ledgerRecords(first: 5) { edges { node { "
             "id status proofBundle { status contract root blockNumber document } } } } }")
    resp = httpx.post(f"{base}/graphql", json={"query": query}, headers={"authorization": f"Bearer {token}"})
    data = resp.json()["data"]
    assert data["ledgerStatus"]["outbox"] == 0 and data["ledgerStatus"]["records"]["pending"] == 0
    first = data["ledgerRecords"]["edges"][0]["node"]
    typed = first["proofBundle"]
    assert first["status"] == "ANCHORED" and typed["status"] == "ANCHORED"
    bundle = json.loads(typed["document"])
    assert (bundle["root"], str(bundle["blockNumber"])) == (typed["root"], typed["blockNumber"])

    registry = w3.eth.contract(address=Web3.to_checksum_address(typed["contract"]), abi=abi())
    assert registry.functions.anchoredAt(bytes.fromhex(typed["root"][2:])).call() == int(typed["blockNumber"])
    verdict = verify_bundle(bundle, f"{base}/rpc")
    assert verdict.ok, verdict

    tampered = json.loads(json.dumps(bundle))
    tampered["proof"][0] = "0x" + "00" * 32
    assert not verify_bundle(tampered, f"{base}/rpc").ok

    # The CLI: export every bundle, verify one against the RPC URL.
    override_settings(runtime.settings)
    try:
        out = tmp_path / "proofs"
        exported = CliRunner().invoke(main, ["ledger", "export-proofs", str(out)])
        assert exported.exit_code == 0, exported.output
        files = sorted(out.glob("*.json"))
        assert len(files) >= 12
        # the bundle's document is byte for byte the file an auditor exports
        assert (out / f"{bundle['commitment']}.json").read_text(encoding="utf-8") == typed["document"]
        checked = CliRunner().invoke(main, ["verify", str(files[0]), "--rpc", f"{base}/rpc"])
        assert checked.exit_code == 0, checked.output
    finally:
        override_settings(None)


def test_rpc_without_embedded_node_says_so(app, http) -> None:  # type: ignore[no-untyped-def]
    resp = http.post("/rpc", json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
    assert resp.status_code == 503 and "no embedded ledger" in resp.json()["error"]["message"]
