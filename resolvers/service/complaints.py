"""Complaints: intake from any channel, the regulator's deadline as an SLA, escalation to a manager,
resolution with the customer's acknowledgement, and a link to what caused it.

A complaint is a COMPLAINT work order (queue, SLA clocks, comments, timeline) plus a ``complaint``
row. Deadlines: ``resolvers.service.sla`` (settings ``service.complaint.*``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from core.errors import (
    ConflictError,
    DomainError,
    InvalidTransitionError,
    NotFoundError,
    ValidationError,
    collect_errors,
)
from core.event_stream import Actor
from core.roles import SERVICE_SUPERVISORS
from resolvers.claims import service as claims
from resolvers.policies import service as policies
from resolvers.service import events, service
from resolvers.service.models import (
    ActivityKind,
    Complaint,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintOutcome,
    ComplaintSeverity,
    ComplaintState,
    WorkOrder,
    WorkOrderState,
    WorkOrderType,
)
from resolvers.service.sla import SEVERITY_PRIORITY, SlaPolicy
from resolvers.service.states import check_editable

__all__ = ["acknowledge_resolution", "complaint_of", "escalate_complaint", "extend_deadline",
           "file_complaint", "resolve_complaint"]

_INTAKE = Actor.system("service.complaints")


def complaint_of(session: Session, order: WorkOrder) -> Complaint:
    """The complaint row of a COMPLAINT order (NOT_A_COMPLAINT otherwise)."""
    row = session.scalar(select(Complaint).where(Complaint.work_order_id == order.id))
    if row is None:
        raise ValidationError("the work order is no complaint", field="workOrderId", code="NOT_A_COMPLAINT")
    return row


def file_complaint(
    session: Session, *, principal: Principal, channel: ComplaintChannel, category: ComplaintCategory,
    severity: ComplaintSeverity, subject: str, description: str | None, now: dt.datetime,
    links: service.Links = service.Links(), cause_claim_id: int | None = None, cause_policy_id: int | None = None,
    cause_agent: str | None = None, extra: dict[str, str] | None = None,
) -> WorkOrder:
    """Take a complaint: a COMPLAINT work order in the complaints queue, priority by severity, the
    regulator's deadline set; CRITICAL ones and those the regulator forwards go to a manager at once.
    The cause (claim, policy change, agent) is checked through its domain as the caller sees it."""
    sla = SlaPolicy.from_extra(extra)
    with collect_errors() as errors:
        if principal.role is Role.CUSTOMER and (channel is ComplaintChannel.REGULATOR or cause_agent):
            errors.add(ValidationError("customers complain through their own channels; staff name agents",
                                       field="channel", code="NOT_ALLOWED_FOR_CUSTOMER"))
        if cause_claim_id is not None:
            try:
                claims.get_claim(session, principal=principal, claim_id=cause_claim_id)
            except DomainError:
                errors.add(NotFoundError("claim not found", field="causeClaimId"))
        if cause_policy_id is not None:
            try:
                policies.get_policy(session, principal=principal, policy_id=cause_policy_id)
            except DomainError:
                errors.add(NotFoundError("policy not found", field="causePolicyId"))
        if cause_agent is not None and not 1 <= len(cause_agent.strip()) <= 200:
            errors.add(ValidationError("causeAgent: a staff subject of 1-200 characters", field="causeAgent"))
        errors.raise_if_any()
    links = service.Links(links.customer_id, links.policy_id or cause_policy_id, links.claim_id or cause_claim_id,
                          links.advance_id)
    order = service.open_work_order(session, principal=principal, type=WorkOrderType.COMPLAINT, subject=subject,
                                    description=description, now=now, priority=SEVERITY_PRIORITY[severity],
                                    links=links, extra=extra)
    regulator_due = sla.regulator_due(now)
    complaint = Complaint(work_order_id=order.id, channel=channel, category=category, severity=severity,
                          state=ComplaintState.RECEIVED, received_at=now, regulator_due_at=regulator_due,
                          extended=False, cause_claim_id=cause_claim_id, cause_policy_id=cause_policy_id,
                          cause_agent=cause_agent.strip() if cause_agent else None)
    session.add(complaint)
    if order.resolution_due_at is None or order.resolution_due_at > regulator_due:
        order.resolution_due_at = regulator_due
    session.flush()
    events.publish(session, order, events.ComplaintFiled(**events.fact(order), channel=channel, category=category,
                                                         severity=severity, regulator_due_at=regulator_due),
                   actor=Actor.of(principal))
    if severity is ComplaintSeverity.CRITICAL or channel is ComplaintChannel.REGULATOR:
        _escalate(session, order, complaint, to="MANAGER", actor=_INTAKE, subject=_INTAKE.subject, now=now)
    return order


def _escalate(session: Session, order: WorkOrder, complaint: Complaint, *, to: str, actor: Actor, subject: str,
              now: dt.datetime) -> None:
    complaint.state, complaint.escalated_to, complaint.escalated_at = ComplaintState.ESCALATED, to, now
    order.escalation_level += 1
    session.flush()
    service.log_activity(session, order, ActivityKind.ESCALATED, actor=subject, now=now, public=False,
                         level=order.escalation_level, to=to)
    events.publish(session, order, events.ComplaintEscalated(**events.fact(order), escalated_to=to), actor=actor)


def _locked(session: Session, principal: Principal, work_order_id: int) -> tuple[WorkOrder, Complaint]:
    order = service.get_work_order(session, principal=principal, work_order_id=work_order_id, lock=True)
    check_editable(order.state)
    return order, complaint_of(session, order)


def escalate_complaint(session: Session, *, principal: Principal, work_order_id: int, manager: str,
                       now: dt.datetime) -> WorkOrder:
    """Escalate a complaint to a named manager (a staff subject)."""
    order, complaint = _locked(session, principal, work_order_id)
    with collect_errors() as errors:
        if not 1 <= len(manager.strip()) <= 200:
            errors.add(ValidationError("manager: a staff subject of 1-200 characters", field="manager"))
        if complaint.state in (ComplaintState.RESOLVED, ComplaintState.ACKNOWLEDGED):
            errors.add(InvalidTransitionError("the complaint is resolved", field="workOrderId",
                                              code="INVALID_TRANSITION"))
        errors.raise_if_any()
    _escalate(session, order, complaint, to=manager.strip(), actor=Actor.of(principal), subject=principal.subject,
              now=now)
    return order


def extend_deadline(session: Session, *, principal: Principal, work_order_id: int, now: dt.datetime,
                    extra: dict[str, str] | None = None) -> WorkOrder:
    """Extend a complex complaint's regulator deadline once (supervisors), to ``extended_days`` after receipt."""
    order, complaint = _locked(session, principal, work_order_id)
    if principal.role not in SERVICE_SUPERVISORS:
        raise ValidationError("only team leads and managers extend a deadline", field="workOrderId",
                              code="NOT_SUPERVISOR")
    if complaint.extended:
        raise ConflictError("the deadline was extended already", field="workOrderId", code="ALREADY_EXTENDED")
    complaint.extended = True
    complaint.regulator_due_at = SlaPolicy.from_extra(extra).regulator_due(complaint.received_at, extended=True)
    session.flush()
    return order


