"""GraphQL enums of the ledger domain."""

from __future__ import annotations

import strawberry

from ledger.models import RecordStatus

__all__ = ["LedgerRecordStatus"]

LedgerRecordStatus = strawberry.enum(RecordStatus, name="LedgerRecordStatus",
                                     description="Where a record stands: pending, anchored or erased.")
