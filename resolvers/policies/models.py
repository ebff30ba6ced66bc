"""Tables of the policies domain (names follow HL7 FHIR Coverage where it has one)."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.crypto import EncryptedString, RowUid
from core.db import Base, BigId, IdPk, Timestamped, Versioned, value_enum

Money = Numeric(14, 2)
Rate = Numeric(5, 4)



class Gender(enum.StrEnum):
    """Administrative gender (FHIR AdministrativeGender)."""

    MALE = "male"
    FEMALE = "female"
    OTHER = "other"
    UNKNOWN = "unknown"


class PolicyStatus(enum.StrEnum):
    """Lifecycle of a policy (FHIR Coverage.status plus insurance-specific ends)."""

    ACTIVE = "active"
    CANCELLED = "cancelled"  # cooling-off cancellation: void from the start, full refund
    SURRENDERED = "surrendered"
    LAPSED = "lapsed"
    EXPIRED = "expired"


class UnderwritingOutcome(enum.StrEnum):
    """Result of underwriting a health declaration."""

    ACCEPT = "accept"
    ACCEPT_WITH_EXCLUSIONS = "accept_with_exclusions"
    DECLINE = "decline"
    REFER = "refer"  # a shared risk flag sent it to manual underwriting


class QuoteStatus(enum.StrEnum):
    """A quote is open until it is bound into a policy or expires."""

    OPEN = "open"
    BOUND = "bound"
    DECLINED = "declined"
    REFERRED = "referred"  # waits for manual underwriting; issues no policy


class EndorsementKind(enum.StrEnum):
    """Simple mid-term changes a policy accepts."""

    CONTACT = "contact"
    BENEFICIARY = "beneficiary"


class PolicyEndReason(enum.StrEnum):
    """Why a policy ended: one reason per ending status (closed: every end of ``PolicyStatus`` but active)."""

    COOLING_OFF_CANCELLATION = "cooling_off_cancellation"  # CANCELLED: void from the start, full refund
    SURRENDER = "surrender"  # SURRENDERED: unearned premium less expenses refunded
    PREMIUM_UNPAID = "premium_unpaid"  # LAPSED: no refund
    PERIOD_ENDED = "period_ended"  # EXPIRED


#: The end reason of each ending status.
END_REASON_OF_STATUS: dict[PolicyStatus, PolicyEndReason] = {
    PolicyStatus.CANCELLED: PolicyEndReason.COOLING_OFF_CANCELLATION,
    PolicyStatus.SURRENDERED: PolicyEndReason.SURRENDER,
    PolicyStatus.LAPSED: PolicyEndReason.PREMIUM_UNPAID,
    PolicyStatus.EXPIRED: PolicyEndReason.PERIOD_ENDED,
}


class BeneficiaryRelationship(enum.StrEnum):
    """How a named beneficiary relates to the insured (stored as the value)."""

    SPOUSE = "spouse"
    CHILD = "child"
    PARENT = "parent"
    SIBLING = "sibling"
    LEGAL_HEIR = "legal_heir"
    OTHER = "other"


class EndorsementField(enum.StrEnum):
    """A policy field an endorsement changes (the changed values themselves stay sealed)."""

    CONTACT_PHONE = "contact_phone"
    CONTACT_EMAIL = "contact_email"
    BENEFICIARY_NAME = "beneficiary_name"
    BENEFICIARY_RELATIONSHIP = "beneficiary_relationship"


class PolicyEventKind(enum.StrEnum):
    """What happened to a policy, as published on the ``policy`` topic."""

    ISSUED = "issued"
    RENEWED = "renewed"
    CANCELLED = "cancelled"
    SURRENDERED = "surrendered"
    LAPSED = "lapsed"
    EXPIRED = "expired"
    ENDORSED_CONTACT = "endorsed_contact"
    ENDORSED_BENEFICIARY = "endorsed_beneficiary"


class Customer(IdPk, RowUid, Versioned, Timestamped, Base):
    """A person who holds or is insured by policies; personal fields are encrypted."""

    __tablename__ = "customer"

    name: Mapped[str] = mapped_column(EncryptedString("customer.name"))
    id_number: Mapped[str] = mapped_column(EncryptedString("customer.id_number"))
    id_number_bidx: Mapped[str] = mapped_column(String(64), unique=True)
    phone: Mapped[str] = mapped_column(EncryptedString("customer.phone"))
    email: Mapped[str | None] = mapped_column(EncryptedString("customer.email"))
    birth_date: Mapped[str] = mapped_column(EncryptedString("customer.birth_date"))
    birth_year: Mapped[int] = mapped_column(Integer)
    gender: Mapped[Gender] = mapped_column(value_enum(Gender, "gender"))
    city: Mapped[str | None] = mapped_column(String(64))


class Product(IdPk, Versioned, Timestamped, Base):
    """A health insurance product: limits, cost sharing, waiting period, premium table."""

    __tablename__ = "product"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    annual_limit: Mapped[Decimal] = mapped_column(Money)
    deductible: Mapped[Decimal] = mapped_column(Money)
    copay_rate: Mapped[Decimal] = mapped_column(Rate)
    waiting_period_days: Mapped[int] = mapped_column(Integer)
    cooling_off_days: Mapped[int] = mapped_column(Integer, default=15)
    term_months: Mapped[int] = mapped_column(Integer, default=12)
    min_age: Mapped[int] = mapped_column(Integer, default=0)
    max_age: Mapped[int] = mapped_column(Integer, default=65)
    active: Mapped[bool] = mapped_column(default=True)

    coverage_items: Mapped[list[CoverageItem]] = relationship(
        back_populates="product", order_by="CoverageItem.id", lazy="raise"
    )
    premium_bands: Mapped[list[PremiumBand]] = relationship(
        back_populates="product", order_by="PremiumBand.min_age", lazy="raise"
    )


class CoverageItem(IdPk, Base):
    """One benefit a product covers (e.g. inpatient, outpatient, drugs) with optional sublimit."""

    __tablename__ = "coverage_item"

    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    sublimit: Mapped[Decimal | None] = mapped_column(Money)

    product: Mapped[Product] = relationship(back_populates="coverage_items", lazy="raise")


class PremiumBand(IdPk, Base):
    """Annual premium for insured ages ``min_age``..``max_age`` inclusive."""

    __tablename__ = "premium_band"

    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"), index=True)
    min_age: Mapped[int] = mapped_column(Integer)
    max_age: Mapped[int] = mapped_column(Integer)
    annual_premium: Mapped[Decimal] = mapped_column(Money)

    product: Mapped[Product] = relationship(back_populates="premium_bands", lazy="raise")


class Quote(IdPk, RowUid, Versioned, Timestamped, Base):
    """A priced offer for one customer and product, with the health declaration and decision."""

    __tablename__ = "quote"

    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customer.id"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"), index=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    insured_age: Mapped[int] = mapped_column(Integer)
    premium: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[QuoteStatus] = mapped_column(value_enum(QuoteStatus, "quote_status"))
    valid_until: Mapped[dt.date] = mapped_column(Date)
    # The declaration is medical data: encrypted JSON text, never queried by content.
    declaration: Mapped[str] = mapped_column(EncryptedString("quote.declaration"))
    outcome: Mapped[UnderwritingOutcome] = mapped_column(value_enum(UnderwritingOutcome, "underwriting_outcome"))
    exclusions: Mapped[list[str]] = mapped_column(JSON, default=list)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)


class Policy(IdPk, RowUid, Versioned, Timestamped, Base):
    """An issued contract (FHIR Coverage): who, what product, which period, which status."""

    __tablename__ = "policy"
    __table_args__ = (Index("ix_policy_status_start", "status", "period_start"),)

    number: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customer.id"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"), index=True)
    quote_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("quote.id"))
    renewed_from_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("policy.id"), unique=True)
    status: Mapped[PolicyStatus] = mapped_column(value_enum(PolicyStatus, "policy_status"))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    issued_at: Mapped[dt.datetime] = mapped_column()
    premium: Mapped[Decimal] = mapped_column(Money)
    insured_age: Mapped[int] = mapped_column(Integer)
    exclusions: Mapped[list[str]] = mapped_column(JSON, default=list)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(200))
    refund: Mapped[Decimal | None] = mapped_column(Money)
    contact_phone: Mapped[str | None] = mapped_column(EncryptedString("policy.contact_phone"))
    contact_email: Mapped[str | None] = mapped_column(EncryptedString("policy.contact_email"))
    beneficiary_name: Mapped[str | None] = mapped_column(EncryptedString("policy.beneficiary_name"))
    beneficiary_relationship: Mapped[str | None] = mapped_column(String(32))


class Endorsement(IdPk, RowUid, Timestamped, Base):
    """A mid-term change to a policy; the changed values are personal, so encrypted."""

    __tablename__ = "endorsement"

    policy_id: Mapped[int] = mapped_column(BigId, ForeignKey("policy.id"), index=True)
    kind: Mapped[EndorsementKind] = mapped_column(value_enum(EndorsementKind, "endorsement_kind"))
    changes: Mapped[str] = mapped_column(EncryptedString("endorsement.changes"))
    effective_on: Mapped[dt.date] = mapped_column(Date)
    requested_by: Mapped[str] = mapped_column(String(200))


def enum_values(cls: type[enum.Enum]) -> list[Any]:
    """The stored values of an enum (for migrations and validation)."""
    return [m.value for m in cls]
