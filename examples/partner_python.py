#!/usr/bin/env python3
"""An assessor firm's side of Opsure in Python, top to bottom (copy it, then adapt it).

1. log in with the firm's OAuth2 client credentials (``POST /oauth/token``);
2. read the EIP-712 signing domain and record types the API publishes (``partnerSigningDomain``);
3. find the survey assignment for a case among the firm's own assignments;
4. build a SurveyReport, sign it with the firm's signer key (eth-account), submit it (``submitSignedRecord``);
5. wait until Opsure anchors it on its ledger and fetch its proof bundle;
6. verify the bundle without trusting Opsure: the Merkle proof (OpenZeppelin StandardMerkleTree
   rules, with eth-abi and keccak) and the root on chain through ``/rpc`` (web3.py).

Needs ``pip install requests eth-account web3``. Settings come from arguments or the environment::

    python partner_python.py --base-url http://127.0.0.1:8000 --client-id pc_… --client-secret … \\
        --signer-key-file assessor.key --case CLM-2026-0042 [--bundle-out bundle.json]

    (OPSURE_BASE_URL, OPSURE_CLIENT_ID, OPSURE_CLIENT_SECRET, OPSURE_SIGNER_KEY_FILE, OPSURE_CASE)

``--verify-bundle FILE`` runs step 6 alone on a saved bundle (no login). Exit status: 0 when
the record was accepted and its proof verified, 1 when verification failed, 2 when Opsure
refused something (the printed error codes say what).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import requests
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak
from web3 import Web3
from web3.exceptions import Web3Exception

# Only what we call of Opsure's AnchorRegistry contract (a view, the contract's own check, its event).
REGISTRY_ABI = [
    {"type": "function", "name": "anchoredAt", "stateMutability": "view",
     "inputs": [{"name": "root", "type": "bytes32"}], "outputs": [{"name": "blockNumber", "type": "uint256"}]},
    {"type": "function", "name": "verify", "stateMutability": "view",
     "inputs": [{"name": "proof", "type": "bytes32[]"}, {"name": "root", "type": "bytes32"},
                {"name": "leaf", "type": "bytes32"}],
     "outputs": [{"name": "", "type": "bool"}]},
    {"type": "event", "name": "Anchored", "anonymous": False,
     "inputs": [{"name": "root", "type": "bytes32", "indexed": True},
                {"name": "count", "type": "uint64", "indexed": False},
                {"name": "kind", "type": "uint8", "indexed": True},
                {"name": "blockNumber", "type": "uint256", "indexed": False},
                {"name": "anchorer", "type": "address", "indexed": True}]},
]

SIGNING_DOMAIN = """{ partnerSigningDomain { name version chainId verifyingContract
  types { name fields { name type } } domainFields { name type } } }"""
ASSIGNMENTS = """query($after: String) { assignments(kind: SURVEY, first: 100, after: $after) {
  edges { node { id caseReference investigationId active } } pageInfo { hasNextPage endCursor } } }"""
SUBMIT = """mutation($input: SignedRecordInput!) { submitSignedRecord(input: $input) {
  record { id digest commitment proof { status } } errors { field code message } } }"""
PROOF = """query($id: ID!) { signedRecord(id: $id) { proof { status blockNumber txHash document } } }"""


class Refused(Exception):
    """Opsure refused a request; the message lists its error codes."""


def step(n: int, text: str) -> None:
    """Print what happens, numbered as in the module docstring."""
    print(f"[{n}] {text}", flush=True)


# --- 1. log in ---------------------------------------------------------------------------------

def login(base_url: str, client_id: str, client_secret: str) -> str:
    """An access token for the firm (OAuth2 client_credentials, credentials as HTTP Basic)."""
    resp = requests.post(f"{base_url}/oauth/token", data={"grant_type": "client_credentials"},
                         auth=(client_id, client_secret), timeout=30)
    if resp.status_code != 200:  # RFC 6749 errors: invalid_client, unauthorized_client, ...
        raise Refused(f"login refused ({resp.status_code}): {resp.text}")
    token = resp.json()
    step(1, f"logged in as {client_id}: {token['token_type']} token for {token['expires_in']} s")
    return str(token["access_token"])


def graphql(base_url: str, token: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run one GraphQL document; a request-level error (bad token, forbidden, invalid) raises."""
    resp = requests.post(f"{base_url}/graphql", json={"query": query, "variables": variables or {}},
                         headers={"authorization": f"Bearer {token}"}, timeout=60)
    body = resp.json()
    if body.get("errors"):
        raise Refused("; ".join(f"{e.get('extensions', {}).get('code', '?')}: {e['message']}"
                                for e in body["errors"]))
    data: dict[str, Any] = body["data"]
    return data


