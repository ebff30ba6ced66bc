"""GraphQL for auditors: anchored batches, a record's anchoring status and proof bundle.

Proof bundles are self-contained JSON (``root``, ``leafEncoding``, ``value``, ``proof`` as
OpenZeppelin's ``StandardMerkleTree.verify`` takes them, plus chainId, contract, txHash,
blockNumber) so an auditor can check them without trusting Opsure.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from sqlalchemy import select
from strawberry.scalars import JSON
from strawberry.types import Info

from core.auth import Role
from ledger import service as ledger_service
from ledger.contract import RecordKind
from ledger.models import AnchorBatch as BatchRow
from ledger.models import LedgerRecord as RecordRow
from ledger.models import RecordStatus
from schema.context import Context
from schema.errors import UserError, run_mutation
from schema.loaders import BatchLoader
from schema.permissions import access, allow
from schema.relay import page_size

LedgerRecordStatus = strawberry.enum(RecordStatus, name="LedgerRecordStatus",
                                     description="Where a record stands: pending, anchored or erased.")
LEDGER_READERS = frozenset({Role.AUDITOR.value, Role.ADMIN.value, Role.MANAGER.value})


def _kind_name(kind: int) -> str:
    return RecordKind(kind).name if kind in RecordKind._value2member_map_ else str(kind)


class ProofBundleByRecordIdLoader(BatchLoader[int, dict[str, Any] | None]):
    def fetch(self, keys: Any) -> Any:
        return ledger_service.proof_bundles(self.context.session, record_ids=keys)


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


@strawberry.type
class LedgerQuery:
    @strawberry.field(description="Anchoring status of the whole ledger.", metadata=allow(LEDGER_READERS))
    def ledger_status(self, info: Info[Context, Any]) -> LedgerStatus:
        st = ledger_service.ledger_status(info.context.session)
        return LedgerStatus(records=st["records"], outbox=st["outbox"], batches=st["batches"],
                            last_batch=st.get("lastBatch"))

    @strawberry.field(description="Anchor batches, newest first; first: at most the max page size (100).",
                      metadata=allow(LEDGER_READERS))
    def anchor_batches(self, info: Info[Context, Any], first: int | None = None,
                       before_id: int | None = None) -> list[AnchorBatch]:
        ctx: Context = info.context
        stmt = select(BatchRow).order_by(BatchRow.id.desc()).limit(page_size(first, ctx.settings))
        if before_id is not None:
            stmt = stmt.where(BatchRow.id < before_id)
        return [AnchorBatch.from_row(r) for r in ctx.session.scalars(stmt)]

    @strawberry.field(description="A ledger record by id (null when absent).", metadata=allow(LEDGER_READERS))
    def ledger_record(self, info: Info[Context, Any], id: int) -> LedgerRecord | None:
        row = info.context.session.get(RecordRow, id)
        return LedgerRecord.from_row(row) if row else None

    @strawberry.field(description="Ledger records after an id, oldest first (max page size 100).",
                      metadata=allow(LEDGER_READERS))
    def ledger_records(self, info: Info[Context, Any], after_id: int = 0, first: int | None = None,
                       status: LedgerRecordStatus | None = None) -> list[LedgerRecord]:  # type: ignore[valid-type]
        ctx: Context = info.context
        stmt = select(RecordRow).where(RecordRow.id > after_id).order_by(RecordRow.id)
        if status is not None:
            stmt = stmt.where(RecordRow.status == status)
        stmt = stmt.limit(page_size(first, ctx.settings))
        return [LedgerRecord.from_row(r) for r in ctx.session.scalars(stmt)]


@strawberry.type
@access(frozenset({Role.ADMIN.value}))
class EraseLedgerRecordPayload:
    record: LedgerRecord | None
    errors: list[UserError]


@strawberry.type
class LedgerMutation:
    @strawberry.mutation(description="Right to be forgotten: delete a record's body and salt; the "
                         "commitment stays on chain and links to no one.", metadata=allow(Role.ADMIN))
    def erase_ledger_record(self, info: Info[Context, Any], id: int) -> EraseLedgerRecordPayload:
        def target(r: RecordRow) -> str:
            return f"LedgerRecord:{r.id}"

        row, errors = run_mutation(info, "eraseLedgerRecord", {"id": id},
                                   lambda s: ledger_service.erase(s, record_id=id), target=target)
        return EraseLedgerRecordPayload(record=LedgerRecord.from_row(row) if row else None, errors=errors)
