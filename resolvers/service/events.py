"""The service domain's events: one typed payload per fact about a work order, appended in its transaction.

Every event is about a WorkOrder (aggregate ``WorkOrder``) and visible to ``SERVICE_READERS``;
subscribers scope rows themselves (a customer: ``customer_id``; internal comments: staff only).
Payloads carry ids and codes only, never a subject, description or comment text.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from core.event_stream import Actor, Aggregate, EventPayload, append, register_event_type
from core.roles import SERVICE_READERS
from resolvers.service.models import (
    ComplaintCategory,
    ComplaintChannel,
    ComplaintOutcome,
    ComplaintSeverity,
    SlaKind,
    WorkOrder,
    WorkOrderPriority,
    WorkOrderState,
    WorkOrderType,
)

__all__ = [
    "SERVICE_EVENT_TYPES",
    "ComplaintAcknowledged",
    "ComplaintEscalated",
    "ComplaintFiled",
    "ComplaintResolved",
    "WorkOrderAssigned",
    "WorkOrderCommented",
    "WorkOrderEscalated",
    "WorkOrderFact",
    "WorkOrderMerged",
    "WorkOrderOpened",
    "WorkOrderSlaBreached",
    "WorkOrderStateChanged",
    "WorkOrderTransferred",
    "WorkOrderUnassigned",
    "fact",
    "publish",
    "publish_for",
]


class WorkOrderFact(EventPayload):
    """What every service event carries: the order, its customer, queue, assignee and state after the fact."""

    work_order_id: int
    customer_id: int | None
    team: str
    state: WorkOrderState
    assignee_id: int | None


class WorkOrderOpened(WorkOrderFact):
    """A work order was opened (by a customer, an agent or a job)."""

    type: WorkOrderType
    priority: WorkOrderPriority


class WorkOrderStateChanged(WorkOrderFact):
    """The order moved in its state machine."""

    from_state: WorkOrderState


class WorkOrderAssigned(WorkOrderFact):
    """An agent took the order (``how``: route, manual, take)."""

    agent_id: int
    how: str


class WorkOrderUnassigned(WorkOrderFact):
    """The order left its agent (``reason``: SILENT, TRANSFERRED, RELEASED, DONE)."""

    agent_id: int
    reason: str


class WorkOrderTransferred(WorkOrderFact):
    """The order moved to another team's queue."""

    from_team: str
    skill: str


class WorkOrderCommented(WorkOrderFact):
    """A comment was added (internal ones reach staff only)."""

    comment_id: int
    by_customer: bool
    internal: bool


class WorkOrderMerged(WorkOrderFact):
    """The order was merged into another."""

    into_id: int


class WorkOrderSlaBreached(WorkOrderFact):
    """An SLA clock ran out."""

    sla: SlaKind
    due_at: dt.datetime
    level: int


class WorkOrderEscalated(WorkOrderFact):
    """The order was escalated (``to``: TEAM_LEAD, MANAGER) at a level."""

    level: int
    to: str


class ComplaintFiled(WorkOrderFact):
    """A complaint came in."""

    channel: ComplaintChannel
    category: ComplaintCategory
    severity: ComplaintSeverity
    regulator_due_at: dt.datetime


class ComplaintEscalated(WorkOrderFact):
    """A complaint went to a manager."""

    escalated_to: str


class ComplaintResolved(WorkOrderFact):
    """The decision was told to the complainant."""

    outcome: ComplaintOutcome


class ComplaintAcknowledged(WorkOrderFact):
    """The complainant accepted the resolution (or disputed it)."""

    accepted: bool


#: Every service event type by name (subscriptions listen to these).
SERVICE_EVENT_TYPES: dict[str, type[WorkOrderFact]] = {
    "service.work_order_opened": WorkOrderOpened,
    "service.work_order_state_changed": WorkOrderStateChanged,
    "service.work_order_assigned": WorkOrderAssigned,
    "service.work_order_unassigned": WorkOrderUnassigned,
    "service.work_order_transferred": WorkOrderTransferred,
    "service.work_order_commented": WorkOrderCommented,
    "service.work_order_merged": WorkOrderMerged,
    "service.sla_breached": WorkOrderSlaBreached,
    "service.escalated": WorkOrderEscalated,
    "service.complaint_filed": ComplaintFiled,
    "service.complaint_escalated": ComplaintEscalated,
    "service.complaint_resolved": ComplaintResolved,
    "service.complaint_acknowledged": ComplaintAcknowledged,
}
for _name, _payload in SERVICE_EVENT_TYPES.items():
    register_event_type(_name, 1, _payload, aggregate="WorkOrder", readers=SERVICE_READERS)


def fact(order: WorkOrder) -> dict[str, Any]:
    """The common fields of an event about ``order`` as it is now."""
    return {"work_order_id": order.id, "customer_id": order.customer_id, "team": order.team, "state": order.state,
            "assignee_id": order.assignee_id}


def publish(session: Session, order: WorkOrder, payload: WorkOrderFact, *, actor: Actor) -> None:
    """Append ``payload`` about ``order`` in the caller's transaction (the version it commits with)."""
    append(session, payload, aggregate=Aggregate("WorkOrder", order.id, order.version), actor=actor,
           versioned=order)


def publish_for(session: Session, work_order_id: int, version: int, payload: WorkOrderFact, *, actor: Actor) -> None:
    """Append ``payload`` about an order known by id and version (bulk paths that hold no entity)."""
    append(session, payload, aggregate=Aggregate("WorkOrder", work_order_id, version), actor=actor)
