"""Tables of the ledger: records and their commitments, anchor batches, proofs, deployments.

* ``ledger_record`` — one committed record. Its body (RFC 8785 JSON) and salt are
  encrypted at rest; erasure clears both and keeps the commitment. ``batch_id IS NULL``
  *is* the outbox: the anchoring worker takes such rows in batches (index
  ``ix_ledger_record_outbox`` serves that scan in id order).
* ``anchor_batch`` — one Merkle tree of records of one kind: ``prepared`` (root and tree
  written before any transaction is sent) → ``sent`` (signed transaction hash stored
  before it is broadcast) → ``confirmed`` (receipt seen, tx hash and block stored).
* ``anchor_tree`` — the batch's whole tree (OpenZeppelin ``standard-v1`` dump).
* ``record_proof`` — each record's Merkle proof and leaf position in its batch's tree.
* ``ledger_deployment`` — the AnchorRegistry address per chain (chain id + genesis hash),
  so restarts against the same network reuse the contract.
* ``ledger_cursor`` — named positions (e.g. the last audit-log entry committed).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.crypto import EncryptedString
from core.db import Base, BigId, IdPk, Timestamped, UTCDateTime, Versioned, utcnow, value_enum

__all__ = [
    "AnchorBatch",
    "AnchorTree",
    "BatchStatus",
    "LedgerCursor",
    "LedgerDeployment",
    "LedgerRecord",
    "RecordProof",
    "RecordStatus",
]

BigNum = BigInteger().with_variant(Integer(), "sqlite")


class RecordStatus(enum.StrEnum):
    """Where a record stands: waiting for its batch, anchored, or erased."""

    PENDING = "pending"
    ANCHORED = "anchored"
    ERASED = "erased"


class BatchStatus(enum.StrEnum):
    """Lifecycle of an anchor batch."""

    PREPARED = "prepared"
    SENT = "sent"
    CONFIRMED = "confirmed"



class LedgerRecord(IdPk, Versioned, Base):
    """A committed record; body and salt encrypted, commitment public-safe."""

    __tablename__ = "ledger_record"

    kind: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    #: RFC 8785 canonical JSON of the body (None once erased); sealed bound to the commitment.
    body: Mapped[str | None] = mapped_column(EncryptedString("ledger_record.body", row="commitment"))
    #: The 32-byte salt as hex (None once erased); sealed bound to the commitment.
    salt: Mapped[str | None] = mapped_column(EncryptedString("ledger_record.salt", row="commitment"))
    #: ``0x`` + HMAC-SHA256(tenant key, salt || canonical body), hex.
    #: Also the insert sentinel: bulk inserts with RETURNING stay batched and ordered.
    commitment: Mapped[str] = mapped_column(String(66), nullable=False, unique=True, insert_sentinel=True)
    status: Mapped[RecordStatus] = mapped_column(
        value_enum(RecordStatus, "ledger_record_status", length=16), nullable=False, default=RecordStatus.PENDING
    )
    batch_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("anchor_batch.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_ledger_record_outbox", "batch_id", "kind", "id"),)


class AnchorBatch(IdPk, Versioned, Timestamped, Base):
    """One Merkle tree of record commitments and the transaction anchoring its root."""

    __tablename__ = "anchor_batch"

    root: Mapped[str] = mapped_column(String(66), nullable=False, unique=True)
    kind: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    count: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[BatchStatus] = mapped_column(
        value_enum(BatchStatus, "anchor_batch_status", length=16), nullable=False, default=BatchStatus.PREPARED, index=True
    )
    chain_id: Mapped[int | None] = mapped_column(BigNum)
    contract: Mapped[str | None] = mapped_column(String(42))
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    block_number: Mapped[int | None] = mapped_column(BigNum)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class AnchorTree(Base):
    """A batch's whole Merkle tree as OpenZeppelin's ``standard-v1`` dump (JSON text).

    Kept apart from ``anchor_batch`` so the batch's status updates never rewrite it.
    """

    __tablename__ = "anchor_tree"

    batch_id: Mapped[int] = mapped_column(BigId, ForeignKey("anchor_batch.id"), primary_key=True)
    dump: Mapped[str] = mapped_column(Text, nullable=False)


class RecordProof(Base):
    """A record's Merkle proof in its batch's tree (written when the batch is prepared)."""

    __tablename__ = "record_proof"

    record_id: Mapped[int] = mapped_column(BigId, ForeignKey("ledger_record.id"), primary_key=True)
    batch_id: Mapped[int] = mapped_column(BigId, ForeignKey("anchor_batch.id"), nullable=False, index=True)
    #: Position of the leaf in the tree's array layout (``treeIndex`` of the dump).
    leaf_index: Mapped[int] = mapped_column(Integer, nullable=False)
    #: The sibling hashes, leaf to root, as concatenated 32-byte values.
    proof: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class LedgerDeployment(IdPk, Base):
    """Where the AnchorRegistry lives on one chain (identified by chain id and genesis)."""

    __tablename__ = "ledger_deployment"

    chain_id: Mapped[int] = mapped_column(BigNum, nullable=False)
    genesis_hash: Mapped[str] = mapped_column(String(66), nullable=False)
    contract: Mapped[str] = mapped_column(String(42), nullable=False)
    deployer: Mapped[str] = mapped_column(String(42), nullable=False)
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    block_number: Mapped[int | None] = mapped_column(BigNum)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    __table_args__ = (UniqueConstraint("chain_id", "genesis_hash"),)


class LedgerCursor(Versioned, Base):
    """A named position the ledger advances (optimistic locking on every move)."""

    __tablename__ = "ledger_cursor"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(BigNum, nullable=False, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow
    )
