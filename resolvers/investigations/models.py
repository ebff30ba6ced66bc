"""Tables of the investigations domain: investigations of claims by assessor firms.

* ``investigation`` — what to check on which claim, its state, its SLA deadlines (on the
  business-day calendar) and the adjuster's review of the survey report.
* ``investigation_assignment`` — each offer of an investigation to an assessor firm (auto or
  by hand), accepted, declined with a reason code, expired or withdrawn; never deleted, so a
  reassignment keeps the history. 10^12 + its id is the ``investigationId`` the firm signs in
  its SurveyReport (the partners registry holds one survey assignment per id, and a
  reassignment is a new offer; ``service.signed_id``).
* ``investigation_event`` — the firm's trail (visit, call, document, finding), each also a
  ledger record of kind INVESTIGATION_EVENT (anchored); the free-text note is sealed here.
* ``investigation_escalation`` — one row per SLA an investigation missed (idempotent jobs).
* ``assessor_firm_profile`` — what auto-assignment knows of a firm: regions, capacity, quality.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.crypto import EncryptedString, RowUid
from core.db import Base, BigId, IdPk, Timestamped, UTCDateTime, Versioned, value_enum

__all__ = [
    "ACTIVE_ASSIGNMENT",
    "OPEN_STATES",
    "AssessorFirmProfile",
    "AssignmentHow",
    "AssignmentState",
    "DeclineReason",
    "EventKind",
    "Investigation",
    "InvestigationAssignment",
    "InvestigationCheck",
    "InvestigationEscalation",
    "InvestigationEvent",
    "InvestigationState",
    "InvestigationTrigger",
    "ReviewOutcome",
    "SlaKind",
]


class InvestigationState(enum.StrEnum):
    """Lifecycle of an investigation."""

    PENDING = "pending"  # waiting for a firm (new, declined, expired or reassigned)
    ASSIGNED = "assigned"  # offered to a firm, waiting for its acceptance
    IN_PROGRESS = "in_progress"  # accepted: the firm records its trail
    REPORTED = "reported"  # the signed survey report is in: the adjuster reviews it
    COMPLETED = "completed"  # report accepted; the claim resumed
    REPORT_REJECTED = "report_rejected"  # report rejected; the claim resumed


OPEN_STATES = frozenset({InvestigationState.PENDING, InvestigationState.ASSIGNED, InvestigationState.IN_PROGRESS,
                         InvestigationState.REPORTED})


class InvestigationTrigger(enum.StrEnum):
    """Who asked for the investigation."""

    ADJUSTER = "adjuster"
    RISK_RULE = "risk_rule"


class InvestigationCheck(enum.StrEnum):
    """What the firm is asked to check."""

    HOSPITAL_VISIT = "hospital_visit"
    MEDICAL_RECORDS = "medical_records"
    BILLING = "billing"
    IDENTITY = "identity"
    PRIOR_CONDITIONS = "prior_conditions"
    ACCIDENT_SCENE = "accident_scene"
    OTHER = "other"


class AssignmentHow(enum.StrEnum):
    """How a firm was chosen."""

    AUTO = "auto"
    MANUAL = "manual"


class AssignmentState(enum.StrEnum):
    """An offer to a firm."""

    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"  # not accepted within the acceptance SLA
    WITHDRAWN = "withdrawn"  # reassigned by an adjuster
    DONE = "done"  # the firm's report was reviewed


ACTIVE_ASSIGNMENT = frozenset({AssignmentState.OFFERED, AssignmentState.ACCEPTED})


class DeclineReason(enum.StrEnum):
    """Why a firm declined an offer."""

    NO_CAPACITY = "no_capacity"
    OUT_OF_REGION = "out_of_region"
    CONFLICT_OF_INTEREST = "conflict_of_interest"
    LACKS_EXPERTISE = "lacks_expertise"
    OTHER = "other"


class EventKind(enum.StrEnum):
    """A trail event of the firm's investigators."""

    VISIT = "visit"
    CALL = "call"
    DOCUMENT = "document"
    FINDING = "finding"


class ReviewOutcome(enum.StrEnum):
    """The adjuster's review of a survey report."""

    ACCEPTED = "accepted"
    MORE_REQUESTED = "more_requested"
    REJECTED = "rejected"


class SlaKind(enum.StrEnum):
    """The deadlines of an investigation."""

    ACCEPTANCE = "acceptance"
    FIRST_VISIT = "first_visit"
    REPORT = "report"


