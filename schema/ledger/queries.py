"""Root query fields of the ledger domain (auditors), and how its types are fetched by global id (``NODES``)."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from core.roles import LEDGER_READERS
from ledger import service as ledger_service
from ledger.models import AnchorBatch as BatchRow
from ledger.models import LedgerRecord as RecordRow
from schema.context import Context
from schema.ledger.enums import LedgerRecordStatus
from schema.ledger.types import AnchorBatch, LedgerRecord, LedgerStatus
from schema.node import NodeFetcher
from schema.permissions import allow
from schema.relay import page_size

__all__ = ["NODES", "LedgerQuery"]

#: How ``node(id:)`` fetches this domain's types (``schema.node``): none (ledger ids are integers today).
NODES: dict[str, NodeFetcher] = {}


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
