"""GraphQL object types of the ledger domain: anchored batches, records, and the typed proof bundle.

A proof bundle is what an auditor checks without trusting Opsure: ``root``, ``leafEncoding``,
``value`` and ``proof`` as OpenZeppelin's ``StandardMerkleTree.verify`` takes them, and where
the root was anchored (chain id, contract, transaction, block). ``ProofBundle.document`` is the
same bundle as the one JSON text ``opsure ledger export-proofs`` writes and ``opsure verify`` reads.

Example (a field of another domain: every row's bundle in one query set, in normal execution
through the loader, in a compiled plan through ``proof_bundle_field``'s prefetch)::

    @strawberry.field(description="The ledger proof bundle of this record.",
                      metadata=proof_bundle_field("ledger_record_pk"))
    def proof(self, info: Info[Context, Any]) -> ProofBundle:
        return load_proof_bundle(info.context, self.ledger_record_pk)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Mapping
from typing import Any

import strawberry
from strawberry.types import Info

from core.roles import LEDGER_OPERATORS, LEDGER_READERS, PROOF_READERS
from ledger import service as ledger_service
from ledger.contract import RecordKind
from ledger.models import AnchorBatch as BatchRow
from ledger.models import BatchStatus, RecordStatus
from ledger.models import LedgerRecord as RecordRow
from ledger.proofs import bundle_document
from schema.context import Context
from schema.fastexec import fast
from schema.ledger.enums import AnchorBatchStatus, LedgerRecordKind, LedgerRecordStatus
from schema.ledger.loaders import AnchorBatchByIdLoader, ProofBundleByRecordIdLoader
from schema.lookahead import prefetch_by
from schema.permissions import access, allow
from schema.relay import Node, encode_global_id

__all__ = ["AnchorBatch", "AnchorBatchCounts", "LedgerRecord", "LedgerRecordCounts", "LedgerStatus", "ProofBundle",
           "load_proof_bundle", "proof_bundle_field"]

_DECIMAL = "A decimal string: chain ids and block numbers can exceed GraphQL's 32-bit Int (and JavaScript's 2^53)."


def _decimal_or_none(value: int | None) -> str | None:
    return None if value is None else str(value)


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
            chain_id=_decimal_or_none(bundle.get("chainId")), contract=bundle.get("contract"),
            tx_hash=bundle.get("txHash"), block_number=_decimal_or_none(bundle.get("blockNumber")),
            erased_at=None if erased_at is None else dt.datetime.fromisoformat(erased_at),
            document=bundle_document(dict(bundle)),
        )


def load_proof_bundle(ctx: Context, record_id: int) -> ProofBundle | Awaitable[ProofBundle]:
    """A ledger record's typed bundle through the request's loader (one batch for every row asking)."""
    return ctx.loader(ProofBundleByRecordIdLoader).get_wrapped(  # type: ignore[no-any-return]
        record_id, ProofBundle.from_bundle)


def proof_bundle_field(record_key: str) -> dict[str, Any]:
    """Field metadata for a ``ProofBundle`` field of objects holding a ledger record id in ``record_key``:
    its compiled-plan twin, with every sibling's bundle loaded at once."""

    def resolve(source: Any, ctx: Context) -> Any:
        return load_proof_bundle(ctx, getattr(source, record_key))

    return fast(resolve, prefetch=prefetch_by(ProofBundleByRecordIdLoader, record_key))


@strawberry.type(description="One anchoring transaction: a Merkle root over a batch of record commitments "
                 "of one kind, sent to the AnchorRegistry contract. Auditors, managers and admins read it.")
@access(LEDGER_READERS)
class AnchorBatch(Node):
    root: str = strawberry.field(description="The batch's Merkle root (bytes32, 0x-hex), as anchored on chain.")
    kind: LedgerRecordKind = strawberry.field(  # type: ignore[valid-type]
        description="The kind of every record in the batch.")
    leaf_count: int = strawberry.field(description="Records (Merkle leaves) in the batch.")
    status: AnchorBatchStatus = strawberry.field(  # type: ignore[valid-type]
        description="Prepared, sent, or confirmed on chain.")
    chain_id: str | None = strawberry.field(description=f"The chain it was sent to (null until sent). {_DECIMAL}")
    contract: str | None = strawberry.field(
        description="The AnchorRegistry contract address (null until sent).")
    tx_hash: str | None = strawberry.field(description="The anchoring transaction's hash (null until sent).")
    block_number: str | None = strawberry.field(
        description=f"The block that confirmed the transaction (null until confirmed). {_DECIMAL}")
    attempts: int = strawberry.field(description="How many times the anchoring transaction was sent.")
    last_error: str | None = strawberry.field(
        description="The last anchoring error (node or RPC message, up to 2,000 characters; null once "
                    "confirmed): operational detail for the admins who run the ledger node.",
        metadata=allow(LEDGER_OPERATORS))
    created_at: dt.datetime = strawberry.field(description="When the batch was prepared.")
    sent_at: dt.datetime | None = strawberry.field(description="When the transaction was last sent.")
    confirmed_at: dt.datetime | None = strawberry.field(description="When the root was confirmed on chain.")

    @classmethod
    def from_row(cls, row: BatchRow) -> AnchorBatch:
        """The GraphQL form of a stored batch."""
        return cls(id=strawberry.ID(encode_global_id("AnchorBatch", row.id)), root=row.root,
                   kind=RecordKind(row.kind), leaf_count=row.count, status=row.status,
                   chain_id=_decimal_or_none(row.chain_id), contract=row.contract, tx_hash=row.tx_hash,
                   block_number=_decimal_or_none(row.block_number), attempts=row.attempts,
                   last_error=row.last_error, created_at=row.created_at, sent_at=row.sent_at,
                   confirmed_at=row.confirmed_at)