class Investigation(IdPk, Versioned, Timestamped, RowUid, Base):
    """An investigation of one claim."""

    __tablename__ = "investigation"
    __table_args__ = (Index("ix_investigation_state_id", "state", "id"),)

    claim_id: Mapped[int] = mapped_column(BigId, ForeignKey("claim.id"), index=True)
    state: Mapped[InvestigationState] = mapped_column(value_enum(InvestigationState, "investigation_state"))
    trigger: Mapped[InvestigationTrigger] = mapped_column(value_enum(InvestigationTrigger, "investigation_trigger"))
    checks: Mapped[list[str]] = mapped_column(JSON)
    #: Rule codes that fired when a risk rule asked (no scores: codes only).
    rules: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Free text for the firm (may name people): sealed at rest, shown to staff and the assigned firm.
    instructions: Mapped[str | None] = mapped_column(EncryptedString("investigation.instructions"))
    #: GB/T 2260 region code where the work is (None: any region).
    region: Mapped[str | None] = mapped_column(String(12))
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    report_due_on: Mapped[dt.date | None] = mapped_column()
    current_assignment_id: Mapped[int | None] = mapped_column(BigId)
    accept_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    visit_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    report_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    first_visit_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: The partners' SignedRecord (SurveyReport) that closed the trail.
    survey_record_id: Mapped[int | None] = mapped_column(BigId, unique=True)
    reported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    review_outcome: Mapped[ReviewOutcome | None] = mapped_column(value_enum(ReviewOutcome, "review_outcome"))
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    review_note: Mapped[str | None] = mapped_column(EncryptedString("investigation.review_note"))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)


class InvestigationAssignment(IdPk, Base):
    """One offer of an investigation to an assessor firm (history: never deleted)."""

    __tablename__ = "investigation_assignment"
    __table_args__ = (
        Index("ix_investigation_assignment_partner_state", "partner_id", "state"),
        Index("ix_investigation_assignment_investigation", "investigation_id", "id"),
    )

    investigation_id: Mapped[int] = mapped_column(BigId, ForeignKey("investigation.id"))
    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"))
    #: The partners registry's survey assignment (records must come from the assigned firm).
    partner_assignment_id: Mapped[int | None] = mapped_column(BigId, unique=True)
    how: Mapped[AssignmentHow] = mapped_column(value_enum(AssignmentHow, "investigation_assignment_how"))
    state: Mapped[AssignmentState] = mapped_column(value_enum(AssignmentState, "investigation_assignment_state"))
    assigned_by: Mapped[str] = mapped_column(String(200))
    offered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    accept_due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    responded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    responded_by: Mapped[str | None] = mapped_column(String(200))
    decline_reason: Mapped[DeclineReason | None] = mapped_column(value_enum(DeclineReason, "decline_reason"))
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: The report's review outcome when the firm's work was reviewed (firm statistics).
    outcome: Mapped[ReviewOutcome | None] = mapped_column(value_enum(ReviewOutcome, "review_outcome"))
    report_on_time: Mapped[bool | None] = mapped_column()
    #: How many times the adjuster asked this firm for more before the final outcome.
    more_requested: Mapped[int] = mapped_column(Integer, default=0)


class InvestigationEvent(IdPk, RowUid, Base):
    """A trail event recorded by the firm; its ledger record anchors it."""

    __tablename__ = "investigation_event"
    __table_args__ = (Index("ix_investigation_event_investigation", "investigation_id", "id"),)

    investigation_id: Mapped[int] = mapped_column(BigId, ForeignKey("investigation.id"))
    assignment_id: Mapped[int] = mapped_column(BigId, ForeignKey("investigation_assignment.id"))
    kind: Mapped[EventKind] = mapped_column(value_enum(EventKind, "investigation_event_kind"))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(200))
    #: A finding's code (FINDING events), e.g. "DIAGNOSIS_CONFIRMED"; codes, not prose.
    finding_code: Mapped[str | None] = mapped_column(String(40))
    #: The investigator's note (may name people): sealed here; the ledger body holds its SHA-256 only.
    note: Mapped[str | None] = mapped_column(EncryptedString("investigation_event.note"))
    ledger_record_id: Mapped[int] = mapped_column(BigId, unique=True)
    commitment: Mapped[str] = mapped_column(String(66))


class InvestigationEscalation(IdPk, Base):
    """An SLA an investigation missed (one row per investigation, SLA and offer: jobs stay idempotent)."""

    __tablename__ = "investigation_escalation"
    __table_args__ = (UniqueConstraint("investigation_id", "sla", "assignment_id"),)

    investigation_id: Mapped[int] = mapped_column(BigId, ForeignKey("investigation.id"), index=True)
    assignment_id: Mapped[int] = mapped_column(BigId)  # 0 when not about one offer
    sla: Mapped[SlaKind] = mapped_column(value_enum(SlaKind, "investigation_sla"))
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    level: Mapped[int] = mapped_column(Integer)


class AssessorFirmProfile(Versioned, Base):
    """What auto-assignment knows of an assessor firm (its registry status lives in partners)."""

    __tablename__ = "assessor_firm_profile"

    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), primary_key=True)
    regions: Mapped[list[str]] = mapped_column(JSON)
    #: Most investigations the firm holds at once (offered or accepted).
    capacity: Mapped[int] = mapped_column(Integer)
    #: 0-100, set by claims managers from review outcomes and audits.
    quality_score: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

