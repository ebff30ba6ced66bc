"""Service factories: agents with routing profiles, customers with policies, work orders and complaints."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from sqlalchemy.orm import Session

from core.auth import Principal, Role
from resolvers.policies.models import Policy
from resolvers.service import breaches, complaints, routing, service
from resolvers.service.models import (
    ComplaintCategory,
    ComplaintChannel,
    ComplaintOutcome,
    ComplaintSeverity,
    ServiceAgent,
    WorkOrder,
    WorkOrderPriority,
    WorkOrderState,
    WorkOrderType,
)
from tests.claim_factories import customer_principal, make_claim_policy

__all__ = ["AGENT", "LEAD", "SERVICE_EVENT_ROWS", "T0", "agent_principal", "file", "make_agent", "open_order", "policy_holder"]

#: Monday 2026-11-23 10:00 in Beijing: a business day with business hours ahead.
T0 = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
AGENT = Principal(subject="agent-service", role=Role.AGENT)
LEAD = Principal(subject="lead-service", role=Role.MANAGER)
_seq = itertools.count(1)


def agent_principal(subject: str) -> Principal:
    """A staff token of an agent."""
    return Principal(subject=subject, role=Role.AGENT)


def make_agent(session: Session, *, subject: str | None = None, team: str = "frontline",
               skills: tuple[str, ...] = ("general", "policy"), capacity: int = 3, active: bool = True) -> ServiceAgent:
    """An agent's routing profile."""
    return routing.set_agent(session, principal=LEAD, subject=subject or f"agent-{next(_seq)}", team=team,
                             skills=skills, capacity=capacity, active=active, now=T0)


def policy_holder(session: Session) -> Policy:
    """A customer with an active policy (the customer is ``policy.customer_id``)."""
    return make_claim_policy(session, today=T0.date())


def open_order(session: Session, policy: Policy, *, principal: Principal | None = None,
               type: WorkOrderType = WorkOrderType.CONSULTATION, subject: str = "保单咨询",
               description: str | None = "什么时候生效", priority: WorkOrderPriority = WorkOrderPriority.NORMAL,
               now: dt.datetime = T0, **links: Any) -> WorkOrder:
    """A work order of the policy's customer (by default opened by the customer themself)."""
    who = principal or customer_principal(policy.customer_id)
    return service.open_work_order(session, principal=who, type=type, subject=subject, description=description,
                                   priority=priority, now=now,
                                   links=service.Links(policy_id=policy.id, **links))


def file(session: Session, policy: Policy, *, severity: ComplaintSeverity = ComplaintSeverity.MEDIUM,
         channel: ComplaintChannel = ComplaintChannel.PHONE, now: dt.datetime = T0, **cause: Any) -> WorkOrder:
    """A complaint of the policy's customer taken by an agent."""
    return complaints.file_complaint(session, principal=AGENT, channel=channel, category=ComplaintCategory.CLAIM_DELAY,
                                     severity=severity, subject="理赔太慢", description="等了三周", now=now,
                                     links=service.Links(customer_id=policy.customer_id), **cause)


def _order(s: Session) -> WorkOrder:
    return open_order(s, make_claim_policy(s, today=_AT.date()), principal=AGENT, now=_AT)


def _agent_and_order(s: Session) -> tuple[ServiceAgent, WorkOrder]:
    return make_agent(s), _order(s)


def _held(s: Session) -> WorkOrder:
    agent, order = _agent_and_order(s)
    routing.assign(s, principal=LEAD, work_order_id=order.id, agent_id=agent.id, now=_AT)
    make_agent(s)  # someone to take it over
    return order


def _two(s: Session) -> tuple[WorkOrder, WorkOrder]:
    policy = make_claim_policy(s, today=_AT.date())
    return (open_order(s, policy, principal=AGENT, now=_AT), open_order(s, policy, principal=AGENT, now=_AT))


def _complaint(s: Session) -> WorkOrder:
    return file(s, make_claim_policy(s, today=_AT.date()), now=_AT)


def _resolved(s: Session) -> WorkOrder:
    order = _complaint(s)
    return complaints.resolve_complaint(s, principal=AGENT, work_order_id=order.id,
                                        outcome=ComplaintOutcome.UPHELD, note="已处理", now=_AT)


_AT = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)
_LATER = _AT + dt.timedelta(days=40)
_ST = WorkOrderState

#: One row per service function of the service domain that changes state, for
#: ``tests/core/test_event_stream_domains.py``: (setup, act, the events it appends).
SERVICE_EVENT_ROWS: dict[str, tuple[Any, Any, list[str]]] = {
    "open_work_order": (lambda s: make_claim_policy(s, today=_AT.date()), lambda s, p: open_order(
        s, p, principal=AGENT, now=_AT), ["service.work_order_opened"]),
    "comment_on_work_order": (_order, lambda s, o: service.add_comment(
        s, principal=AGENT, work_order_id=o.id, body="您好", internal=False, now=_AT),
        ["service.work_order_commented", "service.work_order_state_changed"]),
    "move_work_order": (_order, lambda s, o: service.transition(s, principal=AGENT, work_order_id=o.id,
                                                                to_state=_ST.OPEN, now=_AT),
                        ["service.work_order_state_changed"]),
    "merge_work_orders": (_two, lambda s, t: service.merge_work_orders(
        s, principal=AGENT, work_order_id=t[0].id, into_id=t[1].id, now=_AT),
        ["service.work_order_state_changed", "service.work_order_merged"]),
    "assign_work_order": (_agent_and_order, lambda s, t: routing.assign(
        s, principal=LEAD, work_order_id=t[1].id, agent_id=t[0].id, now=_AT), ["service.work_order_assigned"]),
    "route_work_orders": (_agent_and_order, lambda s, t: routing.route_waiting(s, now=_AT),
                          ["service.work_order_assigned"]),
    "transfer_work_order": (_order, lambda s, o: routing.transfer(s, principal=AGENT, work_order_id=o.id,
                                                                  team="claims-care", skill="claims", now=_AT),
                            ["service.work_order_transferred"]),
    "reassign_silent": (_held, lambda s, o: routing.reassign_silent(s, now=_LATER),
                        ["service.work_order_unassigned"]),
    "check_breaches": (_order, lambda s, o: breaches.check_breaches(s, now=_LATER),
                       ["service.sla_breached", "service.sla_breached", "service.escalated", "service.escalated"]),
    "file_complaint": (lambda s: make_claim_policy(s, today=_AT.date()), lambda s, p: file(s, p, now=_AT),
                       ["service.work_order_opened", "service.complaint_filed"]),
    "escalate_complaint": (_complaint, lambda s, o: complaints.escalate_complaint(
        s, principal=AGENT, work_order_id=o.id, manager="manager-li", now=_AT), ["service.complaint_escalated"]),
    "resolve_complaint": (_complaint, lambda s, o: complaints.resolve_complaint(
        s, principal=AGENT, work_order_id=o.id, outcome=ComplaintOutcome.UPHELD, note="已处理", now=_AT),
        ["service.work_order_commented", "service.work_order_state_changed", "service.work_order_state_changed",
         "service.complaint_resolved"]),
    "acknowledge_complaint_resolution": (_resolved, lambda s, o: complaints.acknowledge_resolution(
        s, principal=AGENT, work_order_id=o.id, accepted=True, now=_AT),
        ["service.work_order_state_changed", "service.complaint_acknowledged"]),
}
