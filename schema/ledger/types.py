"""GraphQL object types of the ledger domain, for auditors: anchored batches, records and their proofs.

Proof bundles are self-contained JSON (``root``, ``leafEncoding``, ``value``, ``proof`` as
OpenZeppelin's ``StandardMerkleTree.verify`` takes them, plus chainId, contract, txHash,
blockNumber) so an auditor can check them without trusting Opsure.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from core.roles import LEDGER_READERS
from ledger.contract import RecordKind
from ledger.models import AnchorBatch as BatchRow
from ledger.models import LedgerRecord as RecordRow
from schema.context import Context
from schema.ledger.enums import LedgerRecordStatus
from schema.ledger.loaders import ProofBundleByRecordIdLoader
from schema.permissions import access

__all__ = ["AnchorBatch", "LedgerRecord", "LedgerStatus"]


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

    @strawberry.field(description="Self-contained proof bundle (status pending, anchored or erased).")
    def proof_bundle(self, info: Info[Context, Any]) -> JSON:
        return info.context.loader(ProofBundleByRecordIdLoader).get(self.id)  # type: ignore[no-any-return]


@strawberry.type(description="Outbox and batch counts, and the last confirmed batch.")
@access(LEDGER_READERS)
class LedgerStatus:
    records: JSON
    outbox: int
    batches: JSON
    last_batch: JSON | None