def _batch(record: LedgerRecord, ctx: Context) -> Any:
    if record.batch_pk is None:
        return None
    return ctx.loader(AnchorBatchByIdLoader).get_wrapped(record.batch_pk, AnchorBatch.from_row)


def _prefetch_batches(ctx: Context, records: list[LedgerRecord]) -> None:
    ctx.loader(AnchorBatchByIdLoader).fetch_and_prime([r.batch_pk for r in records if r.batch_pk is not None])


@strawberry.type(description="A private record (a document's data, a signed report, an audit entry...) known to "
                 "the ledger only by its salted commitment; the body never leaves Opsure. Auditors, managers "
                 "and admins read it.")
@access(LEDGER_READERS)
class LedgerRecord(Node):
    kind: LedgerRecordKind = strawberry.field(description="What the record commits to.")  # type: ignore[valid-type]
    commitment: str = strawberry.field(
        description="HMAC of the canonical body under a fresh salt (bytes32, 0x-hex): the Merkle leaf's first "
                    "value; stays after erasure and then links to no one.")
    status: LedgerRecordStatus = strawberry.field(  # type: ignore[valid-type]
        description="Pending until its batch is confirmed, then anchored; erased once erased.")
    created_at: dt.datetime = strawberry.field(description="When the record was committed.")
    erased_at: dt.datetime | None = strawberry.field(description="When its body and salt were erased.")
    pk: strawberry.Private[int]
    batch_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: RecordRow) -> LedgerRecord:
        """The GraphQL form of a stored record."""
        return cls(id=strawberry.ID(encode_global_id("LedgerRecord", row.id)), kind=RecordKind(row.kind),
                   commitment=row.commitment, status=row.status, created_at=row.created_at,
                   erased_at=row.erased_at, pk=row.id, batch_pk=row.batch_id)

    @strawberry.field(description="The batch anchoring this record (null until it is batched).",
                      metadata=fast(_batch, prefetch=_prefetch_batches))
    def batch(self, info: Info[Context, Any]) -> AnchorBatch | None:
        return _batch(self, info.context)  # type: ignore[no-any-return]

    @strawberry.field(description="The record's proof bundle (pending, anchored or erased); its `document` is "
                      "the file an auditor verifies.", metadata=proof_bundle_field("pk"))
    def proof_bundle(self, info: Info[Context, Any]) -> ProofBundle:
        return load_proof_bundle(info.context, self.pk)  # type: ignore[return-value]



@strawberry.type(description="Ledger records by status.")
@access(LEDGER_READERS)
class LedgerRecordCounts:
    pending: int = strawberry.field(description="Records waiting for their batch to be confirmed.")
    anchored: int = strawberry.field(description="Records whose root is confirmed on chain.")
    erased: int = strawberry.field(description="Erased records (commitment only).")


@strawberry.type(description="Anchor batches by status.")
@access(LEDGER_READERS)
class AnchorBatchCounts:
    prepared: int = strawberry.field(description="Batches prepared, transaction not sent yet.")
    sent: int = strawberry.field(description="Batches sent, not confirmed yet (a growing number means trouble).")
    confirmed: int = strawberry.field(description="Batches confirmed on chain.")


@strawberry.type(description="The ledger at a glance: records and batches by status, the outbox, the last "
                 "confirmed batch (the same figures as `opsure ledger status`).")
@access(LEDGER_READERS)
class LedgerStatus:
    records: LedgerRecordCounts = strawberry.field(description="Ledger records by status.")
    outbox: int = strawberry.field(description="Records not yet in any batch (the anchoring worker's backlog).")
    batches: AnchorBatchCounts = strawberry.field(description="Anchor batches by status.")
    last_batch: AnchorBatch | None = strawberry.field(
        description="The most recently confirmed batch (null before the first).")

    @classmethod
    def from_status(cls, status: ledger_service.LedgerStatus) -> LedgerStatus:
        """The GraphQL form of ``ledger.service.ledger_status``."""
        r, b = status.records, status.batches
        return cls(
            records=LedgerRecordCounts(pending=r[RecordStatus.PENDING], anchored=r[RecordStatus.ANCHORED],
                                       erased=r[RecordStatus.ERASED]),
            outbox=status.outbox,
            batches=AnchorBatchCounts(prepared=b[BatchStatus.PREPARED], sent=b[BatchStatus.SENT],
                                      confirmed=b[BatchStatus.CONFIRMED]),
            last_batch=None if status.last_batch is None else AnchorBatch.from_row(status.last_batch),
        )
