"""Tables of the customer service domain.

* ``service_agent`` — who takes work orders: team, skills, capacity and the load held now.
  ``load`` only moves by conditional updates (``load < capacity``) and a CHECK keeps
  ``0 <= load <= capacity``, so no race assigns an agent beyond capacity.
* ``work_order`` — one customer request (type, state, priority, links to customer, policy,
  claim, advance by id), its queue (team and skill), assignee and SLA clocks.
* ``work_order_comment`` — comments of agents and customers, public or internal; sealed at rest.
* ``work_order_activity`` — the timeline: one row per fact, codes only.
* ``work_order_breach`` — one row per SLA an order missed (jobs stay idempotent).
* ``complaint`` — the complaint details of a COMPLAINT work order: channel, category, severity,
  the regulator's deadline, escalation, resolution and the customer's acknowledgement, its cause.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.crypto import EncryptedString, RowUid
from core.db import Base, BigId, IdPk, Timestamped, UTCDateTime, Versioned, value_enum

__all__ = [
    "ACTIVE_STATES",
    "FINAL_STATES",
    "ActivityKind",
    "Complaint",
    "ComplaintCategory",
    "ComplaintChannel",
    "ComplaintOutcome",
    "ComplaintSeverity",
    "ComplaintState",
    "ServiceAgent",
    "SlaKind",
    "WorkOrder",
    "WorkOrderActivity",
    "WorkOrderBreach",
    "WorkOrderComment",
    "WorkOrderPriority",
    "WorkOrderState",
    "WorkOrderType",
]


class WorkOrderType(enum.StrEnum):
    """What a work order is about."""

    CONSULTATION = "consultation"
    COMPLAINT = "complaint"
    CLAIM_FOLLOW_UP = "claim_follow_up"
    POLICY_CHANGE = "policy_change"
    CALLBACK = "callback"
    HEALTH_SERVICE = "health_service"
    INTERNAL = "internal"


class WorkOrderState(enum.StrEnum):
    """Lifecycle of a work order (``resolvers.service.states.TRANSITIONS`` says which moves are allowed)."""

    NEW = "new"
    OPEN = "open"
    PENDING_CUSTOMER = "pending_customer"
    PENDING_INTERNAL = "pending_internal"
    RESOLVED = "resolved"
    CLOSED = "closed"
    MERGED = "merged"


#: States in which an order waits for or holds an agent (routing and SLA clocks run, except pending customer).
ACTIVE_STATES = frozenset({WorkOrderState.NEW, WorkOrderState.OPEN, WorkOrderState.PENDING_CUSTOMER,
                           WorkOrderState.PENDING_INTERNAL})
#: States that freeze an order: nothing may be edited any more.
FINAL_STATES = frozenset({WorkOrderState.CLOSED, WorkOrderState.MERGED})


class WorkOrderPriority(enum.StrEnum):
    """How urgent an order is (SLA lengths depend on it)."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class SlaKind(enum.StrEnum):
    """The SLA clocks of a work order."""

    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"
    REGULATOR = "regulator"  # complaints: the regulator's deadline for a decision


class ActivityKind(enum.StrEnum):
    """A timeline entry of a work order."""

    CREATED = "created"
    STATE_CHANGED = "state_changed"
    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"
    TRANSFERRED = "transferred"
    COMMENTED = "commented"
    SLA_BREACHED = "sla_breached"
    ESCALATED = "escalated"
    MERGED = "merged"
    COMPLAINT_RESOLVED = "complaint_resolved"
    COMPLAINT_ACKNOWLEDGED = "complaint_acknowledged"


class ComplaintChannel(enum.StrEnum):
    """Where a complaint came in."""

    PHONE = "phone"
    APP = "app"
    WEB = "web"
    WECHAT = "wechat"
    EMAIL = "email"
    LETTER = "letter"
    BRANCH = "branch"
    REGULATOR = "regulator"  # forwarded by the regulator (12378 hotline)


class ComplaintCategory(enum.StrEnum):
    """What a complaint is about."""

    CLAIM_DECISION = "claim_decision"
    CLAIM_DELAY = "claim_delay"
    POLICY_CHANGE = "policy_change"
    MIS_SELLING = "mis_selling"
    SERVICE_ATTITUDE = "service_attitude"
    PREMIUM_BILLING = "premium_billing"
    PRIVACY = "privacy"
    OTHER = "other"


