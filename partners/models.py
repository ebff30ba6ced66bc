"""Tables of the partners domain: registry, review trail, signer keys, assignments,
signed records, shared risk flags, client credentials, webhooks and chain-role sync.

* ``partner`` — an insurer, assessor firm, hospital or credit provider and its review
  status (submitted → reviewing → approved | rejected; suspended; expired).
* ``partner_licence`` / ``partner_document`` — qualification evidence (documents are kept
  as a content digest; the file lives wherever the uploader's store is).
* ``partner_review_event`` — every status step: from, to, who, why, when.
* ``signer_key`` — an EVM address a partner signs EIP-712 records with; validity window
  and revocation are kept (never deleted), so an old signature is judged by the key's
  status at the time it was received.
* ``signer_nonce`` — nonces used per signer; the composite primary key makes replay
  impossible even for two racing submissions.
* ``assignment`` — staff assign a partner to a case (an investigation, a bill, a credit
  report); records must come from the assigned partner.
* ``signed_record`` — an accepted signed record: typed message, signature, signer and the
  ledger record (commitment, anchoring, proof) it went into.
* ``risk_flag`` — a flag an insurer published about a blinded person identifier.
* ``partner_client`` — OAuth2 client credentials of a partner (secret stored as scrypt).
* ``webhook_endpoint`` / ``webhook_delivery`` — outbound notifications and their log.
* ``chain_role_sync`` — addresses whose on-chain PARTNER_ROLE must be brought in line
  with the registry (the outbox of :mod:`partners.chain_roles`).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.crypto import EncryptedString, RowUid
from core.db import Base, BigId, IdPk, Timestamped, UTCDateTime, Versioned, utcnow, value_enum

__all__ = [
    "Assignment",
    "AssignmentKind",
    "ChainRoleSync",
    "DeliveryStatus",
    "Partner",
    "PartnerClient",
    "PartnerDocument",
    "PartnerDocumentKind",
    "PartnerKind",
    "PartnerLicence",
    "PartnerReviewEvent",
    "PartnerStatus",
    "RiskFlag",
    "SignedRecord",
    "SignedRecordType",
    "SignerKey",
    "SignerNonce",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "WebhookFailure",
]

BigNum = BigInteger().with_variant(Integer(), "sqlite")



class PartnerKind(enum.StrEnum):
    """What a partner does for Opsure."""

    INSURER = "insurer"
    ASSESSOR_FIRM = "assessor_firm"
    HOSPITAL = "hospital"
    CREDIT_PROVIDER = "credit_provider"


class PartnerStatus(enum.StrEnum):
    """Qualification review status."""

    SUBMITTED = "submitted"
    REVIEWING = "reviewing"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    EXPIRED = "expired"


class AssignmentKind(enum.StrEnum):
    """The work a partner is assigned to (and the signed record type it answers with)."""

    SURVEY = "survey"
    HOSPITAL_BILL = "hospital_bill"
    CREDIT_REPORT = "credit_report"


class SignedRecordType(enum.StrEnum):
    """The EIP-712 record types partners sign (the value is the ``primaryType`` as signed)."""

    SURVEY_REPORT = "SurveyReport"
    HOSPITAL_BILL = "HospitalBill"
    CREDIT_REPORT = "CreditReport"


class PartnerDocumentKind(enum.StrEnum):
    """What a qualification document is (kept as its content digest)."""

    BUSINESS_LICENCE = "business_licence"
    PRACTICE_LICENCE = "practice_licence"
    QUALIFICATION_CERTIFICATE = "qualification_certificate"
    AUTHORISATION_LETTER = "authorisation_letter"
    COOPERATION_AGREEMENT = "cooperation_agreement"
    OTHER = "other"


class DeliveryStatus(enum.StrEnum):
    """Webhook delivery lifecycle."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookEvent(enum.StrEnum):
    """What a webhook tells a partner (the value is the delivered body's ``event``)."""

    ASSIGNMENT_CREATED = "assignment.created"
    RECORD_ANCHORED = "record.anchored"
    FLAG_MATCHED = "flag.matched"


class WebhookFailure(enum.StrEnum):
    """What a partner sees of a failed delivery attempt (the connection-level detail is staff-only)."""

    HTTP_STATUS = "HTTP_STATUS"  # their server answered, not 2xx (see last_status_code)
    DELIVERY_FAILED = "DELIVERY_FAILED"  # no answer: refused address, connection, TLS, timeout — all alike
    ENDPOINT_DEACTIVATED = "ENDPOINT_DEACTIVATED"


class Partner(IdPk, Versioned, Timestamped, Base):
    """A partner institution and its qualification status."""

    __tablename__ = "partner"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[PartnerKind] = mapped_column(value_enum(PartnerKind, "partner_kind"))
    status: Mapped[PartnerStatus] = mapped_column(value_enum(PartnerStatus, "partner_status"), index=True)
    submitted_by: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    reviewer: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status_reason: Mapped[str | None] = mapped_column(Text)


