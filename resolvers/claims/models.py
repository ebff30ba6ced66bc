"""Tables of the claims domain (names follow HL7 FHIR Claim / ExplanationOfBenefit where they can)."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigId, IdPk, Timestamped, Versioned, utcnow, value_enum

__all__ = [
    "Claim",
    "ClaimChannel",
    "ClaimDocument",
    "ClaimEvent",
    "ClaimEventKind",
    "ClaimLineItem",
    "ClaimState",
    "DocumentKind",
    "DocumentRequest",
    "LineItemSource",
    "PayeeKind",
    "Payment",
    "PaymentStatus",
    "RiskHintSource",
    "RiskLevel",
]

Money = Numeric(14, 2)


class ClaimState(enum.StrEnum):
    """Lifecycle of a claim; the legal moves live in ``resolvers.claims.states``."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    DOCUMENTS_PENDING = "documents_pending"
    UNDER_REVIEW = "under_review"
    INVESTIGATING = "investigating"
    APPROVED = "approved"
    PARTIALLY_APPROVED = "partially_approved"
    REJECTED = "rejected"
    PAID = "paid"
    CLOSED = "closed"
    REOPENED = "reopened"


class ClaimChannel(enum.StrEnum):
    """Where a claim was reported."""

    APP = "app"
    WEB = "web"
    PHONE = "phone"
    AGENT = "agent"
    DIRECT_BILLING = "direct_billing"