# --- 2. the signing domain ---------------------------------------------------------------------

def signing_domain(base_url: str, token: str) -> tuple[dict[str, Any], dict[str, list[dict[str, str]]]]:
    """The EIP-712 domain and the record types, exactly as the API publishes them (never hard-coded)."""
    published = graphql(base_url, token, SIGNING_DOMAIN)["partnerSigningDomain"]
    domain = {key: published[key] for key in ("name", "version", "chainId", "verifyingContract")}
    domain["chainId"] = int(domain["chainId"])
    types = {t["name"]: t["fields"] for t in published["types"]}
    step(2, f"signing domain {domain['name']} v{domain['version']}, chain {domain['chainId']}, "
            f"contract {domain['verifyingContract']}; record types {', '.join(types)}")
    types["EIP712Domain"] = published["domainFields"]  # eth-account wants the domain's type spelled out
    return domain, types


# --- 3. the assignment -------------------------------------------------------------------------

def find_assignment(base_url: str, token: str, case_reference: str) -> dict[str, Any]:
    """The firm's active survey assignment for ``case_reference`` (Opsure lists only our own)."""
    after = None
    while True:
        page = graphql(base_url, token, ASSIGNMENTS, {"after": after})["assignments"]
        for edge in page["edges"]:
            node = edge["node"]
            if node["caseReference"] == case_reference and node["active"]:
                step(3, f"assignment {node['id']}: case {case_reference}, "
                        f"investigation {node['investigationId']}")
                return dict(node)
        if not page["pageInfo"]["hasNextPage"]:
            raise Refused(f"no active survey assignment for case {case_reference}")
        after = page["pageInfo"]["endCursor"]


# --- 4. sign and submit ------------------------------------------------------------------------

def survey_report(assignment: dict[str, Any], assessor: str, findings: bytes, conclusion: int) -> dict[str, Any]:
    """The SurveyReport message: the findings travel only as a hash (the document stays with us)."""
    return {
        "investigationId": int(assignment["investigationId"]),
        "caseReference": assignment["caseReference"],
        "findingsCommitment": "0x" + hashlib.sha256(findings).hexdigest(),
        "conclusionCode": conclusion,
        "assessor": assessor,
        "nonce": secrets.randbits(64),  # fresh per signer: Opsure refuses a reused one (NONCE_REUSED)
        "deadline": int(time.time()) + 600,  # refused after this (DEADLINE_PASSED)
    }


def sign_and_submit(base_url: str, token: str, domain: dict[str, Any], types: dict[str, Any],
                    signer: Any, message: dict[str, Any]) -> dict[str, Any]:
    """Sign the report as EIP-712 typed data and submit it; returns the accepted record."""
    typed_data = {
        "types": {"EIP712Domain": types["EIP712Domain"], "SurveyReport": types["SurveyReport"]},
        "primaryType": "SurveyReport",
        "domain": domain,
        "message": message,
    }
    signed = signer.sign_message(encode_typed_data(full_message=typed_data))
    signature = "0x" + signed.signature.hex().removeprefix("0x")
    payload = graphql(base_url, token, SUBMIT, {"input": {"typedData": typed_data, "signature": signature}})
    result = payload["submitSignedRecord"]
    if result["errors"]:  # every refusal has a code: NOT_ASSIGNED, WRONG_SIGNER, NONCE_REUSED, ...
        raise Refused("; ".join(f"{e['code']} ({e['field']}): {e['message']}" for e in result["errors"]))
    record: dict[str, Any] = result["record"]
    step(4, f"signed SurveyReport (digest {record['digest']}) as {signer.address}; accepted as record "
            f"{record['id']}, commitment {record['commitment']}, proof {record['proof']['status']}")
    return record


