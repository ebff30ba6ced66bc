"""Subscriptions of the service domain: live queue and work-order updates for agent consoles, from the
process's event tail (every ``service.*`` event committed by any process reaches it).

Staff get every order's events (filter by team, by one order, or the queue's own moves only);
a customer gets their own orders' events, never internal comments, routing or SLA events.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import AsyncGenerator
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.event_stream import process_tail
from core.roles import INTERNAL, SERVICE_READERS
from resolvers.service.events import (
    SERVICE_EVENT_TYPES,
    WorkOrderAssigned,
    WorkOrderCommented,
    WorkOrderFact,
    WorkOrderSlaBreached,
    WorkOrderStateChanged,
    WorkOrderUnassigned,
)
from resolvers.service.scoping import may_see_order_of
from schema.context import Context
from schema.permissions import access, allow
from schema.relay import decode_global_id, encode_global_id
from schema.service.enums import WorkOrderSla, WorkOrderState

__all__ = ["ServiceSubscription", "WorkOrderLiveEvent", "WorkOrderLiveEventType"]


class _Type(enum.Enum):
    OPENED = "service.work_order_opened"
    STATE_CHANGED = "service.work_order_state_changed"
    ASSIGNED = "service.work_order_assigned"
    UNASSIGNED = "service.work_order_unassigned"
    TRANSFERRED = "service.work_order_transferred"
    COMMENTED = "service.work_order_commented"
    MERGED = "service.work_order_merged"
    SLA_BREACHED = "service.sla_breached"
    ESCALATED = "service.escalated"
    COMPLAINT_FILED = "service.complaint_filed"
    COMPLAINT_ESCALATED = "service.complaint_escalated"
    COMPLAINT_RESOLVED = "service.complaint_resolved"
    COMPLAINT_ACKNOWLEDGED = "service.complaint_acknowledged"


#: Events a customer never receives (routing, SLA and escalation are the insurer's business).
_STAFF_ONLY = frozenset({_Type.ASSIGNED, _Type.UNASSIGNED, _Type.TRANSFERRED, _Type.SLA_BREACHED, _Type.ESCALATED,
                         _Type.COMPLAINT_ESCALATED})
#: What changes a queue: an order arriving, leaving an agent, moving teams, or moving state.
_QUEUE = frozenset({_Type.OPENED, _Type.ASSIGNED, _Type.UNASSIGNED, _Type.TRANSFERRED, _Type.STATE_CHANGED,
                    _Type.MERGED, _Type.COMPLAINT_FILED})

WorkOrderLiveEventType: Any = strawberry.enum(_Type, name="WorkOrderLiveEventType",
                                              description="What happened to a work order.")
for _value, _doc in zip(WorkOrderLiveEventType.__strawberry_definition__.values, (
        "Opened.", "Moved in its state machine (fromState, state).", "An agent got it (staff only).",
        "It left its agent, e.g. silent past the limit (staff only).", "It moved to another team (staff only).",
        "A comment was added (customers: public ones).", "Merged into another order.",
        "An SLA clock ran out (staff only).", "Escalated to a team lead or manager (staff only).",
        "A complaint came in.", "A complaint went to a manager (staff only).", "A complaint's decision was told.",
        "The customer answered a complaint's resolution."), strict=True):
    _value.description = _doc


@strawberry.type(description="A work-order event as an agent console or the customer's app reads it.")
@access(SERVICE_READERS)
class WorkOrderLiveEvent:
    type: WorkOrderLiveEventType = strawberry.field(description="What happened.")
    work_order_id: strawberry.ID = strawberry.field(description="The order's global id (read it with workOrder(id:)).")
    occurred_at: dt.datetime = strawberry.field(description="When it was committed.")
    state: WorkOrderState = strawberry.field(description="The order's state after it.")  # type: ignore[valid-type]
    from_state: WorkOrderState | None = strawberry.field(  # type: ignore[valid-type]
        description="The state before (STATE_CHANGED only).")
    team: str = strawberry.field(description="The team whose queue the order is in after it (staff and auditors "
                                             "only).", metadata=allow(INTERNAL))
    agent_id: strawberry.ID | None = strawberry.field(
        description="The ServiceAgent it concerns (ASSIGNED, UNASSIGNED), else its holder (staff and auditors only).",
        metadata=allow(INTERNAL))
    sla: WorkOrderSla | None = strawberry.field(  # type: ignore[valid-type]
        description="The clock that ran out (SLA_BREACHED only; staff and auditors only).", metadata=allow(INTERNAL))


def _agent(payload: WorkOrderFact) -> int | None:
    if isinstance(payload, WorkOrderAssigned | WorkOrderUnassigned):
        return payload.agent_id
    return payload.assignee_id


@strawberry.type
class ServiceSubscription:
    @strawberry.subscription(description="Live work-order events from now on (graphql-transport-ws) for agent "
                             "consoles: new orders, moves, assignments, comments, breaches and escalations. Staff "
                             "receive every order's events; a customer their own orders' (no internal comments, "
                             "routing or SLA events).", metadata=allow(SERVICE_READERS))
    async def work_order_events(
        self, info: Info[Context, Any],
        team: Annotated[str | None, strawberry.argument(
            description="Only orders in this team's queue (staff).")] = None,
        work_order_id: Annotated[strawberry.ID | None, strawberry.argument(
            description="Only this order's events (global id).")] = None,
        queue_only: Annotated[bool, strawberry.argument(
            description="true: only what changes a queue (opened, assigned, unassigned, transferred, moved, merged, "
                        "complaint filed).")] = False,
    ) -> AsyncGenerator[WorkOrderLiveEvent, None]:
        ctx = info.context
        only = decode_global_id(work_order_id, "WorkOrder", field="workOrderId") if work_order_id else None
        staff = ctx.principal.role in INTERNAL
        role = ctx.principal.role.value if ctx.principal.role else None
        async for ev in process_tail().subscribe(types=SERVICE_EVENT_TYPES, aggregate_type="WorkOrder", role=role):
            payload = ev.payload
            assert isinstance(payload, WorkOrderFact)
            kind = _Type(ev.type)
            if not may_see_order_of(ctx.principal, customer_id=payload.customer_id):
                continue
            if not staff and (kind in _STAFF_ONLY or (isinstance(payload, WorkOrderCommented) and payload.internal)):
                continue
            if (only is not None and payload.work_order_id != only) or (team is not None and payload.team != team):
                continue
            if queue_only and kind not in _QUEUE:
                continue
            agent = _agent(payload)
            yield WorkOrderLiveEvent(
                type=kind, work_order_id=strawberry.ID(encode_global_id("WorkOrder", payload.work_order_id)),
                occurred_at=ev.occurred_at, state=payload.state,
                from_state=payload.from_state if isinstance(payload, WorkOrderStateChanged) else None,
                team=payload.team, agent_id=strawberry.ID(encode_global_id("ServiceAgent", agent)) if agent else None,
                sla=payload.sla if isinstance(payload, WorkOrderSlaBreached) else None)
