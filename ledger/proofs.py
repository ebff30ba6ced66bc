"""Proof bundles: self-contained JSON anyone can check without Opsure.

An anchored record's bundle carries exactly what OpenZeppelin's
``StandardMerkleTree.verify(root, leafEncoding, value, proof)`` takes, plus where the root
was anchored (chain id, contract, transaction, block). ``value`` is ``[commitment, kind]``:
no body, no salt, no identifier of a person.

Example (anchored)::

    {"format": "opsure-proof-v1", "status": "anchored", "anchored": true,
     "kind": "SURVEY", "kindCode": 3, "commitment": "0x…",
     "leafEncoding": ["bytes32", "uint8"], "value": ["0x…", 3], "proof": ["0x…", …],
     "root": "0x…", "leafCount": 812, "chainId": 1337, "contract": "0x…",
     "txHash": "0x…", "blockNumber": 42}
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ledger.commitments import LEAF_ENCODING, leaf_value
from ledger.contract import RecordKind

__all__ = [
    "BUNDLE_FORMAT",
    "anchored_bundle",
    "bundle_document",
    "erased_bundle",
    "pack_proof",
    "pending_bundle",
    "unpack_proof",
]

BUNDLE_FORMAT = "opsure-proof-v1"


def bundle_document(bundle: dict[str, Any]) -> str:
    """A bundle as the JSON text ``export-proofs`` writes and ``opsure verify`` reads (one per file)."""
    return json.dumps(bundle, indent=2) + "\n"


def pack_proof(nodes: list[bytes]) -> bytes:
    """A proof as stored in ``record_proof.proof``: the 32-byte nodes concatenated."""
    return b"".join(nodes)


def unpack_proof(packed: bytes) -> list[str]:
    """The stored proof as the ``0x`` hex list a bundle carries."""
    if len(packed) % 32:
        raise ValueError("stored proof is not a whole number of 32-byte nodes")
    h = packed.hex()
    return ["0x" + h[i : i + 64] for i in range(0, len(h), 64)]


def _kind(kind: int) -> dict[str, Any]:
    try:
        name = RecordKind(kind).name
    except ValueError:
        name = str(kind)
    return {"kind": name, "kindCode": int(kind)}


def anchored_bundle(
    *,
    commitment: str,
    kind: int,
    proof: bytes | list[str],
    root: str,
    leaf_count: int,
    chain_id: int,
    contract: str,
    tx_hash: str,
    block_number: int,
) -> dict[str, Any]:
    """The bundle of an anchored record."""
    nodes = unpack_proof(proof) if isinstance(proof, bytes) else list(proof)
    return {
        "format": BUNDLE_FORMAT,
        "status": "anchored",
        "anchored": True,
        **_kind(kind),
        "commitment": commitment,
        "leafEncoding": list(LEAF_ENCODING),
        "value": leaf_value(commitment, kind),
        "proof": nodes,
        "root": root,
        "leafCount": leaf_count,
        "chainId": chain_id,
        "contract": contract,
        "txHash": tx_hash,
        "blockNumber": block_number,
    }


def pending_bundle(*, commitment: str, kind: int, batched: bool) -> dict[str, Any]:
    """What the proof API answers before the record's root is confirmed on chain."""
    return {
        "format": BUNDLE_FORMAT,
        "status": "pending",
        "anchored": False,
        **_kind(kind),
        "commitment": commitment,
        "batched": batched,
    }


def erased_bundle(*, kind: int, erased_at: dt.datetime | None) -> dict[str, Any]:
    """What the proof API answers for an erased record (no commitment, no proof)."""
    return {
        "format": BUNDLE_FORMAT,
        "status": "erased",
        "anchored": False,
        **_kind(kind),
        "erasedAt": erased_at.isoformat() if erased_at else None,
    }