# --- 5. wait for the anchor --------------------------------------------------------------------

def wait_anchored(base_url: str, token: str, record_id: str, timeout: float) -> dict[str, Any]:
    """Poll the record until its proof is ANCHORED; returns the proof bundle (its JSON document)."""
    until = time.monotonic() + timeout
    while True:
        proof = graphql(base_url, token, PROOF, {"id": record_id})["signedRecord"]["proof"]
        if proof["status"] == "ANCHORED":
            step(5, f"anchored in block {proof['blockNumber']}, transaction {proof['txHash']}")
            bundle: dict[str, Any] = json.loads(proof["document"])
            return bundle
        if time.monotonic() > until:
            raise Refused(f"not anchored after {timeout:.0f} s (status {proof['status']})")
        time.sleep(1)


# --- 6. verify it independently ----------------------------------------------------------------

def leaf_hash(encoding: list[str], value: list[Any]) -> bytes:
    """OpenZeppelin StandardMerkleTree leaf: keccak256(keccak256(abi.encode(value)))."""
    values = [bytes.fromhex(v[2:]) if t.startswith("bytes") else int(v) for t, v in zip(encoding, value, strict=True)]
    return keccak(keccak(abi_encode(encoding, values)))


def merkle_root(leaf: bytes, proof: list[str]) -> bytes:
    """Fold the proof into the leaf: each step hashes the sorted pair (OpenZeppelin MerkleProof)."""
    node = leaf
    for sibling_hex in proof:
        sibling = bytes.fromhex(sibling_hex[2:])
        node = keccak(b"".join(sorted((node, sibling))))
    return node


def verify(bundle: dict[str, Any], rpc_url: str, *, commitment: str | None = None,
           contract: str | None = None) -> list[str]:
    """Every reason the bundle fails (empty: it holds), checked off chain and then on chain."""
    problems = []
    if commitment is not None and bundle["value"][0].lower() != commitment.lower():
        problems.append("the bundle is not for our record's commitment")
    if contract is not None and bundle["contract"].lower() != contract.lower():
        problems.append("the bundle names another contract than the signing domain's")
    leaf = leaf_hash(bundle["leafEncoding"], bundle["value"])
    root = "0x" + merkle_root(leaf, bundle["proof"]).hex()
    if root != bundle["root"].lower():
        problems.append(f"the Merkle proof leads to {root}, not to the bundle's root")
    else:
        print(f"    Merkle proof: the leaf's {len(bundle['proof'])} steps lead to root {root}")

    try:
        problems += verify_on_chain(bundle, leaf, rpc_url)
    except (Web3Exception, ValueError) as exc:  # no such transaction, no registry at that address, ...
        problems.append(f"the chain could not confirm it: {exc}")
    return problems


