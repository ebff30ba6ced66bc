"""Tables of advances: the advance and its balances, its repayment schedule, its balance movements."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigId, IdPk, Timestamped, Versioned, value_enum

__all__ = ["Advance", "AdvanceState", "Decision", "Installment", "Movement", "MovementKind", "MovementState"]

Money = Numeric(14, 2)


class AdvanceState(enum.StrEnum):
    """in_review → approved | rejected; approved → paid (payout settled) → closed (nothing outstanding);
    paid → overdue (an instalment past due) → defaulted (past the grace period: the rest written off)."""

    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    PAID = "paid"
    OVERDUE = "overdue"
    DEFAULTED = "defaulted"
    CLOSED = "closed"


class Decision(enum.StrEnum):
    """How an advance was decided."""

    PAY_FIRST = "pay_first"  # a credit provider's signed report at or above the configured band
    MANUAL_APPROVED = "manual_approved"
    MANUAL_REJECTED = "manual_rejected"


class MovementKind(enum.StrEnum):
    """What reduces what is outstanding."""

    REPAYMENT = "repayment"
    OFFSET = "offset"  # kept from the final claim payment
    WRITE_OFF = "write_off"  # on default


class MovementState(enum.StrEnum):
    """A repayment collected by direct debit waits for the bank; the others apply at once."""

    INSTRUCTED = "instructed"
    APPLIED = "applied"
    FAILED = "failed"


class Advance(IdPk, Versioned, Timestamped, Base):
    """An advance against an expected claim; advanced = repaid + offset + outstanding + written off, always."""

    __tablename__ = "advance"
    __table_args__ = (
        # within half a fen: SQLite keeps NUMERIC as binary floating point, where exact equality of sums fails
        CheckConstraint("abs(advanced - (repaid + offset_amount + outstanding + written_off)) < 0.005", name="balance"),
        CheckConstraint("outstanding >= 0 AND repaid >= 0 AND offset_amount >= 0 AND written_off >= 0",
                        name="not_negative"),
        Index("ix_advance_state_id", "state", "id"),
    )

    number: Mapped[str] = mapped_column(String(24), unique=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customer.id"), index=True)
    policy_id: Mapped[int] = mapped_column(BigId, ForeignKey("policy.id"), index=True)
    claim_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("claim.id"), index=True)
    #: The case a credit provider reports on: ``ADV-<policy number>``.
    case_reference: Mapped[str] = mapped_column(String(64))
    diagnosis_code: Mapped[str] = mapped_column(String(10))
    admission_date: Mapped[dt.date] = mapped_column(Date)
    hospital: Mapped[str] = mapped_column(String(200))
    requested: Mapped[Decimal] = mapped_column(Money)
    state: Mapped[AdvanceState] = mapped_column(value_enum(AdvanceState, "advance_state"))
    decision: Mapped[Decision | None] = mapped_column(value_enum(Decision, "advance_decision"))
    credit_report_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("signed_record.id"))
    score_band: Mapped[int | None] = mapped_column(Integer)
    advanced: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    repaid: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    offset_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    written_off: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    outstanding: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    applied_by: Mapped[str] = mapped_column(String(200))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    payout_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    paid_on: Mapped[dt.date | None] = mapped_column(Date)
    overdue_since: Mapped[dt.date | None] = mapped_column(Date)
    defaulted_on: Mapped[dt.date | None] = mapped_column(Date)


class Installment(IdPk, Base):
    """One instalment of an advance's repayment schedule and how much of it is covered."""

    __tablename__ = "advance_installment"
    __table_args__ = (UniqueConstraint("advance_id", "seq"),)

    advance_id: Mapped[int] = mapped_column(BigId, ForeignKey("advance.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    covered: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))


class Movement(IdPk, Timestamped, Base):
    """A repayment, offset or write-off of an advance; its key is unique, so nothing applies twice."""

    __tablename__ = "advance_movement"

    advance_id: Mapped[int] = mapped_column(BigId, ForeignKey("advance.id"), index=True)
    kind: Mapped[MovementKind] = mapped_column(value_enum(MovementKind, "advance_movement_kind"))
    state: Mapped[MovementState] = mapped_column(value_enum(MovementState, "advance_movement_state"))
    amount: Mapped[Decimal] = mapped_column(Money)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    claim_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("claim.id"))
    recorded_by: Mapped[str] = mapped_column(String(200))
    on_day: Mapped[dt.date] = mapped_column(Date)