class RiskLevel(enum.StrEnum):
    """Outcome of risk control: low may take the fast-claim path, high is investigated."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class RiskHintSource(enum.StrEnum):
    """What raised a risk hint."""

    RULE = "rule"
    MODEL = "model"
    SHARED = "shared"


class ClaimEventKind(enum.StrEnum):
    """What a timeline entry records (stored as its value; the reason code says why)."""

    REPORTED = "reported"
    DUPLICATE_SUSPECTED = "duplicate_suspected"
    INVOICE_DATA = "invoice_data"
    RISK = "risk"
    TRANSITION = "transition"
    DOCUMENT = "document"
    DOCUMENT_REQUESTED = "document_requested"
    ORIGINAL_RECEIVED = "original_received"
    SIGNED_BILL = "signed_bill"
    DOCUMENT_REMINDED = "document_reminded"


class PaymentStatus(enum.StrEnum):
    """Where a claim payment stands on the payment rail (``resolvers.payments``): PAID when it settles."""

    INSTRUCTED = "instructed"
    SETTLED = "settled"
    FAILED = "failed"


class DocumentKind(enum.StrEnum):
    """Kinds of claim documents; all but ``id_card`` are medical records."""

    INVOICE = "invoice"
    DISCHARGE_SUMMARY = "discharge_summary"
    PRESCRIPTION = "prescription"
    ID_CARD = "id_card"
    OTHER = "other"


class LineItemSource(enum.StrEnum):
    """Who entered the structured invoice data (never retyped by staff)."""

    HOSPITAL_EINVOICE = "hospital_einvoice"
    CUSTOMER_APP = "customer_app"
    HOSPITAL_BILL = "hospital_bill"


class PayeeKind(enum.StrEnum):
    """Who receives a claim payment."""

    CUSTOMER = "customer"
    HOSPITAL = "hospital"


class Claim(IdPk, Versioned, Timestamped, Base):
    """A reported claim against a policy, its decision, risk assessment and payment state."""

    __tablename__ = "claim"
    __table_args__ = (
        Index("ix_claim_state_id", "state", "id"),
        Index("ix_claim_customer_event", "customer_id", "event_date"),
    )

    number: Mapped[str] = mapped_column(String(32), unique=True)
    policy_id: Mapped[int] = mapped_column(BigId, ForeignKey("policy.id"), index=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customer.id"))
    channel: Mapped[ClaimChannel] = mapped_column(value_enum(ClaimChannel, "claim_channel"))
    state: Mapped[ClaimState] = mapped_column(value_enum(ClaimState, "claim_state"))
    event_date: Mapped[dt.date] = mapped_column(Date)
    admission_date: Mapped[dt.date] = mapped_column(Date)
    discharge_date: Mapped[dt.date] = mapped_column(Date)
    hospital: Mapped[str] = mapped_column(String(200))
    diagnosis_code: Mapped[str] = mapped_column(String(10))
    claimed_amount: Mapped[Decimal] = mapped_column(Money)
    approved_amount: Mapped[Decimal | None] = mapped_column(Money)
    deductible_applied: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    paid_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    reported_by: Mapped[str] = mapped_column(String(200))
    duplicate_of_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("claim.id"))
    risk_score: Mapped[float | None] = mapped_column(Float)
    risk_level: Mapped[RiskLevel | None] = mapped_column(value_enum(RiskLevel, "risk_level"))
    risk_hints: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    rules_version: Mapped[str | None] = mapped_column(String(40))
    fast_track: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Why the claim was decided: a ``reasons.ReasonCode`` and its parameters (rendered per role, never prose).
    decision_reason_code: Mapped[str | None] = mapped_column(String(40))
    decision_reason_params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    eob: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    partner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    signed_record_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("signed_record.id"), unique=True)
    submitted_at: Mapped[dt.datetime | None] = mapped_column()
    decided_at: Mapped[dt.datetime | None] = mapped_column()
    sla_due_at: Mapped[dt.datetime | None] = mapped_column()
    #: The staff member (subject) the claim is assigned to in the work queue (None: unassigned).
    assignee: Mapped[str | None] = mapped_column(String(200), index=True)


class ClaimLineItem(IdPk, Base):
    """One line of the structured invoice and its benefit decision."""

    __tablename__ = "claim_line_item"

    claim_id: Mapped[int] = mapped_column(BigId, ForeignKey("claim.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    item_code: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(200), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Money)
    source: Mapped[LineItemSource] = mapped_column(value_enum(LineItemSource, "line_item_source"))
    approved_amount: Mapped[Decimal | None] = mapped_column(Money)
    reason_code: Mapped[str | None] = mapped_column(String(40))


class ClaimEvent(IdPk, Base):
    """One entry of a claim's timeline: who did what, when and why."""

    __tablename__ = "claim_event"

    claim_id: Mapped[int] = mapped_column(BigId, ForeignKey("claim.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    #: Why: a ``reasons.ReasonCode`` and its parameters (rendered per role, never prose).
    reason_code: Mapped[str] = mapped_column(String(40))
    reason_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ClaimDocument(IdPk, Timestamped, Base):
    """An uploaded document: stored by digest; medical ones also committed to the ledger."""

    __tablename__ = "claim_document"

    claim_id: Mapped[int] = mapped_column(BigId, ForeignKey("claim.id"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(value_enum(DocumentKind, "document_kind"))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    #: The object's data key wrapped by the field keys (resolvers.claims.envelope); None: stored in plaintext
    #: before encryption at rest (``opsure claim-documents encrypt`` seals those).
    data_key: Mapped[str | None] = mapped_column(Text)
    ledger_record_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("ledger_record.id"))
    uploaded_by: Mapped[str] = mapped_column(String(200))
    original_received_on: Mapped[dt.date | None] = mapped_column(Date)
    original_tracking: Mapped[str | None] = mapped_column(String(64))


class DocumentRequest(IdPk, Timestamped, Base):
    """A request for a supplementary document, due by a date."""

    __tablename__ = "claim_document_request"

    claim_id: Mapped[int] = mapped_column(BigId, ForeignKey("claim.id"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(value_enum(DocumentKind, "document_kind"))
    due_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(500), default="")
    requested_by: Mapped[str] = mapped_column(String(200))
    fulfilled_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("claim_document.id"))
    #: Reminders sent while past due (``resolvers.claims.reminders``), and the business date of the last.
    reminder_count: Mapped[int] = mapped_column(Integer, default=0)
    last_reminded_on: Mapped[dt.date | None] = mapped_column(Date)


class Payment(IdPk, Timestamped, Base):
    """A payment instruction; (claim, seq) and the idempotency key are unique, so a claim pays once."""

    __tablename__ = "claim_payment"
    __table_args__ = (UniqueConstraint("claim_id", "seq"),)

    claim_id: Mapped[int] = mapped_column(BigId, ForeignKey("claim.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    payee_kind: Mapped[PayeeKind] = mapped_column(value_enum(PayeeKind, "payee_kind"))
    payee_ref: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="settled")
    instructed_by: Mapped[str] = mapped_column(String(200))
