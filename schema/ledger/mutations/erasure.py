"""Mutations of the ledger domain: erasure (right to be forgotten)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from core.roles import LEDGER_ERASERS
from ledger import service as ledger_service
from ledger.models import LedgerRecord as RecordRow
from schema.context import Context
from schema.errors import UserError, run_mutation
from schema.ledger.types import LedgerRecord
from schema.permissions import access, allow

__all__ = ["EraseLedgerRecordPayload", "ErasureMutations"]


@strawberry.type
@access(LEDGER_ERASERS)
class EraseLedgerRecordPayload:
    record: LedgerRecord | None
    errors: list[UserError]


@strawberry.type
class ErasureMutations:
    @strawberry.mutation(description="Right to be forgotten: delete a record's body and salt; the "
                         "commitment stays on chain and links to no one.", metadata=allow(LEDGER_ERASERS))
    def erase_ledger_record(self, info: Info[Context, Any], id: int) -> EraseLedgerRecordPayload:
        def target(r: RecordRow) -> str:
            return f"LedgerRecord:{r.id}"

        row, errors = run_mutation(info, "eraseLedgerRecord", {"id": id},
                                   lambda s: ledger_service.erase(s, record_id=id), target=target)
        return EraseLedgerRecordPayload(record=LedgerRecord.from_row(row) if row else None, errors=errors)
