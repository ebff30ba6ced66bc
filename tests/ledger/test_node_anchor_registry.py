"""The compiled AnchorRegistry (solc, evmVersion paris) runs on the embedded node via web3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from web3 import HTTPProvider, Web3
from web3.exceptions import ContractCustomError, ContractLogicError

from ledger.contract import abi, bytecode
from ledger.node import EmbeddedNode
from tests.ledger.node_helpers import ALICE, OWNER, serve


def _transact(w3: Web3, account: Any, call: Any) -> Any:
    tx = call.build_transaction(
        {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address, "pending")}
    )
    raw = account.sign_transaction(tx).raw_transaction
    return w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(raw), timeout=10, poll_latency=0.02
    )


def test_anchor_registry_roundtrip(tmp_path: Path) -> None:
    """Deploy, anchor a root, read it back, query the event, see a custom-error revert."""
    registry_abi, registry_code = abi(), bytecode()
    with (
        EmbeddedNode(tmp_path, prefund=[OWNER.address, ALICE.address]) as node,
        serve(node) as url,
    ):
        w3 = Web3(HTTPProvider(url))
        factory = w3.eth.contract(abi=registry_abi, bytecode=registry_code)
        deployed = _transact(w3, OWNER, factory.constructor(OWNER.address))
        assert deployed["status"] == 1
        registry = w3.eth.contract(address=deployed["contractAddress"], abi=registry_abi)
        root = b"\x12" * 32
        anchored = _transact(w3, OWNER, registry.functions.anchor(root, 42, 1))
        assert anchored["status"] == 1
        number, timestamp, count, kind = registry.functions.anchorOf(root).call()
        assert (number, count, kind) == (anchored["blockNumber"], 42, 1)
        assert timestamp == w3.eth.get_block(number)["timestamp"]
        events = registry.events.Anchored().get_logs(from_block=0, argument_filters={"root": root})
        assert len(events) == 1 and events[0]["args"]["anchorer"] == OWNER.address
        with pytest.raises((ContractCustomError, ContractLogicError)):
            registry.functions.anchor(b"\x13" * 32, 1, 1).call({"from": ALICE.address})
        with pytest.raises((ContractCustomError, ContractLogicError)):
            registry.functions.anchor(root, 1, 1).estimate_gas({"from": OWNER.address})
