"""Tables of claims operations: QA samples of decided claims (findings, scores) and claim flow templates."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigId, IdPk, Timestamped, Versioned, value_enum

__all__ = ["ClaimType", "FlowTemplate", "QaFinding", "QaSample", "QaStatus"]


class QaStatus(enum.StrEnum):
    """Where a QA sample stands."""

    PENDING = "pending"
    REVIEWED = "reviewed"


class QaFinding(enum.StrEnum):
    """What a QA reviewer found wrong with a decided claim."""

    WRONG_AMOUNT = "wrong_amount"
    WRONG_DECISION = "wrong_decision"
    MISSING_DOCUMENT = "missing_document"
    RULE_NOT_APPLIED = "rule_not_applied"
    SLA_MISSED = "sla_missed"
    POOR_REASON = "poor_reason"
    OTHER = "other"


class QaSample(IdPk, Versioned, Timestamped, Base):
    """A decided claim drawn for quality review (one sample per claim), with its review."""

    __tablename__ = "claim_qa_sample"

    claim_id: Mapped[int] = mapped_column(BigId, ForeignKey("claim.id"), unique=True)
    #: Who decided the claim (its assignee, the adjudicating adjuster, or system:fast-claim).
    adjuster: Mapped[str] = mapped_column(String(200), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    sampled_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[QaStatus] = mapped_column(value_enum(QaStatus, "qa_status"))
    score: Mapped[int | None] = mapped_column(Integer)
    findings: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(String(500))
    reviewer: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column()


class ClaimType(enum.StrEnum):
    """The kind of treatment a claim is for: a hospital stay (discharged after the admission day) or not."""

    INPATIENT = "inpatient"
    OUTPATIENT = "outpatient"


class FlowTemplate(IdPk, Versioned, Timestamped, Base):
    """How claims of one product and type flow: the documents they need, and when they must be investigated."""

    __tablename__ = "claim_flow_template"
    __table_args__ = (UniqueConstraint("product_id", "claim_type"),)

    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"))
    claim_type: Mapped[ClaimType] = mapped_column(value_enum(ClaimType, "claim_type"))
    #: ``DocumentKind`` values a submitted claim must have (missing ones are requested).
    required_documents: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Claims above this amount are investigated whatever risk control says (None: never by amount).
    investigate_above: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    updated_by: Mapped[str] = mapped_column(String(200))
