"""Mutations of the ledger domain: erasure (right to be forgotten)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.errors import NotFoundError
from core.roles import LEDGER_ERASERS
from ledger import service as ledger_service
from ledger.models import LedgerRecord as RecordRow
from schema.context import Context
from schema.errors import mutation_errors, run_mutation
from schema.ledger.types import LedgerRecord
from schema.permissions import access, allow
from schema.relay import decode_global_id

__all__ = ["EraseLedgerRecordError", "EraseLedgerRecordPayload", "ErasureMutations"]

#: Erasure has no refusals of its own: a malformed or foreign id (BAD_ID), an unknown record (NOT_FOUND),
#: a concurrent change (STALE_VERSION) are among the codes every mutation can get.
EraseLedgerRecordError = mutation_errors("EraseLedgerRecord")


@strawberry.type(description="What eraseLedgerRecord did: the erased record, or why it refused.")
@access(LEDGER_ERASERS)
class EraseLedgerRecordPayload:
    record: LedgerRecord | None = strawberry.field(
        description="The record, now ERASED (erasing it again answers the same); null when refused.")
    errors: list[EraseLedgerRecordError] = strawberry.field(  # type: ignore[valid-type]
        description="Every reason it refused; empty on success.")


@strawberry.type
class ErasureMutations:
    @strawberry.mutation(description="Right to be forgotten (admins): delete a ledger record's body and salt. "
                         "The commitment stays on chain and, without its salt, links to no one; the proof "
                         "bundle answers ERASED from then on. Idempotent.", metadata=allow(LEDGER_ERASERS))
    def erase_ledger_record(
        self, info: Info[Context, Any],
        id: Annotated[strawberry.ID, strawberry.argument(description="The LedgerRecord's global id.")],
    ) -> EraseLedgerRecordPayload:
        def erase(session: Any) -> RecordRow:
            try:
                return ledger_service.erase(session, record_id=decode_global_id(id, "LedgerRecord"))
            except NotFoundError as exc:  # name the argument the client sent
                raise NotFoundError(exc.message, field="id") from None

        row, errors = run_mutation(info, "eraseLedgerRecord", {"id": id}, erase,
                                   target=lambda r: f"LedgerRecord:{r.id}", codes=EraseLedgerRecordError)
        return EraseLedgerRecordPayload(record=LedgerRecord.from_row(row) if row else None, errors=errors)