class PartnerLicence(IdPk, Base):
    """A licence the partner holds (e.g. an assessor or medical-institution licence)."""

    __tablename__ = "partner_licence"
    __table_args__ = (UniqueConstraint("partner_id", "number"),)

    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    number: Mapped[str] = mapped_column(String(64))
    issuer: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    added_by: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PartnerDocument(IdPk, Base):
    """A qualification document, kept as kind, name, size and SHA-256 of its content."""

    __tablename__ = "partner_document"

    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigNum)
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PartnerReviewEvent(IdPk, Base):
    """One step of a partner's review trail (also written to the audit log)."""

    __tablename__ = "partner_review_event"

    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    from_status: Mapped[PartnerStatus | None] = mapped_column(value_enum(PartnerStatus, "partner_status"))
    to_status: Mapped[PartnerStatus] = mapped_column(value_enum(PartnerStatus, "partner_status"))
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class SignerKey(IdPk, Versioned, Base):
    """A partner's signing address with its validity window and revocation (history kept)."""

    __tablename__ = "signer_key"

    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    #: Lowercase ``0x`` hex address; an address belongs to one partner, once.
    address: Mapped[str] = mapped_column(String(42), unique=True)
    valid_from: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    revoked_by: Mapped[str | None] = mapped_column(String(200))
    rotated_from_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("signer_key.id"))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SignerNonce(Base):
    """A nonce a signer used; the primary key (signer, nonce) refuses any replay."""

    __tablename__ = "signer_nonce"

    signer: Mapped[str] = mapped_column(String(42), primary_key=True)
    #: The uint256 nonce in decimal.
    nonce: Mapped[str] = mapped_column(String(78), primary_key=True)
    used_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Assignment(IdPk, Timestamped, Base):
    """A partner assigned by staff to a case (survey: one investigation)."""

    __tablename__ = "assignment"
    __table_args__ = (Index("ix_assignment_kind_case", "kind", "case_reference"),)

    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    kind: Mapped[AssignmentKind] = mapped_column(value_enum(AssignmentKind, "assignment_kind"))
    case_reference: Mapped[str] = mapped_column(String(64))
    #: The investigation a survey assignment is for (unique; None for other kinds).
    investigation_id: Mapped[int | None] = mapped_column(BigNum, unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(200))


class SignedRecord(IdPk, Base):
    """An accepted EIP-712 signed record, the signature beside it, and its ledger record."""

    __tablename__ = "signed_record"

    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    assignment_id: Mapped[int] = mapped_column(BigId, ForeignKey("assignment.id"), index=True)
    primary_type: Mapped[str] = mapped_column(String(40))
    signer: Mapped[str] = mapped_column(String(42), index=True)
    signer_key_id: Mapped[int] = mapped_column(BigId, ForeignKey("signer_key.id"))
    nonce: Mapped[str] = mapped_column(String(78))
    deadline: Mapped[str] = mapped_column(String(78))
    #: The EIP-712 digest that was signed (``0x`` hex). Also the insert sentinel, so bulk
    #: inserts with RETURNING stay batched and ordered.
    digest: Mapped[str] = mapped_column(String(66), unique=True, insert_sentinel=True)
    #: The 65-byte signature r ‖ s ‖ v, ``0x`` hex, v in {27, 28}.
    signature: Mapped[str] = mapped_column(String(132))
    #: The typed message (normalised JSON: big integers as decimal strings).
    message: Mapped[str] = mapped_column(Text)
    chain_id: Mapped[int] = mapped_column(BigNum)
    verifying_contract: Mapped[str] = mapped_column(String(42))
    ledger_record_id: Mapped[int] = mapped_column(BigId, ForeignKey("ledger_record.id"), unique=True)
    commitment: Mapped[str] = mapped_column(String(66))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: Whether the partner was told (webhook) that the record is anchored.
    anchored_notified: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class RiskFlag(IdPk, Base):
    """A risk flag an insurer published about a blinded person identifier."""

    __tablename__ = "risk_flag"

    publisher_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    #: HMAC-SHA256(consortium key, normalised ID number), 64 lowercase hex characters.
    blinded_id: Mapped[str] = mapped_column(String(64), index=True)
    flag_code: Mapped[str] = mapped_column(String(40))
    level: Mapped[str] = mapped_column(String(16))
    evidence_commitment: Mapped[str | None] = mapped_column(String(66))
    ledger_record_id: Mapped[int] = mapped_column(BigId, ForeignKey("ledger_record.id"), unique=True)
    commitment: Mapped[str] = mapped_column(String(66))
    published_by: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class PartnerClient(IdPk, Base):
    """OAuth2 client credentials of a partner; the secret is kept only as an scrypt hash."""

    __tablename__ = "partner_client"

    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(255))
    label: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class WebhookEndpoint(IdPk, RowUid, Base):
    """Where a partner wants to hear about what concerns it; the secret signs each delivery."""

    __tablename__ = "webhook_endpoint"

    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(EncryptedString("webhook_endpoint.secret"))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WebhookDelivery(IdPk, Base):
    """One event to deliver to one endpoint: the outbox row and the delivery log in one."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_due", "status", "next_attempt_at"),)

    endpoint_id: Mapped[int] = mapped_column(BigId, ForeignKey("webhook_endpoint.id"), index=True)
    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    event: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(value_enum(DeliveryStatus, "webhook_delivery_status"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    #: What the partner sees: HTTP_STATUS, DELIVERY_FAILED or ENDPOINT_DEACTIVATED.
    last_error: Mapped[str | None] = mapped_column(Text)
    #: The connection-level detail, for staff only (it would map our network to a partner).
    last_error_detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ChainRoleSync(Base):
    """An address whose on-chain PARTNER_ROLE must match the registry (None = due)."""

    __tablename__ = "chain_role_sync"

    address: Mapped[str] = mapped_column(String(42), primary_key=True)
    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    synced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    #: The role state last confirmed on chain (True = granted).
    granted: Mapped[bool | None] = mapped_column(Boolean)
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
