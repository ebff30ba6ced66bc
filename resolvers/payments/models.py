"""Tables of the payment rail: payee accounts, payment instructions, bank batches and returns files."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core.crypto import EncryptedString, RowUid
from core.db import Base, BigId, IdPk, Timestamped, Versioned, value_enum

__all__ = [
    "DIRECTION",
    "LIVE",
    "Direction",
    "InstructionState",
    "PayeeAccount",
    "PayeeKind",
    "PaymentBatch",
    "PaymentInstruction",
    "Purpose",
    "ReturnHold",
    "ReturnHoldState",
    "ReturnsFile",
]

Money = Numeric(14, 2)


class Purpose(enum.StrEnum):
    """Why money moves; each purpose has one direction and one owner domain that hears its outcome."""

    CLAIM_PAYOUT = "claim_payout"
    ADVANCE_PAYOUT = "advance_payout"
    REPAYMENT = "repayment"
    REFUND = "refund"


class Direction(enum.StrEnum):
    """Credit: we pay the account; debit: we collect from it (a repayment's direct debit)."""

    CREDIT = "credit"
    DEBIT = "debit"


DIRECTION: dict[Purpose, Direction] = {
    Purpose.CLAIM_PAYOUT: Direction.CREDIT,
    Purpose.ADVANCE_PAYOUT: Direction.CREDIT,
    Purpose.REPAYMENT: Direction.DEBIT,
    Purpose.REFUND: Direction.CREDIT,
}


class InstructionState(enum.StrEnum):
    """instructed → settled | failed (returned by the bank, with its reason code)."""

    INSTRUCTED = "instructed"
    SETTLED = "settled"
    FAILED = "failed"


#: States of an instruction that may still move money or has moved it (at most one per source).
LIVE = (InstructionState.INSTRUCTED.value, InstructionState.SETTLED.value)


class PayeeKind(enum.StrEnum):
    """Who holds an account: a customer (a person) or a partner (an institution: a hospital paid by direct billing)."""

    CUSTOMER = "person"
    PARTNER = "institution"


class PayeeAccount(IdPk, RowUid, Timestamped, Base):
    """A bank account of a customer or partner; number and holder are sealed, the newest active one is used."""

    __tablename__ = "payee_account"
    __table_args__ = (Index("ix_payee_account_owner", "owner_kind", "owner_id", "id"),)

    owner_kind: Mapped[PayeeKind] = mapped_column(value_enum(PayeeKind, "payee_owner_kind"))
    owner_id: Mapped[int] = mapped_column(BigId)
    bank_code: Mapped[str] = mapped_column(String(12))
    account_number: Mapped[str] = mapped_column(EncryptedString("payee_account.account_number"))
    holder_name: Mapped[str] = mapped_column(EncryptedString("payee_account.holder_name"))
    #: The last four digits, kept apart so masked reads never open the sealed number.
    last4: Mapped[str] = mapped_column(String(4))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    registered_by: Mapped[str] = mapped_column(String(200))


class PaymentBatch(IdPk, Timestamped, Base):
    """One bank batch file: the instructions exported together, their count and total."""

    __tablename__ = "payment_batch"

    reference: Mapped[str] = mapped_column(String(32), unique=True)
    adapter: Mapped[str] = mapped_column(String(32))
    count: Mapped[int] = mapped_column(Integer)
    total: Mapped[Decimal] = mapped_column(Money)
    sha256: Mapped[str | None] = mapped_column(String(64))
    #: When the file was written where the bank collects it (None: recorded, not written yet).
    written_at: Mapped[dt.datetime | None] = mapped_column()


class PaymentInstruction(IdPk, Versioned, Timestamped, Base):
    """Money to move once: (purpose, source, attempt) and the key are unique, and one live attempt per source."""

    __tablename__ = "payment_instruction"
    __table_args__ = (
        UniqueConstraint("purpose", "source_id", "attempt"),
        # A failed attempt may be re-instructed; two live attempts of one source would pay twice.
        Index("uq_payment_instruction_live", "purpose", "source_id", unique=True,
              sqlite_where=text("state IN ('instructed', 'settled')"),
              postgresql_where=text("state IN ('instructed', 'settled')")),
        Index("ix_payment_instruction_state_id", "state", "id"),
    )

    reference: Mapped[str] = mapped_column(String(20), unique=True)
    purpose: Mapped[Purpose] = mapped_column(value_enum(Purpose, "payment_purpose"))
    direction: Mapped[Direction] = mapped_column(value_enum(Direction, "payment_direction"))
    source_id: Mapped[int] = mapped_column(BigId)
    attempt: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    payee_account_id: Mapped[int] = mapped_column(BigId, ForeignKey("payee_account.id"))
    state: Mapped[InstructionState] = mapped_column(value_enum(InstructionState, "payment_instruction_state"))
    batch_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("payment_batch.id"), index=True)
    return_code: Mapped[str | None] = mapped_column(String(8))
    bank_transaction: Mapped[str | None] = mapped_column(String(40))
    instructed_by: Mapped[str] = mapped_column(String(200))
    settled_at: Mapped[dt.datetime | None] = mapped_column()
    failed_at: Mapped[dt.datetime | None] = mapped_column()


class ReturnsFile(IdPk, Timestamped, Base):
    """A returns/acknowledgement file read from the bank; its digest is unique, so a file applies once."""

    __tablename__ = "payment_returns_file"

    name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    settled: Mapped[int] = mapped_column(Integer)
    returned: Mapped[int] = mapped_column(Integer)
    #: Lines not applied: ``[{"line": n, "code": "UNKNOWN_REFERENCE" | ...}]`` (codes, never the line's text).
    rejected: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class ReturnHoldState(enum.StrEnum):
    """A returns line whose owner could not apply it: retried with backoff, then dead-lettered."""

    RETRYING = "retrying"
    DEAD_LETTER = "dead_letter"
    APPLIED = "applied"


class ReturnHold(IdPk, Timestamped, Base):
    """One returns-file line held back because its outcome handler failed (the rest of its file applied).

    Kept whole (reference, outcome, amount, the bank's detail: never an account number), so nothing is
    lost: retried by ``payments.retry_held_returns`` with backoff, dead-lettered after the last attempt
    for finance to see and requeue.
    """

    __tablename__ = "payment_return_hold"
    __table_args__ = (Index("ix_payment_return_hold_state_next", "state", "next_attempt_at"),)

    file_name: Mapped[str] = mapped_column(String(200))
    file_sha256: Mapped[str] = mapped_column(String(64))
    line_no: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(40), index=True)
    settled: Mapped[bool] = mapped_column(Boolean)
    amount: Mapped[Decimal] = mapped_column(Money)
    detail: Mapped[str] = mapped_column(String(40))
    state: Mapped[ReturnHoldState] = mapped_column(value_enum(ReturnHoldState, "payment_return_hold_state"))
    attempts: Mapped[int] = mapped_column(Integer)
    #: The failing handler's exception class (never its message: it could carry personal data).
    last_error: Mapped[str] = mapped_column(String(120))
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column()
    applied_at: Mapped[dt.datetime | None] = mapped_column()
