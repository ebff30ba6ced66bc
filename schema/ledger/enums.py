"""GraphQL enums of the ledger domain: a record's status and kind, an anchor batch's status."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import strawberry

from ledger.contract import RecordKind
from ledger.models import BatchStatus, RecordStatus

__all__ = ["AnchorBatchStatus", "LedgerRecordKind", "LedgerRecordStatus"]


def _described(cls: type[enum.Enum], *, name: str, description: str, values: Mapping[str, str]) -> Any:
    """``strawberry.enum`` over a domain enum, with one description per member (all required)."""
    missing = {m.name for m in cls} ^ set(values)
    if missing:
        raise ValueError(f"{name}: describe exactly its members (mismatch: {sorted(missing)})")
    wrapped: Any = strawberry.enum(cls, name=name, description=description)
    for value in wrapped.__strawberry_definition__.values:
        value.description = values[value.name]
    return wrapped


LedgerRecordStatus = _described(
    RecordStatus, name="LedgerRecordStatus",
    description="Where a ledger record (and its proof bundle) stands.",
    values={
        "PENDING": "Committed, waiting for its batch's root to be confirmed on chain (no proof yet).",
        "ANCHORED": "Its batch's root is confirmed on chain: the proof bundle verifies.",
        "ERASED": "Body and salt deleted (right to be forgotten); the bundle carries no commitment or proof.",
    },
)

LedgerRecordKind = _described(
    RecordKind, name="LedgerRecordKind",
    description="What a ledger record commits to; its numeric code (`kindCode`) is the leaf's uint8 on chain.",
    values={
        "MEDICAL": "A medical document's structured data (code 1).",
        "CREDIT": "A partner's credit report (code 2).",
        "SURVEY": "A partner's signed survey report (code 3).",
        "INVESTIGATION_EVENT": "An event of a claim investigation (code 4).",
        "AUDIT_LOG": "An entry of the hash-chained audit log (code 5).",
        "RISK_FLAG": "A shared risk flag (code 6).",
        "HOSPITAL_BILL": "A hospital's signed direct bill (code 7).",
    },
)

AnchorBatchStatus = _described(
    BatchStatus, name="AnchorBatchStatus",
    description="Lifecycle of an anchor batch: prepared, sent, then confirmed on chain.",
    values={
        "PREPARED": "Root and proofs computed and stored; the anchoring transaction is not sent yet.",
        "SENT": "The anchoring transaction is sent, not yet confirmed (retried after an error).",
        "CONFIRMED": "The root is confirmed on chain; its records are anchored.",
    },
)
