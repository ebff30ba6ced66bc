"""SLA breach detection and escalation of work orders (the ``service.sla`` job runs :func:`check_breaches`).

A running clock past its due time is a breach: first response (no public agent reply yet), next
response (the customer wrote and nobody answered), resolution, and for complaints the regulator's
deadline. Clocks of orders pending on the customer are stopped (the regulator's is not). Each
breach is recorded once (a unique row per order, SLA and due time), raises the order's
escalation level and escalates it: the first level to the team lead, later ones (and every
regulator breach) to a manager; a complaint escalates with it. Events: ``service.sla_breached``
and ``service.escalated`` (and ``service.complaint_escalated``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.event_stream import Actor
from resolvers.service import events, service
from resolvers.service.models import (
    ActivityKind,
    Complaint,
    ComplaintState,
    SlaKind,
    WorkOrder,
    WorkOrderBreach,
    WorkOrderState,
)

__all__ = ["MANAGER", "TEAM_LEAD", "check_breaches", "escalation_target"]

_JOB = Actor.system("service.sla")
TEAM_LEAD = "TEAM_LEAD"
MANAGER = "MANAGER"
_RUNNING = (WorkOrderState.NEW, WorkOrderState.OPEN, WorkOrderState.PENDING_INTERNAL)
_COMPLAINT_OPEN = (ComplaintState.RECEIVED, ComplaintState.ESCALATED, ComplaintState.DISPUTED)


def escalation_target(level: int, sla: SlaKind) -> str:
    """Who an escalation at ``level`` goes to."""
    return MANAGER if level >= 2 or sla is SlaKind.REGULATOR else TEAM_LEAD


def _missed(order: WorkOrder, complaint: Complaint | None, now: dt.datetime) -> list[tuple[SlaKind, dt.datetime]]:
    found: list[tuple[SlaKind, dt.datetime]] = []
    if order.state in _RUNNING:
        if order.first_response_at is None and order.first_response_due_at and order.first_response_due_at < now:
            found.append((SlaKind.FIRST_RESPONSE, order.first_response_due_at))
        if order.next_response_due_at is not None and order.next_response_due_at < now:
            found.append((SlaKind.NEXT_RESPONSE, order.next_response_due_at))
        if order.resolution_due_at is not None and order.resolution_due_at < now:
            found.append((SlaKind.RESOLUTION, order.resolution_due_at))
    if complaint is not None and complaint.state in _COMPLAINT_OPEN and complaint.regulator_due_at < now:
        found.append((SlaKind.REGULATOR, complaint.regulator_due_at))
    return found


def _record(session: Session, order: WorkOrder, sla: SlaKind, due: dt.datetime, now: dt.datetime) -> bool:
    exists = session.scalar(select(WorkOrderBreach.id).where(
        WorkOrderBreach.work_order_id == order.id, WorkOrderBreach.sla == sla, WorkOrderBreach.due_at == due))
    if exists is not None:
        return False
    try:
        with session.begin_nested():
            session.add(WorkOrderBreach(work_order_id=order.id, sla=sla, due_at=due, at=now,
                                        level=order.escalation_level + 1))
            session.flush()
    except IntegrityError:  # another round recorded it meanwhile
        return False
    return True


def check_breaches(session: Session, *, now: dt.datetime) -> int:
    """Record and escalate every SLA missed by ``now``; returns how many breaches it recorded."""
    w, c = WorkOrder, Complaint
    rows = session.execute(select(w, c).outerjoin(c, c.work_order_id == w.id).where(or_(
        (w.state.in_(_RUNNING) & or_((w.first_response_at.is_(None) & (w.first_response_due_at < now)),
                                     w.next_response_due_at < now, w.resolution_due_at < now)),
        (c.state.in_(_COMPLAINT_OPEN) & (c.regulator_due_at < now)))).order_by(w.id)
        .with_for_update(of=w, skip_locked=True)).tuples()
    breaches = 0
    for order, complaint in list(rows):
        for sla, due in _missed(order, complaint, now):
            if not _record(session, order, sla, due, now):
                continue
            breaches += 1
            order.escalation_level += 1
            level, to = order.escalation_level, escalation_target(order.escalation_level, sla)
            session.flush()
            service.log_activity(session, order, ActivityKind.SLA_BREACHED, actor=_JOB.subject, now=now,
                                 public=False, sla=sla.value, due=due.isoformat())
            events.publish(session, order, events.WorkOrderSlaBreached(**events.fact(order), sla=sla, due_at=due,
                                                                       level=level), actor=_JOB)
            service.log_activity(session, order, ActivityKind.ESCALATED, actor=_JOB.subject, now=now,
                                 public=False, level=level, to=to)
            events.publish(session, order, events.WorkOrderEscalated(**events.fact(order), level=level, to=to),
                           actor=_JOB)
            if complaint is not None and to == MANAGER and complaint.state is not ComplaintState.ESCALATED \
                    and complaint.state in _COMPLAINT_OPEN:
                complaint.state, complaint.escalated_to, complaint.escalated_at = ComplaintState.ESCALATED, MANAGER, now
                session.flush()
                events.publish(session, order, events.ComplaintEscalated(**events.fact(order), escalated_to=MANAGER),
                               actor=_JOB)
    return breaches
