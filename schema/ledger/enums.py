"""GraphQL enums of the ledger domain: a record's status and kind, an anchor batch's status."""

from __future__ import annotations

from ledger.contract import RecordKind
from ledger.models import BatchStatus, RecordStatus
from schema.enums import described_enum as _described

__all__ = ["AnchorBatchStatus", "LedgerRecordKind", "LedgerRecordStatus"]




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
