"""ethers.js v6 JsonRpcProvider works against the embedded node unchanged."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ledger.node import DEFAULT_CHAIN_ID, EmbeddedNode
from tests import npm_tools
from tests.ledger.node_helpers import ALICE, INIT_CODE, OWNER, serve

SCRIPT = Path(__file__).with_name("js") / "ethers_smoke.mjs"


@pytest.mark.npm
def test_ethers_v6_json_rpc_provider(tmp_path: Path) -> None:
    """The smoke script reads chain id, blocks and receipts and sends signed txs."""
    npm_tools.package("ethers")
    node_bin = npm_tools.node()
    with EmbeddedNode(tmp_path, prefund=[OWNER.address, ALICE.address]) as node, serve(node) as url:
        done = subprocess.run(
            [node_bin, str(SCRIPT), url, ALICE.key.hex(), str(DEFAULT_CHAIN_ID), "0x" + INIT_CODE.hex()],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr + done.stdout
        result = json.loads(done.stdout.strip().splitlines()[-1])
        assert result["chainId"] == str(DEFAULT_CHAIN_ID)
        receipt = node.receipt(bytes.fromhex(result["callHash"][2:]))
        assert receipt is not None and receipt.status == 1
        assert receipt.block_number == result["receiptBlock"]
        assert "0x" + receipt.block_hash.hex() == result["receiptBlockHash"]
        assert node.block_number() == result["endNumber"] >= 3
