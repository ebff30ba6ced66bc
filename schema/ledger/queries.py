"""Root query fields of the ledger domain (auditors), and how its types are fetched by global id (``NODES``)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.errors import ForbiddenError
from core.roles import LEDGER_READERS
from ledger import service as ledger_service
from ledger.models import AnchorBatch as BatchRow
from ledger.models import LedgerRecord as RecordRow
from schema.context import Context
from schema.ledger.enums import AnchorBatchStatus, LedgerRecordKind, LedgerRecordStatus
from schema.ledger.loaders import prefetch_records
from schema.ledger.types import AnchorBatch, LedgerRecord, LedgerStatus
from schema.node import NodeFetcher
from schema.permissions import allow
from schema.relay import PAGING, Connection, KeyColumn, decode_global_id, keyset_connection

__all__ = ["NODES", "LedgerQuery"]

First = Annotated[int | None, strawberry.argument(description="Page size forward (0-100, 20 by default).")]
After = Annotated[str | None, strawberry.argument(description="Cursor of the edge to continue after (forward).")]
Last = Annotated[int | None, strawberry.argument(description="Page size backward (0-100); not with `first`.")]
Before = Annotated[str | None, strawberry.argument(description="Cursor of the edge to continue before (backward).")]


@strawberry.type
class LedgerQuery:
    @strawberry.field(description="The ledger at a glance (auditors, managers, admins).",
                      metadata=allow(LEDGER_READERS))
    def ledger_status(self, info: Info[Context, Any]) -> LedgerStatus:
        return LedgerStatus.from_status(ledger_service.ledger_status(info.context.session))

    @strawberry.field(description="Anchor batches, newest first, optionally of one status and kind "
                      f"(auditors, managers, admins). {PAGING}", metadata=allow(LEDGER_READERS))
    def anchor_batches(
        self, info: Info[Context, Any],
        first: First = None, after: After = None, last: Last = None, before: Before = None,
        status: Annotated[AnchorBatchStatus | None,  # type: ignore[valid-type]
                          strawberry.argument(description="Only batches in this status.")] = None,
        kind: Annotated[LedgerRecordKind | None,  # type: ignore[valid-type]
                        strawberry.argument(description="Only batches of this record kind.")] = None,
    ) -> Connection[AnchorBatch]:
        ctx = info.context
        return keyset_connection(
            ctx.session, ledger_service.batches_query(status=status, kind=kind), wrap=AnchorBatch.from_row,
            settings=ctx.settings, first=first, after=after, last=last, before=before,
            key_columns=[KeyColumn(BatchRow.id, descending=True)])

    @strawberry.field(description="A ledger record by global id (null when absent; auditors, managers, admins).",
                      metadata=allow(LEDGER_READERS))
    def ledger_record(
        self, info: Info[Context, Any],
        id: Annotated[strawberry.ID, strawberry.argument(description="The LedgerRecord's global id.")],
    ) -> LedgerRecord | None:
        row = info.context.session.get(RecordRow, decode_global_id(id, "LedgerRecord"))
        return LedgerRecord.from_row(row) if row else None

    @strawberry.field(description="Ledger records, oldest first, optionally of one status, kind or commitment "
                      f"(auditors, managers, admins). {PAGING}", metadata=allow(LEDGER_READERS))
    def ledger_records(
        self, info: Info[Context, Any],
        first: First = None, after: After = None, last: Last = None, before: Before = None,
        status: Annotated[LedgerRecordStatus | None,  # type: ignore[valid-type]
                          strawberry.argument(description="Only records in this status.")] = None,
        kind: Annotated[LedgerRecordKind | None,  # type: ignore[valid-type]
                        strawberry.argument(description="Only records of this kind.")] = None,
        commitment: Annotated[str | None, strawberry.argument(
            description="Only the record with this commitment (0x + 64 hex, any case): e.g. a signed "
                        "record's `commitment`, to read its proof bundle.")] = None,
    ) -> Connection[LedgerRecord]:
        ctx = info.context
        stmt = ledger_service.records_query(status=status, kind=kind, commitment=commitment)
        return keyset_connection(
            ctx.session, stmt, wrap=LedgerRecord.from_row,
            settings=ctx.settings, first=first, after=after, last=last, before=before,
            key_columns=[KeyColumn(RecordRow.id)], prefetch=lambda rows: prefetch_records(ctx, info, rows))


def _ledger_reader(ctx: Context) -> None:
    """``node(id:)`` sees ledger rows exactly as the ledger's own queries: ledger readers only."""
    if ctx.principal.role not in LEDGER_READERS:
        raise ForbiddenError("ledger rows are for auditors, managers and admins")


def _record_node(ctx: Context, pk: int) -> LedgerRecord:
    _ledger_reader(ctx)
    return LedgerRecord.from_row(ledger_service.get_record(ctx.session, record_id=pk))


def _batch_node(ctx: Context, pk: int) -> AnchorBatch:
    _ledger_reader(ctx)
    return AnchorBatch.from_row(ledger_service.get_batch(ctx.session, batch_id=pk))


#: How ``node(id:)`` fetches this domain's types (``schema.node``).
NODES: dict[str, NodeFetcher] = {"LedgerRecord": _record_node, "AnchorBatch": _batch_node}
