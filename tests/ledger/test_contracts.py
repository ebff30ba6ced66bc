"""AnchorRegistry: the committed artifact on py-evm (eth-tester), ganache, and its rebuild."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eth.vm.forks.paris import ParisVM
from eth_abi.abi import encode as abi_encode
from web3 import Web3

from ledger import contract
from ledger.contract import (
    ANCHORER_ROLE,
    AUDITOR_ROLE,
    DEFAULT_ADMIN_ROLE,
    PARTNER_ROLE,
    RecordKind,
    anchor_registry_artifact,
)
from ledger.merkle import StandardMerkleTree, keccak256
from tests import npm_tools

REPO = Path(__file__).resolve().parents[2]
CONTRACTS = REPO / "contracts"

RevertData = Callable[[BaseException], bytes]


def _error(signature: str, types: list[str] | None = None, args: list[Any] | None = None) -> bytes:
    encoded = abi_encode(types, args) if types and args is not None else b""
    return keccak256(signature.encode())[:4] + encoded


def _tree(n: int = 9, salt: bytes = b"") -> StandardMerkleTree:
    return StandardMerkleTree.of(
        [[keccak256(salt + i.to_bytes(4, "big"))] for i in range(n)], ["bytes32"]
    )


def _accounts(w3: Web3) -> list[str]:
    return list(w3.eth.accounts)


def _anchor(w3: Web3, registry: Any, root: bytes, count: int, kind: int, sender: str) -> Any:
    tx = registry.functions.anchor(root, count, kind).transact({"from": sender})
    return w3.eth.wait_for_transaction_receipt(tx)


# ------------------------------------------------------------------------- the artifact


def test_artifact_shape_and_copies_identical() -> None:
    art = anchor_registry_artifact()
    assert list(art) == ["contractName", "abi", "bytecode", "deployedBytecode", "compiler"]
    assert art["contractName"] == "AnchorRegistry"
    assert art["bytecode"].startswith("0x60") and art["deployedBytecode"].startswith("0x60")
    assert art["compiler"]["version"].startswith("0.8.")
    settings = art["compiler"]["settings"]
    assert settings["evmVersion"] == "paris"
    assert settings["optimizer"] == {"enabled": True, "runs": 200}
    assert contract.bytecode() == art["bytecode"]
    assert contract.abi() == art["abi"]
    names = {e.get("name") for e in contract.abi()}
    assert {
        "anchor",
        "anchoredAt",
        "anchorOf",
        "verify",
        "Anchored",
        "RootAlreadyAnchored",
    } <= names
    packaged = (REPO / "ledger" / "artifacts" / "AnchorRegistry.json").read_bytes()
    committed = (CONTRACTS / "artifacts" / "AnchorRegistry.json").read_bytes()
    assert packaged == committed
    assert packaged.endswith(b"}\n")
    # the loader hands out copies
    art["abi"].clear()
    assert contract.abi()


def test_record_kinds() -> None:
    assert [(k.name, int(k)) for k in RecordKind] == [
        ("MEDICAL", 1),
        ("CREDIT", 2),
        ("SURVEY", 3),
        ("INVESTIGATION_EVENT", 4),
        ("AUDIT_LOG", 5),
        ("RISK_FLAG", 6),
        ("HOSPITAL_BILL", 7),
    ]


# --------------------------------------------------------------------------- on py-evm


def test_deploy_roles_and_code(w3: Web3, registry: Any) -> None:
    admin = _accounts(w3)[0]
    f = registry.functions
    assert f.ANCHORER_ROLE().call() == ANCHORER_ROLE
    assert f.PARTNER_ROLE().call() == PARTNER_ROLE
    assert f.AUDITOR_ROLE().call() == AUDITOR_ROLE
    assert f.DEFAULT_ADMIN_ROLE().call() == DEFAULT_ADMIN_ROLE
    assert f.hasRole(DEFAULT_ADMIN_ROLE, admin).call()
    assert f.hasRole(ANCHORER_ROLE, admin).call()
    assert not f.hasRole(ANCHORER_ROLE, _accounts(w3)[1]).call()
    assert f.anchorCount().call() == 0
    code = w3.eth.get_code(registry.address)
    assert "0x" + code.hex().removeprefix("0x") == contract.deployed_bytecode()


def test_anchor_records_and_emits(w3: Web3, registry: Any) -> None:
    admin = _accounts(w3)[0]
    tree = _tree(9)
    receipt = _anchor(w3, registry, tree.root_bytes, 9, RecordKind.SURVEY, admin)
    assert receipt["status"] == 1
    block = w3.eth.get_block(receipt["blockNumber"])
    (event,) = registry.events.Anchored().process_receipt(receipt)
    assert event["args"]["root"] == tree.root_bytes
    assert event["args"]["count"] == 9
    assert event["args"]["kind"] == RecordKind.SURVEY
    assert event["args"]["blockNumber"] == receipt["blockNumber"]
    assert event["args"]["anchorer"] == admin
    # root, kind and anchorer are indexed topics
    log = receipt["logs"][0]
    assert bytes(log["topics"][1]) == tree.root_bytes
    assert int.from_bytes(bytes(log["topics"][2]), "big") == RecordKind.SURVEY
    f = registry.functions
    assert f.anchoredAt(tree.root_bytes).call() == receipt["blockNumber"]
    assert f.anchorOf(tree.root_bytes).call() == [
        receipt["blockNumber"],
        block["timestamp"],
        9,
        RecordKind.SURVEY,
    ]
    assert f.anchorCount().call() == 1
    assert f.anchoredAt(b"\x07" * 32).call() == 0
    assert f.anchorOf(b"\x07" * 32).call() == [0, 0, 0, 0]


def test_double_anchor_reverts(w3: Web3, registry: Any, revert_data: RevertData) -> None:
    admin = _accounts(w3)[0]
    root = _tree(3).root_bytes
    first = _anchor(w3, registry, root, 3, RecordKind.MEDICAL, admin)
    with pytest.raises(Exception) as info:
        registry.functions.anchor(root, 3, RecordKind.MEDICAL).transact({"from": admin})
    assert revert_data(info.value) == _error("RootAlreadyAnchored(bytes32)", ["bytes32"], [root])
    # also with another count/kind, and via eth_call
    with pytest.raises(Exception) as info:
        registry.functions.anchor(root, 4, RecordKind.CREDIT).call({"from": admin})
    assert revert_data(info.value) == _error("RootAlreadyAnchored(bytes32)", ["bytes32"], [root])
    assert registry.functions.anchoredAt(root).call() == first["blockNumber"]
    assert registry.functions.anchorCount().call() == 1


def test_zero_root_and_zero_count_revert(w3: Web3, registry: Any, revert_data: RevertData) -> None:
    admin = _accounts(w3)[0]
    with pytest.raises(Exception) as info:
        registry.functions.anchor(bytes(32), 1, 1).call({"from": admin})
    assert revert_data(info.value) == _error("ZeroRoot()")
    with pytest.raises(Exception) as info:
        registry.functions.anchor(b"\x01" * 32, 0, 1).call({"from": admin})
    assert revert_data(info.value) == _error("ZeroCount()")


def test_only_anchorer_may_anchor(w3: Web3, registry: Any, revert_data: RevertData) -> None:
    admin, other = _accounts(w3)[0], _accounts(w3)[1]
    root = _tree(2, b"x").root_bytes
    with pytest.raises(Exception) as info:
        registry.functions.anchor(root, 2, 1).transact({"from": other})
    assert revert_data(info.value) == _error(
        "AccessControlUnauthorizedAccount(address,bytes32)",
        ["address", "bytes32"],
        [other, ANCHORER_ROLE],
    )
    # a mined (not estimated) transaction fails too and leaves no trace
    tx = registry.functions.anchor(root, 2, 1).transact({"from": other, "gas": 200_000})
    assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 0
    assert registry.functions.anchoredAt(root).call() == 0
    # once granted the role, the account can anchor
    registry.functions.grantRole(ANCHORER_ROLE, other).transact({"from": admin})
    assert _anchor(w3, registry, root, 2, 1, other)["status"] == 1
    registry.functions.revokeRole(ANCHORER_ROLE, other).transact({"from": admin})
    with pytest.raises(Exception) as info:
        registry.functions.anchor(_tree(2, b"y").root_bytes, 2, 1).call({"from": other})
    assert (
        revert_data(info.value)[:4]
        == _error("AccessControlUnauthorizedAccount(address,bytes32)")[:4]
    )


def test_partner_role_helpers(w3: Web3, registry: Any, revert_data: RevertData) -> None:
    admin, partner = _accounts(w3)[0], _accounts(w3)[2]
    f = registry.functions
    f.grantPartner(partner).transact({"from": admin})
    assert f.hasRole(PARTNER_ROLE, partner).call()
    assert not f.hasRole(ANCHORER_ROLE, partner).call()
    with pytest.raises(Exception) as info:
        f.grantPartner(_accounts(w3)[3]).call({"from": partner})
    assert (
        revert_data(info.value)[:4]
        == _error("AccessControlUnauthorizedAccount(address,bytes32)")[:4]
    )
    f.revokePartner(partner).transact({"from": admin})
    assert not f.hasRole(PARTNER_ROLE, partner).call()
    f.grantRole(AUDITOR_ROLE, partner).transact({"from": admin})
    assert f.hasRole(AUDITOR_ROLE, partner).call()


def test_verify_with_python_proofs(w3: Web3, registry: Any) -> None:
    admin = _accounts(w3)[0]
    encoding = ["bytes32", "uint64", "address"]
    values = [[keccak256(bytes([i])), i * 1000, _accounts(w3)[i % 4]] for i in range(13)]
    tree = StandardMerkleTree.of(values, encoding)
    f = registry.functions
    # valid proof, but the root is not anchored yet
    assert not f.verify(tree.get_proof_bytes(0), tree.root_bytes, tree.leaf_hash_at(0)).call()
    _anchor(w3, registry, tree.root_bytes, len(values), RecordKind.AUDIT_LOG, admin)
    for i, value in enumerate(values):
        leaf = tree.leaf_hash(value)
        assert leaf == tree.leaf_hash_at(i)
        assert f.verify(tree.get_proof_bytes(i), tree.root_bytes, leaf).call()
        assert f.verify(tree.get_proof(i), tree.root, "0x" + leaf.hex()).call()  # hex works too
    proof, leaf = tree.get_proof_bytes(5), tree.leaf_hash_at(5)
    tampered = [proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:]]
    assert not f.verify(tampered, tree.root_bytes, leaf).call()
    assert not f.verify(proof, tree.root_bytes, tree.leaf_hash_at(6)).call()
    assert not f.verify(proof[:-1], tree.root_bytes, leaf).call()
    other = _tree(13, b"other")
    _anchor(w3, registry, other.root_bytes, 13, RecordKind.AUDIT_LOG, admin)
    assert not f.verify(proof, other.root_bytes, leaf).call()


def test_runs_on_a_paris_chain(
    make_web3: Callable[..., Web3],
    deploy_registry: Callable[[Web3, str], Any],
) -> None:
    """The artifact needs no opcode newer than Paris (no PUSH0, MCOPY, TSTORE)."""
    w3 = make_web3(vm_configuration=((0, ParisVM),))
    admin = _accounts(w3)[0]
    registry = deploy_registry(w3, admin)
    tree = _tree(5, b"paris")
    receipt = _anchor(w3, registry, tree.root_bytes, 5, RecordKind.CREDIT, admin)
    assert receipt["status"] == 1
    assert registry.functions.verify(
        tree.get_proof_bytes(4), tree.root_bytes, tree.leaf_hash_at(4)
    ).call()


# ---------------------------------------------------------------------- npm-backed checks


@pytest.mark.npm
def test_artifact_rebuilds_byte_identically() -> None:
    npm = npm_tools.npm()
    proc = subprocess.run(
        [npm, "run", "check", "--prefix", str(CONTRACTS)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        env={**os.environ, "NO_UPDATE_NOTIFIER": "1"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "artifact check OK" in proc.stdout


@pytest.mark.npm
def test_artifact_runs_on_ganache() -> None:
    node = npm_tools.node()
    proc = subprocess.run(
        [node, str(CONTRACTS / "scripts" / "ganache_smoke.mjs"), "merge", "shanghai"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert [(r["hardfork"], r["ok"]) for r in lines] == [("merge", True), ("shanghai", True)]