def verify_on_chain(bundle: dict[str, Any], leaf: bytes, rpc_url: str) -> list[str]:
    """Every reason the chain does not confirm the bundle's root (and the leaf under it)."""
    problems = []
    w3 = Web3(Web3.HTTPProvider(rpc_url))
    if w3.eth.chain_id != int(bundle["chainId"]):
        return [f"the RPC serves chain {w3.eth.chain_id}, not {bundle['chainId']}"]
    registry = w3.eth.contract(address=Web3.to_checksum_address(bundle["contract"]), abi=REGISTRY_ABI)
    root_bytes = bytes.fromhex(bundle["root"][2:])
    at_block = registry.functions.anchoredAt(root_bytes).call()
    if at_block != int(bundle["blockNumber"]):
        problems.append(f"the registry has the root anchored at block {at_block}, not {bundle['blockNumber']}")
    else:
        print(f"    on chain: anchoredAt(root) = block {at_block}")
    receipt = w3.eth.get_transaction_receipt(bundle["txHash"])
    events = registry.events.Anchored().process_receipt(receipt)
    if not any(e["args"]["root"] == root_bytes for e in events) or receipt["blockNumber"] != at_block:
        problems.append("the anchoring transaction did not emit Anchored for this root in that block")
    else:
        print(f"    on chain: transaction {bundle['txHash']} emitted Anchored(root)")
    proof = [bytes.fromhex(p[2:]) for p in bundle["proof"]]
    if not registry.functions.verify(proof, root_bytes, leaf).call():
        problems.append("the registry's own verify(proof, root, leaf) says no")
    else:
        print("    on chain: AnchorRegistry.verify(proof, root, leaf) = true")
    return problems


def verdict(problems: list[str]) -> int:
    """Print the verdict; the exit status."""
    if problems:
        print("verdict: NOT VERIFIED: " + "; ".join(problems))
        return 1
    print("verdict: VERIFIED")
    return 0


def main() -> int:
    """Run the steps with the settings of the command line and environment."""
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--base-url", default=env("OPSURE_BASE_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--client-id", default=env("OPSURE_CLIENT_ID"))
    parser.add_argument("--client-secret", default=env("OPSURE_CLIENT_SECRET"))
    parser.add_argument("--signer-key-file", default=env("OPSURE_SIGNER_KEY_FILE"),
                        help="file holding the signer's private key (0x hex)")
    parser.add_argument("--case", default=env("OPSURE_CASE"), help="the assigned case reference")
    parser.add_argument("--conclusion", type=int, default=1, help="survey conclusion code (uint16)")
    parser.add_argument("--findings", type=Path, help="the findings document (hashed, never sent)")
    parser.add_argument("--bundle-out", type=Path, help="save the proof bundle here")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the anchor")
    parser.add_argument("--verify-bundle", type=Path, help="only verify this saved bundle")
    args = parser.parse_args()
    base_url = args.base_url.rstrip("/")

    if args.verify_bundle:
        step(6, f"verifying {args.verify_bundle} against {base_url}/rpc")
        return verdict(verify(json.loads(args.verify_bundle.read_text()), f"{base_url}/rpc"))

    missing = [name for name in ("client_id", "client_secret", "signer_key_file", "case") if not getattr(args, name)]
    if missing:
        parser.error("missing " + ", ".join("--" + m.replace("_", "-") for m in missing))
    signer = Account.from_key(Path(args.signer_key_file).read_text().strip())
    findings = args.findings.read_bytes() if args.findings else f"Survey of case {args.case}".encode()
    try:
        token = login(base_url, args.client_id, args.client_secret)
        domain, types = signing_domain(base_url, token)
        assignment = find_assignment(base_url, token, args.case)
        message = survey_report(assignment, signer.address, findings, args.conclusion)
        record = sign_and_submit(base_url, token, domain, types, signer, message)
        bundle = wait_anchored(base_url, token, record["id"], args.timeout)
    except Refused as refused:
        print(f"refused: {refused}")
        return 2
    if args.bundle_out:
        args.bundle_out.write_text(json.dumps(bundle, indent=2) + "\n")
        print(f"    saved the proof bundle to {args.bundle_out}")
    step(6, f"verifying the proof bundle against {base_url}/rpc")
    return verdict(verify(bundle, f"{base_url}/rpc", commitment=record["commitment"],
                          contract=domain["verifyingContract"]))


if __name__ == "__main__":
    sys.exit(main())
