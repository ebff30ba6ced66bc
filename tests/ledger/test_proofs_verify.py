"""Proof bundles and their verifier: every tampered field fails with its own reason."""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from core.db import transaction
from core.errors import NotFoundError
from core.settings import override_settings
from ledger import service
from ledger.chain_client import ChainClient
from ledger.cli import ledger_cli, verify_cli
from ledger.merkle import StandardMerkleTree
from ledger.verify import Verdict, export_proofs, verify_bundle, verify_offline
from tests import npm_tools

REPO = Path(__file__).resolve().parents[2]
JS_VERIFY = REPO / "tests" / "ledger" / "js" / "verify_bundles.mjs"
pytestmark = pytest.mark.usefixtures("tenant_key")


def _bundle(session_factory: Any, record_id: int) -> dict[str, Any]:
    with session_factory() as s:
        return service.proof_bundle(s, record_id=record_id)


def _flip(hex_value: str, at: int = -1) -> str:
    digits = list(hex_value)
    digits[at] = "0" if digits[at] != "0" else "1"
    return "".join(digits)


def test_good_bundle_passes_every_check(anchored: tuple[ChainClient, list[int]], session_factory: Any) -> None:
    chain, ids = anchored
    bundle = _bundle(session_factory, ids[0])
    assert set(bundle) == {
        "format", "status", "anchored", "kind", "kindCode", "commitment", "leafEncoding", "value",
        "proof", "root", "leafCount", "chainId", "contract", "txHash", "blockNumber"}
    verdict = verify_bundle(bundle, None, w3=chain.w3)
    assert verdict.ok and verdict.reason is None and verdict.failed == []
    assert [c.name for c in verdict.checks] == [
        "format", "leaf", "merkle", "chainId", "contract", "anchored", "transaction", "onchainProof"]
    assert verdict.render().startswith("VERIFIED")
    assert verdict.as_dict()["ok"] is True
    # nothing personal in the bundle: no body, salt or record id
    text = json.dumps(bundle)
    assert "A-0" not in text and "salt" not in text and "recordId" not in text
    # the JSON round trip (what a file holds) verifies as well
    assert verify_bundle(json.loads(text), None, w3=chain.w3).ok


TAMPERS: dict[str, tuple[Callable[[dict[str, Any], dict[str, Any]], object], set[str]]] = {
    "proof byte": (lambda b, o: b["proof"].__setitem__(0, _flip(b["proof"][0])), {"merkle", "onchainProof"}),
    "proof node dropped": (lambda b, o: b["proof"].pop(), {"merkle", "onchainProof"}),
    "proof of another leaf": (lambda b, o: b.__setitem__("proof", o["proof"]), {"merkle", "onchainProof"}),
    "root": (lambda b, o: b.__setitem__("root", _flip(b["root"])),
             {"merkle", "anchored", "transaction", "onchainProof"}),
    "value commitment": (lambda b, o: b["value"].__setitem__(0, _flip(b["value"][0], 2)),
                         {"leaf", "merkle", "onchainProof"}),
    "value and commitment": (lambda b, o: b.update(value=[o["commitment"], b["value"][1]], commitment=o["commitment"]),
                             {"merkle", "onchainProof"}),
    "value kind": (lambda b, o: (b["value"].__setitem__(1, 1), b.update(kind="MEDICAL", kindCode=1)),
                   {"merkle", "transaction", "onchainProof"}),
    "kind label": (lambda b, o: b.update(kind="CREDIT"), {"leaf"}),
    "leaf encoding": (lambda b, o: b.__setitem__("leafEncoding", ["bytes32", "uint256"]), {"leaf"}),
    "chainId": (lambda b, o: b.__setitem__("chainId", 1), {"chainId"}),
    "txHash (unknown)": (lambda b, o: b.__setitem__("txHash", _flip(b["txHash"])), {"transaction"}),
    "txHash (other batch)": (lambda b, o: b.__setitem__("txHash", o["txHash"]), {"transaction"}),
    "blockNumber": (lambda b, o: b.__setitem__("blockNumber", b["blockNumber"] + 1), {"anchored", "transaction"}),
    "leafCount": (lambda b, o: b.__setitem__("leafCount", 10), {"transaction"}),
    "contract": (lambda b, o: b.__setitem__("contract", "0x" + "12" * 20), {"contract"}),
}