def resolve_complaint(session: Session, *, principal: Principal, work_order_id: int, outcome: ComplaintOutcome,
                      note: str, now: dt.datetime, extra: dict[str, str] | None = None) -> WorkOrder:
    """Tell the complainant the decision (a public comment) and resolve the order; the customer then
    acknowledges it. The order must be open (a NEW one is answered first: no skipping)."""
    order, complaint = _locked(session, principal, work_order_id)
    if complaint.state not in (ComplaintState.RECEIVED, ComplaintState.ESCALATED, ComplaintState.DISPUTED):
        raise InvalidTransitionError(f"a {complaint.state.name} complaint cannot be resolved", field="workOrderId",
                                     code="INVALID_TRANSITION")
    service.add_comment(session, principal=principal, work_order_id=order.id, body=note, internal=False, now=now,
                        extra=extra)
    service.move(session, order, WorkOrderState.RESOLVED, actor=principal, now=now, sla=SlaPolicy.from_extra(extra))
    complaint.state, complaint.outcome, complaint.resolved_at = ComplaintState.RESOLVED, outcome, now
    complaint.acknowledged_at, complaint.accepted = None, None
    session.flush()
    service.log_activity(session, order, ActivityKind.COMPLAINT_RESOLVED, actor=principal.subject, now=now,
                         public=True, outcome=outcome.value)
    events.publish(session, order, events.ComplaintResolved(**events.fact(order), outcome=outcome),
                   actor=Actor.of(principal))
    return order


def acknowledge_resolution(session: Session, *, principal: Principal, work_order_id: int, accepted: bool,
                           now: dt.datetime, extra: dict[str, str] | None = None) -> WorkOrder:
    """The customer (or an agent recording their answer) accepts the resolution — the order closes —
    or disputes it — the order reopens and the complaint is handled again."""
    order, complaint = _locked(session, principal, work_order_id)
    if complaint.state is not ComplaintState.RESOLVED:
        raise InvalidTransitionError("only a resolved complaint is acknowledged", field="workOrderId",
                                     code="NOT_RESOLVED")
    complaint.acknowledged_at, complaint.accepted = now, accepted
    complaint.state = ComplaintState.ACKNOWLEDGED if accepted else ComplaintState.DISPUTED
    sla = SlaPolicy.from_extra(extra)
    service.move(session, order, WorkOrderState.CLOSED if accepted else WorkOrderState.OPEN, actor=principal,
                 now=now, sla=sla)
    service.log_activity(session, order, ActivityKind.COMPLAINT_ACKNOWLEDGED, actor=principal.subject, now=now,
                         public=True, accepted=accepted)
    events.publish(session, order, events.ComplaintAcknowledged(**events.fact(order), accepted=accepted),
                   actor=Actor.of(principal))
    return order