class ComplaintSeverity(enum.StrEnum):
    """How serious a complaint is."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class ComplaintState(enum.StrEnum):
    """Where a complaint stands (beside its work order's state)."""

    RECEIVED = "received"
    ESCALATED = "escalated"
    RESOLVED = "resolved"  # a decision was told to the customer: waiting for the acknowledgement
    ACKNOWLEDGED = "acknowledged"  # the customer accepted the resolution
    DISPUTED = "disputed"  # the customer did not accept it: handled again


class ComplaintOutcome(enum.StrEnum):
    """The decision told to a complainant."""

    UPHELD = "upheld"
    PARTIALLY_UPHELD = "partially_upheld"
    NOT_UPHELD = "not_upheld"


class ServiceAgent(IdPk, Versioned, Base):
    """A service agent (a staff token subject) as routing knows them."""

    __tablename__ = "service_agent"
    __table_args__ = (
        CheckConstraint("load >= 0 AND load <= capacity", name="load_within_capacity"),
        Index("ix_service_agent_team", "team", "active"),
    )

    subject: Mapped[str] = mapped_column(String(200), unique=True)
    team: Mapped[str] = mapped_column(String(40))
    skills: Mapped[list[str]] = mapped_column(JSON)
    capacity: Mapped[int] = mapped_column(Integer)
    load: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class WorkOrder(IdPk, Versioned, Timestamped, RowUid, Base):
    """One customer request and its handling."""

    __tablename__ = "work_order"
    __table_args__ = (
        Index("ix_work_order_queue", "state", "assignee_id", "waiting_since", "id"),
        Index("ix_work_order_customer", "customer_id", "id"),
    )

    type: Mapped[WorkOrderType] = mapped_column(value_enum(WorkOrderType, "work_order_type"))
    state: Mapped[WorkOrderState] = mapped_column(value_enum(WorkOrderState, "work_order_state"))
    priority: Mapped[WorkOrderPriority] = mapped_column(value_enum(WorkOrderPriority, "work_order_priority"))
    #: Free text: may name people and conditions, so sealed at rest; stored and returned verbatim.
    subject: Mapped[str] = mapped_column(EncryptedString("work_order.subject"))
    description: Mapped[str | None] = mapped_column(EncryptedString("work_order.description"))
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customer.id"))
    policy_id: Mapped[int | None] = mapped_column(BigId)
    claim_id: Mapped[int | None] = mapped_column(BigId)
    advance_id: Mapped[int | None] = mapped_column(BigId)
    created_by: Mapped[str] = mapped_column(String(200))
    team: Mapped[str] = mapped_column(String(40))
    skill: Mapped[str] = mapped_column(String(40))
    assignee_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("service_agent.id"))
    assigned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: When the order began to wait for an agent (routing takes the oldest first; kept on reassignment).
    waiting_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: The assignee's last action on the order (auto-reassignment looks at it).
    agent_active_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: The agent the order was taken from for silence (routing skips them for this order).
    skip_agent_id: Mapped[int | None] = mapped_column(BigId)
    first_response_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    first_response_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    next_response_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolution_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: When the SLA clocks stopped (pending on the customer); None while they run.
    paused_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    merged_into_id: Mapped[int | None] = mapped_column(BigId)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)


class WorkOrderComment(IdPk, RowUid, Base):
    """A comment on a work order; internal ones are for staff only."""

    __tablename__ = "work_order_comment"
    __table_args__ = (Index("ix_work_order_comment_order", "work_order_id", "id"),)

    work_order_id: Mapped[int] = mapped_column(BigId, ForeignKey("work_order.id"))
    author: Mapped[str] = mapped_column(String(200))
    by_customer: Mapped[bool] = mapped_column(Boolean)
    internal: Mapped[bool] = mapped_column(Boolean)
    body: Mapped[str] = mapped_column(EncryptedString("work_order_comment.body"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class WorkOrderActivity(IdPk, Base):
    """One timeline entry (codes, no prose); ``public`` ones are shown to the customer."""

    __tablename__ = "work_order_activity"
    __table_args__ = (Index("ix_work_order_activity_order", "work_order_id", "id"),)

    work_order_id: Mapped[int] = mapped_column(BigId, ForeignKey("work_order.id"))
    kind: Mapped[ActivityKind] = mapped_column(value_enum(ActivityKind, "work_order_activity_kind"))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    public: Mapped[bool] = mapped_column(Boolean)
    from_state: Mapped[WorkOrderState | None] = mapped_column(value_enum(WorkOrderState, "work_order_state"))
    to_state: Mapped[WorkOrderState | None] = mapped_column(value_enum(WorkOrderState, "work_order_state"))
    #: Codes and ids only (team names, SLA kinds, agent ids, a merged order's id).
    detail: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)


class WorkOrderBreach(IdPk, Base):
    """An SLA a work order missed (one row per order, SLA and due time)."""

    __tablename__ = "work_order_breach"
    __table_args__ = (UniqueConstraint("work_order_id", "sla", "due_at"),)

    work_order_id: Mapped[int] = mapped_column(BigId, ForeignKey("work_order.id"), index=True)
    sla: Mapped[SlaKind] = mapped_column(value_enum(SlaKind, "work_order_sla"))
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    level: Mapped[int] = mapped_column(Integer)


class Complaint(IdPk, Versioned, Base):
    """The complaint details of a COMPLAINT work order."""

    __tablename__ = "complaint"

    work_order_id: Mapped[int] = mapped_column(BigId, ForeignKey("work_order.id"), unique=True)
    channel: Mapped[ComplaintChannel] = mapped_column(value_enum(ComplaintChannel, "complaint_channel"))
    category: Mapped[ComplaintCategory] = mapped_column(value_enum(ComplaintCategory, "complaint_category"))
    severity: Mapped[ComplaintSeverity] = mapped_column(value_enum(ComplaintSeverity, "complaint_severity"))
    state: Mapped[ComplaintState] = mapped_column(value_enum(ComplaintState, "complaint_state"))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: The regulator's deadline for a decision told to the customer.
    regulator_due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    cause_claim_id: Mapped[int | None] = mapped_column(BigId)
    cause_policy_id: Mapped[int | None] = mapped_column(BigId)
    #: The staff subject whose conduct is complained of.
    cause_agent: Mapped[str | None] = mapped_column(String(200))
    escalated_to: Mapped[str | None] = mapped_column(String(200))
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[ComplaintOutcome | None] = mapped_column(value_enum(ComplaintOutcome, "complaint_outcome"))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    accepted: Mapped[bool | None] = mapped_column(Boolean)