@pytest.mark.parametrize("what", list(TAMPERS))
def test_tampering_fails_with_the_specific_reason(
    anchored: tuple[ChainClient, list[int]], session_factory: Any, what: str
) -> None:
    chain, ids = anchored
    good = _bundle(session_factory, ids[0])
    other = _bundle(session_factory, ids[10])  # the medical batch: another root and tx
    if what == "proof of another leaf":
        other = _bundle(session_factory, ids[1])
    tamper, expected = TAMPERS[what]
    bundle = copy.deepcopy(good)
    tamper(bundle, other)
    verdict = verify_bundle(bundle, None, w3=chain.w3)
    assert not verdict.ok
    assert set(verdict.failed) == expected, verdict.render()
    assert verdict.reason and verdict.reason.startswith(verdict.failed[0])
    assert verdict.render().startswith("NOT VERIFIED")


@pytest.mark.parametrize(
    ("bundle", "needle"),
    [
        ("not an object", "not a JSON object"),
        ({"format": "other"}, "unknown bundle format"),
        ({"format": "opsure-proof-v1", "status": "pending", "anchored": False}, "not anchored"),
        ({"format": "opsure-proof-v1", "status": "anchored", "anchored": True, "root": "0x12"}, "root is not"),
    ],
)
def test_malformed_bundles_fail_the_format_check(bundle: Any, needle: str) -> None:
    verdict = verify_bundle(bundle, "http://127.0.0.1:9")
    assert verdict.failed == ["format"] and needle in (verdict.reason or "")


def test_pending_and_erased_bundles_do_not_verify(
    anchored: tuple[ChainClient, list[int]], session_factory: Any
) -> None:
    chain, ids = anchored
    pending = _bundle(session_factory, ids[-1])
    assert pending["status"] == "pending" and pending["batched"] is False
    with transaction(session_factory) as s:
        service.erase(s, record_id=ids[0])
    erased = _bundle(session_factory, ids[0])
    assert erased["status"] == "erased"
    for b in (pending, erased):
        assert verify_bundle(b, None, w3=chain.w3).failed == ["format"]


def test_pinned_registry(anchored: tuple[ChainClient, list[int]], session_factory: Any) -> None:
    chain, ids = anchored
    bundle = _bundle(session_factory, ids[0])
    pinned = verify_bundle(bundle, None, w3=chain.w3, expect_contract=chain.contract_address.lower())
    assert pinned.ok and "trustedContract" in [c.name for c in pinned.checks]
    other = verify_bundle(bundle, None, w3=chain.w3, expect_contract="0x" + "12" * 20)
    assert other.failed == ["trustedContract"] and "not the trusted" in (other.reason or "")


def test_offline_and_unreachable_chain(anchored: tuple[ChainClient, list[int]], session_factory: Any) -> None:
    _, ids = anchored
    bundle = _bundle(session_factory, ids[3])
    offline = verify_offline(bundle)
    assert offline.proof_ok and not offline.ok and "not checked on chain" in (offline.reason or "")
    assert offline.render().startswith("PARTIAL")
    down = verify_bundle(bundle, "http://127.0.0.1:9", timeout=0.5)
    assert not down.ok and down.failed == ["chain"] and "unreachable" in (down.reason or "")
    assert isinstance(down, Verdict) and not down.onchain


def test_bundle_proof_matches_the_stored_tree(anchored: tuple[ChainClient, list[int]], session_factory: Any) -> None:
    _, ids = anchored
    bundle = _bundle(session_factory, ids[4])
    with session_factory() as s:
        tree = StandardMerkleTree.load(service.batch_tree(s, root=bundle["root"]))
        with pytest.raises(NotFoundError):
            service.batch_tree(s, root="0x" + "00" * 32)
    assert tree.root == bundle["root"]
    assert tree.get_proof(bundle["value"]) == bundle["proof"]


