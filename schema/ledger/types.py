"""GraphQL object types of the ledger domain: anchored batches, records, and the typed proof bundle.

A proof bundle is what an auditor checks without trusting Opsure: ``root``, ``leafEncoding``,
``value`` and ``proof`` as OpenZeppelin's ``StandardMerkleTree.verify`` takes them, and where
the root was anchored (chain id, contract, transaction, block). ``ProofBundle.document`` is the
same bundle as the one JSON text ``opsure ledger export-proofs`` writes and ``opsure verify`` reads.

Example (a field of another domain; the request's loader batches every row's bundle)::

    @strawberry.field(description="The ledger proof bundle of this record.")
    def proof(self, info: Info[Context, Any]) -> ProofBundle:
        return load_proof_bundle(info.context, self.ledger_record_pk)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Mapping
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from core.roles import LEDGER_READERS, PROOF_READERS
from ledger.contract import RecordKind
from ledger.models import AnchorBatch as BatchRow
from ledger.models import LedgerRecord as RecordRow
from ledger.models import RecordStatus
from ledger.proofs import bundle_document
from schema.context import Context
from schema.ledger.enums import LedgerRecordKind, LedgerRecordStatus
from schema.ledger.loaders import ProofBundleByRecordIdLoader
from schema.permissions import access

__all__ = ["AnchorBatch", "LedgerRecord", "LedgerStatus", "ProofBundle", "load_proof_bundle"]

_DECIMAL = "A decimal string: chain ids and block numbers can exceed GraphQL's 32-bit Int (and JavaScript's 2^53)."


@strawberry.type(description="A ledger record's proof bundle: checkable by anyone with the chain's JSON-RPC, "
                 "without trusting Opsure. Anchored bundles fill every field; pending ones carry the "
                 "commitment; erased ones neither commitment nor proof.")
@access(PROOF_READERS)
class ProofBundle:
    format: str = strawberry.field(description="Bundle format: always `opsure-proof-v1`.")
    status: LedgerRecordStatus = strawberry.field(  # type: ignore[valid-type]
        description="PENDING until the record's root is confirmed on chain, then ANCHORED; ERASED once erased.")
    anchored: bool = strawberry.field(description="True exactly when status is ANCHORED.")
    kind: LedgerRecordKind = strawberry.field(description="What the record commits to.")  # type: ignore[valid-type]
    kind_code: int = strawberry.field(description="The kind's uint8 code, as in the Merkle leaf (1-255).")
    commitment: str | None = strawberry.field(
        description="The salted commitment (bytes32, 0x-hex); null once erased.")
    batched: bool | None = strawberry.field(
        description="Pending bundles only: true when the record is in a batch whose root is not confirmed yet.")
    leaf_encoding: list[str] | None = strawberry.field(
        description='ABI types of the leaf, `["bytes32", "uint8"]` (anchored only).')
    value: list[str] | None = strawberry.field(
        description="The leaf values in leafEncoding's order, as strings: the commitment and the kind code "
                    "(anchored only; `document` carries the code as a JSON number, as OpenZeppelin takes it).")
    proof: list[str] | None = strawberry.field(
        description="Merkle proof: sibling hashes (bytes32, 0x-hex) from leaf to root (anchored only).")
    root: str | None = strawberry.field(description="The batch's Merkle root anchored on chain (anchored only).")
    leaf_count: int | None = strawberry.field(description="Leaves in the batch's tree (anchored only).")
    chain_id: str | None = strawberry.field(description=f"The ledger network's chain id (anchored only). {_DECIMAL}")
    contract: str | None = strawberry.field(
        description="The AnchorRegistry contract address holding the root (anchored only).")
    tx_hash: str | None = strawberry.field(description="The anchoring transaction's hash (anchored only).")
    block_number: str | None = strawberry.field(
        description=f"The block that confirmed the anchoring transaction (anchored only). {_DECIMAL}")
    erased_at: dt.datetime | None = strawberry.field(description="When the record was erased (erased only).")
    document: str = strawberry.field(
        description="The whole bundle as one self-contained JSON text, byte for byte what "
                    "`opsure ledger export-proofs` writes to `<commitment>.json` and `opsure verify` reads: "
                    "the text an auditor saves and checks (`opsure verify FILE --rpc URL`, or OpenZeppelin's "
                    "StandardMerkleTree.verify and the registry's `verify` on chain).")

    @classmethod
    def from_bundle(cls, bundle: Mapping[str, Any]) -> ProofBundle:
        """The typed form of a bundle built by ``ledger.proofs`` (``document`` is that bundle's JSON text)."""
        erased_at, value = bundle.get("erasedAt"), bundle.get("value")
        return cls(
            format=bundle["format"], status=RecordStatus(bundle["status"]), anchored=bundle["anchored"],
            kind=RecordKind(bundle["kindCode"]), kind_code=bundle["kindCode"], commitment=bundle.get("commitment"),
            batched=bundle.get("batched"), leaf_encoding=bundle.get("leafEncoding"),
            value=None if value is None else [str(v) for v in value], proof=bundle.get("proof"),
            root=bundle.get("root"), leaf_count=bundle.get("leafCount"),
            chain_id=_decimal(bundle.get("chainId")), contract=bundle.get("contract"),
            tx_hash=bundle.get("txHash"), block_number=_decimal(bundle.get("blockNumber")),
            erased_at=None if erased_at is None else dt.datetime.fromisoformat(erased_at),
            document=bundle_document(dict(bundle)),
        )


def _decimal(value: int | None) -> str | None:
    return None if value is None else str(value)


def load_proof_bundle(ctx: Context, record_id: int) -> ProofBundle | Awaitable[ProofBundle]:
    """A ledger record's typed bundle through the request's loader (one batch for every row asking)."""
    return ctx.loader(ProofBundleByRecordIdLoader).get_wrapped(  # type: ignore[no-any-return]
        record_id, ProofBundle.from_bundle)


def _kind_name(kind: int) -> str:
    return RecordKind(kind).name if kind in RecordKind._value2member_map_ else str(kind)


@strawberry.type(description="One anchoring transaction: a Merkle root over a batch of commitments.")
@access(LEDGER_READERS)
class AnchorBatch:
    id: int
    root: str
    kind: str
    count: int
    status: str
    chain_id: int | None
    contract: str | None
    tx_hash: str | None
    block_number: int | None
    attempts: int
    last_error: str | None
    confirmed_at: dt.datetime | None

    @classmethod
    def from_row(cls, row: BatchRow) -> AnchorBatch:
        return cls(id=row.id, root=row.root, kind=_kind_name(row.kind), count=row.count, status=row.status.value,
                   chain_id=row.chain_id, contract=row.contract, tx_hash=row.tx_hash,
                   block_number=row.block_number, attempts=row.attempts, last_error=row.last_error,
                   confirmed_at=row.confirmed_at)


@strawberry.type(description="A private record known to the ledger only by its salted commitment.")
@access(LEDGER_READERS)
class LedgerRecord:
    id: int
    kind: str
    commitment: str
    status: LedgerRecordStatus  # type: ignore[valid-type]
    created_at: dt.datetime
    erased_at: dt.datetime | None

    @classmethod
    def from_row(cls, row: RecordRow) -> LedgerRecord:
        return cls(id=row.id, kind=_kind_name(row.kind), commitment=row.commitment, status=row.status,
                   created_at=row.created_at, erased_at=row.erased_at)

    @strawberry.field(description="The record's proof bundle (pending, anchored or erased).")
    def proof_bundle(self, info: Info[Context, Any]) -> ProofBundle:
        return load_proof_bundle(info.context, self.id)  # type: ignore[return-value]


@strawberry.type(description="Outbox and batch counts, and the last confirmed batch.")
@access(LEDGER_READERS)
class LedgerStatus:
    records: JSON
    outbox: int
    batches: JSON
    last_batch: JSON | None
