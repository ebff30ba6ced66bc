"""Check a proof bundle from the bundle and an RPC URL alone (``opsure verify``).

Off chain: the bundle's shape, its leaf value ``[commitment, kind]`` against its
encoding, and the Merkle proof with OpenZeppelin's StandardMerkleTree algorithm
(ledger.merkle). On chain, through any Ethereum JSON-RPC node: the chain id, the
AnchorRegistry code at the contract address, ``anchoredAt(root)`` equal to the bundle's
block, the ``Anchored`` event for the root in the receipt of ``txHash`` in that block, and
the contract's own ``verify(proof, root, leaf)`` via eth_call. Every check runs (unless
an earlier one makes it meaningless) and reports its own reason, so a tampered byte
anywhere names what it broke.

Example::

    verdict = verify_bundle(json.load(open("0x….json")), "http://127.0.0.1:8545")
    print(verdict.render())
    assert verdict.ok
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.providers.base import BaseProvider

from ledger.chain_client import ChainClient, ChainError, make_web3
from ledger.commitments import LEAF_ENCODING
from ledger.contract import RecordKind, deployed_bytecode
from ledger.merkle import StandardMerkleTree, leaf_hash
from ledger.proofs import BUNDLE_FORMAT, bundle_document

__all__ = ["Check", "Verdict", "export_proofs", "verify_bundle", "verify_offline"]

_HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


@dataclass(frozen=True)
class Check:
    """One verification step and its outcome."""

    name: str
    ok: bool
    detail: str


@dataclass
class Verdict:
    """Every check made on a bundle; ``ok`` only if all passed and the chain was consulted."""

    checks: list[Check] = field(default_factory=list)
    onchain: bool = False

    @property
    def ok(self) -> bool:
        """True iff every check passed, on chain included."""
        return self.onchain and bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def proof_ok(self) -> bool:
        """True iff every check made passed (on chain or not)."""
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failed(self) -> list[str]:
        """Names of the checks that failed."""
        return [c.name for c in self.checks if not c.ok]

    @property
    def reason(self) -> str | None:
        """Why the bundle fails (the first failed check), None if it holds."""
        for c in self.checks:
            if not c.ok:
                return f"{c.name}: {c.detail}"
        if not self.onchain:
            return "not checked on chain (no RPC URL given)"
        return None

    def add(self, name: str, ok: bool, detail: str) -> bool:
        """Record a check; returns ``ok``."""
        self.checks.append(Check(name, ok, detail))
        return ok

    def render(self) -> str:
        """Human-readable verdict, one line per check."""
        lines = [f"  [{'ok' if c.ok else 'FAIL'}] {c.name}: {c.detail}" for c in self.checks]
        if self.ok:
            head = "VERIFIED: the record's commitment is anchored on chain"
        elif self.proof_ok:
            head = "PARTIAL: the Merkle proof holds, but the anchoring was not checked (no RPC URL)"
        else:
            head = f"NOT VERIFIED: {self.reason}"
        return "\n".join([head, *lines])

    def as_dict(self) -> dict[str, Any]:
        """JSON form (for ``--json`` output)."""
        return {
            "ok": self.ok,
            "onchain": self.onchain,
            "reason": self.reason,
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
        }


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _structure(bundle: Any, v: Verdict) -> bool:
    if not isinstance(bundle, dict):
        return v.add("format", False, "the bundle is not a JSON object")
    if bundle.get("format") != BUNDLE_FORMAT:
        return v.add("format", False, f"unknown bundle format {bundle.get('format')!r}")
    if bundle.get("status") != "anchored" or bundle.get("anchored") is not True:
        return v.add("format", False, f"the record is not anchored (status {bundle.get('status')!r})")
    problems = []
    if not isinstance(bundle.get("root"), str) or not _HEX32.match(bundle["root"]):
        problems.append("root is not 32-byte hex")
    proof = bundle.get("proof")
    if not isinstance(proof, list) or not all(isinstance(p, str) and _HEX32.match(p) for p in proof):
        problems.append("proof is not a list of 32-byte hex values")
    if not isinstance(bundle.get("value"), list):
        problems.append("value is not a list")
    if not isinstance(bundle.get("leafEncoding"), list):
        problems.append("leafEncoding is not a list")
    if not _is_int(bundle.get("chainId")) or bundle["chainId"] <= 0:
        problems.append("chainId is not a positive integer")
    if not isinstance(bundle.get("contract"), str) or not _ADDRESS.match(bundle["contract"]):
        problems.append("contract is not an address")
    if not isinstance(bundle.get("txHash"), str) or not _HEX32.match(bundle["txHash"]):
        problems.append("txHash is not a 32-byte hex hash")
    if not _is_int(bundle.get("blockNumber")) or bundle["blockNumber"] <= 0:
        problems.append("blockNumber is not a positive integer")
    if problems:
        return v.add("format", False, "; ".join(problems))
    return v.add("format", True, f"{BUNDLE_FORMAT}, anchored")


def _leaf(bundle: dict[str, Any], v: Verdict) -> bool:
    enc, value = bundle["leafEncoding"], bundle["value"]
    if enc != list(LEAF_ENCODING):
        return v.add("leaf", False, f"leafEncoding {enc!r} is not {list(LEAF_ENCODING)!r}")
    if len(value) != 2 or not isinstance(value[0], str) or not _HEX32.match(value[0]):
        return v.add("leaf", False, "value is not [bytes32 commitment, uint8 kind]")
    if not _is_int(value[1]) or not 0 <= value[1] <= 255:
        return v.add("leaf", False, "value kind is not a uint8")
    commitment = bundle.get("commitment")
    if commitment is not None and str(commitment).lower() != value[0].lower():
        return v.add("leaf", False, "value's commitment differs from the bundle's commitment")
    code = bundle.get("kindCode")
    if code is not None and code != value[1]:
        return v.add("leaf", False, f"value's kind {value[1]} differs from kindCode {code}")
    name = bundle.get("kind")
    if name is not None and value[1] in RecordKind._value2member_map_ and name != RecordKind(value[1]).name:
        return v.add("leaf", False, f"kind {name!r} does not match kind code {value[1]}")
    return v.add("leaf", True, f"commitment {value[0]} of kind {value[1]}")


def _merkle(bundle: dict[str, Any], v: Verdict) -> bool:
    ok = StandardMerkleTree.verify(bundle["root"], bundle["leafEncoding"], bundle["value"], bundle["proof"])
    detail = (
        f"proof of {len(bundle['proof'])} nodes leads to root {bundle['root']}"
        if ok
        else "the proof does not lead from the leaf value to the root"
    )
    return v.add("merkle", ok, detail)


def verify_offline(bundle: Any) -> Verdict:
    """Shape, leaf and Merkle checks only (no chain)."""
    v = Verdict()
    if _structure(bundle, v):
        _leaf(bundle, v)
        _merkle(bundle, v)
    return v


def _onchain(bundle: dict[str, Any], client: ChainClient, v: Verdict) -> None:
    root, block, tx = bundle["root"].lower(), bundle["blockNumber"], bundle["txHash"].lower()
    contract = Web3.to_checksum_address(bundle["contract"])
    chain_id = client.chain_id()
    v.add(
        "chainId",
        chain_id == bundle["chainId"],
        f"node is chain {chain_id}" if chain_id == bundle["chainId"]
        else f"node is chain {chain_id}, the bundle says {bundle['chainId']}",
    )
    code = client.code_at(contract)
    if not code:
        v.add("contract", False, f"no contract code at {contract}")
        return
    if "0x" + code.hex() != deployed_bytecode().lower():
        v.add("contract", False, f"the code at {contract} is not the AnchorRegistry")
        return
    v.add("contract", True, f"AnchorRegistry at {contract}")
    at = client.anchored_at(root)
    if at == 0:
        v.add("anchored", False, f"root {root} is not anchored in this registry")
    else:
        v.add("anchored", at == block, f"root anchored in block {at}" if at == block
              else f"root anchored in block {at}, the bundle says {block}")
    receipt = client.receipt(tx)
    if receipt is None:
        v.add("transaction", False, f"transaction {tx} not found on this chain")
    elif receipt.status != 1:
        v.add("transaction", False, f"transaction {tx} failed (status {receipt.status})")
    elif receipt.block_number != block:
        v.add("transaction", False, f"transaction {tx} is in block {receipt.block_number}, the bundle says {block}")
    else:
        events = [e for e in client.anchor_events(receipt) if e.root == root]
        if not events:
            v.add("transaction", False, f"transaction {tx} emits no Anchored event for this root")
        else:
            e = events[0]
            problems = []
            if e.kind != bundle["value"][1]:
                problems.append(f"event kind {e.kind} differs from the leaf kind {bundle['value'][1]}")
            count = bundle.get("leafCount")
            if count is not None and e.count != count:
                problems.append(f"event count {e.count} differs from leafCount {count}")
            v.add("transaction", not problems, "; ".join(problems) if problems
                  else f"Anchored(root, count={e.count}, kind={e.kind}) in tx {tx}, block {block}")
    try:
        leaf = leaf_hash(bundle["leafEncoding"], bundle["value"])
    except (ValueError, TypeError) as exc:
        v.add("onchainProof", False, f"leaf value cannot be encoded ({exc})")
        return
    ok = client.verify_proof(bundle["proof"], root, leaf)
    v.add("onchainProof", ok, "AnchorRegistry.verify(proof, root, leaf) is true" if ok
          else "AnchorRegistry.verify(proof, root, leaf) is false")


def verify_bundle(
    bundle: Any,
    rpc_url: str | None,
    *,
    w3: Web3 | BaseProvider | None = None,
    timeout: float = 10.0,
    expect_contract: str | None = None,
) -> Verdict:
    """Verify ``bundle`` off chain and, given ``rpc_url`` (or ``w3``), on chain.

    ``expect_contract`` pins the registry the auditor trusts: anyone can deploy an
    AnchorRegistry and anchor any root in it, so a bundle naming another address fails.
    """
    v = verify_offline(bundle)
    if "format" in v.failed:
        return v
    if expect_contract is not None:
        same = str(bundle["contract"]).lower() == expect_contract.lower()
        v.add("trustedContract", same, f"registry {bundle['contract']} is the trusted one" if same
              else f"registry {bundle['contract']} is not the trusted {expect_contract}")
    if rpc_url is None and w3 is None:
        return v
    target: Any = w3 if w3 is not None else rpc_url
    client = ChainClient(
        make_web3(target, timeout=timeout), contract=bundle["contract"], retries=1, backoff=0.2
    )
    try:
        _onchain(bundle, client, v)
        v.onchain = True
    except ChainError as exc:
        v.add("chain", False, exc.message)
    return v


def export_proofs(bundles: Iterable[dict[str, Any]], out_dir: Path) -> int:
    """Write each bundle as ``<out_dir>/<commitment>.json``; returns how many."""
    out_dir.mkdir(parents=True, exist_ok=True)
    n = 0
    for bundle in bundles:
        path = out_dir / f"{bundle['commitment']}.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(bundle_document(bundle), encoding="utf-8")
        tmp.replace(path)
        n += 1
    return n