def test_proof_bundles_in_bulk_match_one_by_one(anchored: tuple[ChainClient, list[int]], session_factory: Any) -> None:
    _, ids = anchored
    with transaction(session_factory) as s:
        service.erase(s, record_id=ids[5])
    with session_factory() as s:
        bulk = service.proof_bundles(s, record_ids=[*ids, 10**9, ids[0]])
        assert service.proof_bundles(s, record_ids=[]) == {}
    assert set(bulk) == set(ids)
    assert [bulk[i] for i in ids] == [_bundle(session_factory, i) for i in ids]
    assert [bulk[i]["status"] for i in ids].count("anchored") == 11


# ------------------------------------------------------------------- export + CLI


def test_export_proofs_and_cli(
    anchored: tuple[ChainClient, list[int]], session_factory: Any, settings: Any, tmp_path: Path
) -> None:
    _, ids = anchored
    with transaction(session_factory) as s:
        service.erase(s, record_id=ids[2])
    out = tmp_path / "proofs"
    runner = CliRunner()
    override_settings(settings)
    try:
        result = runner.invoke(ledger_cli, ["export-proofs", str(out)])
        assert result.exit_code == 0, result.output
        assert "wrote 11 proof bundles" in result.output  # 12 anchored, 1 erased, 1 pending
        status = runner.invoke(ledger_cli, ["status"])
        assert json.loads(status.output)["records"] == {"pending": 1, "anchored": 11, "erased": 1}
    finally:
        override_settings(None)
    files = sorted(out.glob("*.json"))
    assert len(files) == 11
    for f in files:
        b = json.loads(f.read_text())
        assert f.name == f"{b['commitment']}.json" and verify_offline(b).proof_ok
    with session_factory() as s:
        assert export_proofs(service.anchored_bundles(s, chunk=4), tmp_path / "again") == 11

    good = str(files[0])
    ok = runner.invoke(verify_cli, [good, "--offline"])
    assert ok.exit_code == 0 and ok.output.startswith("PARTIAL"), ok.output
    as_json = runner.invoke(verify_cli, [good, "--offline", "--json"])
    assert json.loads(as_json.output)["checks"][2]["name"] == "merkle"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(dict(json.loads(files[0].read_text()), root="0x" + "00" * 32)))
    failed = runner.invoke(verify_cli, [str(bad), "--offline"])
    assert failed.exit_code == 1 and "NOT VERIFIED: merkle" in failed.output
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    assert runner.invoke(verify_cli, [str(garbage), "--offline"]).exit_code == 2
    down = runner.invoke(verify_cli, [good, "--rpc", "http://127.0.0.1:9", "--timeout", "0.5"])
    assert down.exit_code == 1 and "unreachable" in down.output
    override_settings(settings.with_(ledger_rpc_url=None))
    try:
        assert runner.invoke(verify_cli, [good]).exit_code == 2  # usage: --rpc or --offline
    finally:
        override_settings(None)


@pytest.mark.npm
def test_openzeppelin_agrees_on_every_tampered_bundle(
    anchored: tuple[ChainClient, list[int]], session_factory: Any
) -> None:
    npm_tools.package("@openzeppelin/merkle-tree")
    node = npm_tools.node()
    _, ids = anchored
    good = [_bundle(session_factory, i) for i in ids[:-1]]
    variants = list(good)
    for tamper, _ in TAMPERS.values():
        b = copy.deepcopy(good[0])
        tamper(b, good[10])
        variants.append(b)
    out = subprocess.run([node, str(JS_VERIFY)], input=json.dumps({"bundles": variants}),
                         capture_output=True, text=True, timeout=60, check=True)
    js = json.loads(out.stdout)
    ours = [StandardMerkleTree.verify(b["root"], b["leafEncoding"], b["value"], b["proof"]) for b in variants]
    assert js["results"] == ours
    assert js["results"][: len(good)] == [True] * len(good)
    from ledger.merkle import leaf_hash

    assert js["leafHashes"][0] == "0x" + leaf_hash(good[0]["leafEncoding"], good[0]["value"]).hex()
