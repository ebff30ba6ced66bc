"""Work-order services: open, read, move through the state machine, comment, merge. The caller owns the
transaction; routing lives in :mod:`resolvers.service.routing`, complaints in
:mod:`resolvers.service.complaints`, SLA checks in :mod:`resolvers.service.breaches`.

Links to other domains (customer, policy, claim, advance) are validated through their services,
as the caller may see them: a customer links only their own things.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from core.errors import (
    DomainError,
    ErrorCollector,
    NotFoundError,
    StaleVersionError,
    ValidationError,
    collect_errors,
)
from core.event_stream import Actor
from core.roles import INTERNAL
from resolvers.advances import service as advances
from resolvers.claims import service as claims
from resolvers.policies import service as policies
from resolvers.service import events
from resolvers.service.models import (
    ACTIVE_STATES,
    ActivityKind,
    ServiceAgent,
    SlaKind,
    WorkOrder,
    WorkOrderActivity,
    WorkOrderComment,
    WorkOrderPriority,
    WorkOrderState,
    WorkOrderType,
)
from resolvers.service.scoping import work_order_visible
from resolvers.service.sla import SlaPolicy
from resolvers.service.states import check_editable, check_transition

__all__ = [
    "DEFAULT_QUEUES",
    "MAX_BODY",
    "MAX_SUBJECT",
    "SYSTEM",
    "Links",
    "add_comment",
    "check_queue_name",
    "check_text",
    "get_comment",
    "get_work_order",
    "log_activity",
    "merge_work_orders",
    "move",
    "open_work_order",
    "release_slot",
    "transition",
    "work_orders_query",
]

SYSTEM = Principal(subject="system:service", role=Role.ADMIN)
MAX_SUBJECT = 200
MAX_BODY = 4000
_TEAM_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")
#: Where each type of order waits by default: (team, skill).
DEFAULT_QUEUES: dict[WorkOrderType, tuple[str, str]] = {
    WorkOrderType.CONSULTATION: ("frontline", "general"),
    WorkOrderType.COMPLAINT: ("complaints", "complaints"),
    WorkOrderType.CLAIM_FOLLOW_UP: ("claims-care", "claims"),
    WorkOrderType.POLICY_CHANGE: ("frontline", "policy"),
    WorkOrderType.CALLBACK: ("outbound", "callback"),
    WorkOrderType.HEALTH_SERVICE: ("health", "health"),
    WorkOrderType.INTERNAL: ("backoffice", "general"),
}


@dataclass(frozen=True)
class Links:
    """What a work order is about in other domains (ids; each validated through its domain's service)."""

    customer_id: int | None = None
    policy_id: int | None = None
    claim_id: int | None = None
    advance_id: int | None = None


def _actor(principal: Principal) -> Actor:
    return Actor.of(principal)


def check_text(errors: ErrorCollector, value: str | None, *, field: str, limit: int, required: bool) -> None:
    """Refuse empty (when required) or oversized text; anything else is kept verbatim (markup, SQL, emoji)."""
    if value is None or not value.strip():
        if required:
            errors.add(ValidationError(f"{field} may not be empty", field=field, code="EMPTY_TEXT"))
        return
    if len(value) > limit:
        errors.add(ValidationError(f"{field}: at most {limit} characters", field=field, code="TEXT_TOO_LONG"))
    if "\x00" in value:
        errors.add(ValidationError(f"{field} contains a NUL character", field=field, code="BAD_TEXT"))


def check_queue_name(errors: ErrorCollector, value: str, field: str) -> None:
    """Team and skill names: 2-40 of a-z, 0-9, - and _."""
    if not 2 <= len(value) <= 40 or not set(value) <= _TEAM_CHARS:
        errors.add(ValidationError(f"{field}: 2-40 of a-z, 0-9, - and _", field=field, code="BAD_QUEUE"))


def log_activity(session: Session, order: WorkOrder, kind: ActivityKind, *, actor: str, now: dt.datetime,
                 public: bool, from_state: WorkOrderState | None = None, to_state: WorkOrderState | None = None,
                 **detail: Any) -> None:
    """Add a timeline entry of ``order``."""
    session.add(WorkOrderActivity(work_order_id=order.id, kind=kind, actor=actor, at=now, public=public,
                                  from_state=from_state, to_state=to_state,
                                  detail={k: str(v) for k, v in detail.items() if v is not None}))


def get_work_order(session: Session, *, principal: Principal, work_order_id: int, lock: bool = False) -> WorkOrder:
    """A work order ``principal`` may see, else NotFoundError."""
    stmt = select(WorkOrder).where(WorkOrder.id == work_order_id, work_order_visible(principal))
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    row = session.scalar(stmt)
    if row is None:
        raise NotFoundError("work order not found", field="workOrderId")
    return row


def _check_version(order: WorkOrder, expected: int | None) -> None:
    if expected is not None and order.version != expected:
        raise StaleVersionError(f"the work order is at version {order.version}, not {expected}",
                                field="expectedVersion")


def work_orders_query(principal: Principal, *, states: Sequence[WorkOrderState] = (),
                      types: Sequence[WorkOrderType] = (), team: str | None = None,
                      assignee_id: int | None = None, unassigned: bool = False,
                      customer_id: int | None = None, escalated: bool = False) -> Select[Any]:
    """The work orders ``principal`` may see, filtered (a page is cut by the caller)."""
    stmt = select(WorkOrder).where(work_order_visible(principal))
    if states:
        stmt = stmt.where(WorkOrder.state.in_(list(states)))
    if types:
        stmt = stmt.where(WorkOrder.type.in_(list(types)))
    if team is not None:
        stmt = stmt.where(WorkOrder.team == team)
    if assignee_id is not None:
        stmt = stmt.where(WorkOrder.assignee_id == assignee_id)
    if unassigned:
        stmt = stmt.where(WorkOrder.assignee_id.is_(None), WorkOrder.state.in_(ACTIVE_STATES))
    if customer_id is not None:
        stmt = stmt.where(WorkOrder.customer_id == customer_id)
    if escalated:
        stmt = stmt.where(WorkOrder.escalation_level > 0, WorkOrder.state.in_(ACTIVE_STATES))
    return stmt


# --- opening ---------------------------------------------------------------------------------------


def _link(errors: ErrorCollector, fetch: Any, field: str) -> Any:
    try:
        return fetch()
    except DomainError as exc:
        errors.add(NotFoundError(exc.message, field=field, code="NOT_FOUND"))
        return None


def resolve_links(session: Session, principal: Principal, links: Links, errors: ErrorCollector) -> Links:
    """Check each link through its domain's service as ``principal`` sees it; fill the customer from the others.

    Everything linked must belong to one customer (``LINK_MISMATCH``); a customer links only their own.
    """
    customer_id = links.customer_id
    if principal.role is Role.CUSTOMER:
        if customer_id is not None and customer_id != principal.customer_id:
            errors.add(NotFoundError("customer not found", field="customerId", code="NOT_FOUND"))
        customer_id = principal.customer_id
    elif customer_id is not None:
        _link(errors, lambda: policies.get_customer(session, principal=principal, customer_id=customer_id),
              "customerId")
    owners: list[tuple[str, int]] = []
    if links.policy_id is not None:
        policy = _link(errors, lambda: policies.get_policy(session, principal=principal, policy_id=links.policy_id),
                       "policyId")
        if policy is not None:
            owners.append(("policyId", policy.customer_id))
    if links.claim_id is not None:
        claim = _link(errors, lambda: claims.get_claim(session, principal=principal, claim_id=links.claim_id),
                      "claimId")
        if claim is not None:
            owners.append(("claimId", claim.customer_id))
    if links.advance_id is not None:
        adv = _link(errors, lambda: advances.get_advance(session, principal=principal, advance_id=links.advance_id),
                    "advanceId")
        if adv is not None:
            owners.append(("advanceId", adv.customer_id))
    for field, owner in owners:
        if customer_id is None:
            customer_id = owner
        elif owner != customer_id:
            errors.add(ValidationError(f"{field} belongs to another customer", field=field, code="LINK_MISMATCH"))
    return Links(customer_id, links.policy_id, links.claim_id, links.advance_id)


def open_work_order(
    session: Session, *, principal: Principal, type: WorkOrderType, subject: str, description: str | None,
    now: dt.datetime, priority: WorkOrderPriority = WorkOrderPriority.NORMAL, links: Links = Links(),
    team: str | None = None, skill: str | None = None, extra: dict[str, str] | None = None,
) -> WorkOrder:
    """Open a work order in its queue with its SLA clocks running; every input error at once."""
    sla = SlaPolicy.from_extra(extra)
    default_team, default_skill = DEFAULT_QUEUES[type]
    with collect_errors() as errors:
        if principal.role is Role.CUSTOMER and (type is WorkOrderType.INTERNAL or team or skill):
            errors.add(ValidationError("customers open consultations, complaints, callbacks and requests "
                                       "in the default queues", field="type", code="NOT_ALLOWED_FOR_CUSTOMER"))
        if principal.role is Role.CUSTOMER and priority in (WorkOrderPriority.HIGH, WorkOrderPriority.URGENT):
            errors.add(ValidationError("customers ask at LOW or NORMAL priority; agents raise it", field="priority",
                                       code="NOT_ALLOWED_FOR_CUSTOMER"))
        check_text(errors, subject, field="subject", limit=MAX_SUBJECT, required=True)
        check_text(errors, description, field="description", limit=MAX_BODY, required=False)
        if team is not None:
            check_queue_name(errors, team, "team")
        if skill is not None:
            check_queue_name(errors, skill, "skill")
        resolved = resolve_links(session, principal, links, errors)
        if type is not WorkOrderType.INTERNAL and resolved.customer_id is None:
            errors.add(ValidationError("a customer request names its customer (or a policy, claim or advance)",
                                       field="customerId", code="CUSTOMER_REQUIRED"))
        with errors.check():
            first_due = sla.due(now, type, SlaKind.FIRST_RESPONSE, priority)
            resolution_due = sla.due(now, type, SlaKind.RESOLUTION, priority)
        errors.raise_if_any()
    order = WorkOrder(type=type, state=WorkOrderState.NEW, priority=priority, subject=subject,
                      description=description if description and description.strip() else None,
                      customer_id=resolved.customer_id, policy_id=resolved.policy_id, claim_id=resolved.claim_id,
                      advance_id=resolved.advance_id, created_by=principal.subject, team=team or default_team,
                      skill=skill or default_skill, waiting_since=now, first_response_due_at=first_due,
                      resolution_due_at=resolution_due, escalation_level=0)
    session.add(order)
    session.flush()
    log_activity(session, order, ActivityKind.CREATED, actor=principal.subject, now=now, public=True,
                 to_state=order.state, type=type.value)
    events.publish(session, order, events.WorkOrderOpened(**events.fact(order), type=type, priority=priority),
                   actor=_actor(principal))
    return order


# --- moving ----------------------------------------------------------------------------------------


def release_slot(session: Session, order: WorkOrder) -> None:
    """Give the assignee's capacity slot back (the order keeps naming who held it)."""
    if order.assignee_id is not None and order.state in ACTIVE_STATES:
        session.execute(update(ServiceAgent).where(ServiceAgent.id == order.assignee_id, ServiceAgent.load > 0)
                        .values(load=ServiceAgent.load - 1, version=ServiceAgent.version + 1)
                        .execution_options(synchronize_session=False))


def move(session: Session, order: WorkOrder, target: WorkOrderState, *, actor: Principal, now: dt.datetime,
         sla: SlaPolicy) -> WorkOrder:
    """Move ``order`` (checked by the transition table), keep SLA clocks and capacity right, emit the event."""
    check_transition(order.state, target)
    before = order.state
    if target is WorkOrderState.PENDING_CUSTOMER:
        order.paused_at = now
    elif before is WorkOrderState.PENDING_CUSTOMER and order.paused_at is not None:
        paused = order.paused_at
        order.first_response_due_at = (sla.resume(order.first_response_due_at, paused, now)
                                       if order.first_response_at is None else order.first_response_due_at)
        order.next_response_due_at = sla.resume(order.next_response_due_at, paused, now)
        order.resolution_due_at = sla.resume(order.resolution_due_at, paused, now)
        order.paused_at = None
    if target in (WorkOrderState.RESOLVED, WorkOrderState.MERGED):
        release_slot(session, order)
        order.paused_at = None
        order.resolved_at = now if target is WorkOrderState.RESOLVED else order.resolved_at
    if target is WorkOrderState.CLOSED:
        order.closed_at = now
    if before is WorkOrderState.RESOLVED and target is WorkOrderState.OPEN:  # reopened: back to the queue
        order.assignee_id, order.assigned_at, order.waiting_since, order.resolved_at = None, None, now, None
        order.resolution_due_at = sla.due(now, order.type, SlaKind.RESOLUTION, order.priority)
    order.state = target
    if actor.subject == _assignee_subject(session, order):
        order.agent_active_at = now
    session.flush()
    log_activity(session, order, ActivityKind.STATE_CHANGED, actor=actor.subject, now=now, public=True,
                 from_state=before, to_state=target)
    events.publish(session, order, events.WorkOrderStateChanged(**events.fact(order), from_state=before),
                   actor=_actor(actor))
    return order


def _assignee_subject(session: Session, order: WorkOrder) -> str | None:
    if order.assignee_id is None:
        return None
    return session.scalar(select(ServiceAgent.subject).where(ServiceAgent.id == order.assignee_id))


def transition(session: Session, *, principal: Principal, work_order_id: int, to_state: WorkOrderState,
               now: dt.datetime, expected_version: int | None = None,
               extra: dict[str, str] | None = None) -> WorkOrder:
    """Move an order to ``to_state`` (staff); a customer may only close a resolved order of theirs."""
    order = get_work_order(session, principal=principal, work_order_id=work_order_id, lock=True)
    _check_version(order, expected_version)
    if to_state is WorkOrderState.MERGED:
        raise ValidationError("merge with mergeWorkOrders (it names the surviving order)", field="state",
                              code="INVALID_TRANSITION")
    if principal.role is Role.CUSTOMER and to_state is not WorkOrderState.CLOSED:
        check_editable(order.state)
        raise ValidationError("a customer may only close a resolved order", field="state",
                              code="NOT_ALLOWED_FOR_CUSTOMER")
    return move(session, order, to_state, actor=principal, now=now, sla=SlaPolicy.from_extra(extra))


# --- comments --------------------------------------------------------------------------------------


def add_comment(session: Session, *, principal: Principal, work_order_id: int, body: str, internal: bool,
                now: dt.datetime, extra: dict[str, str] | None = None) -> WorkOrderComment:
    """Comment on an order. An agent's first public reply is the first response (NEW orders open);
    a customer's comment resumes a PENDING_CUSTOMER order and starts the next-response clock."""
    sla = SlaPolicy.from_extra(extra)
    order = get_work_order(session, principal=principal, work_order_id=work_order_id, lock=True)
    by_customer = principal.role is Role.CUSTOMER
    with collect_errors() as errors:
        with errors.check():
            check_editable(order.state)
        check_text(errors, body, field="body", limit=MAX_BODY, required=True)
        if by_customer and internal:
            errors.add(ValidationError("customers write public comments only", field="internal",
                                       code="NOT_ALLOWED_FOR_CUSTOMER"))
        errors.raise_if_any()
    comment = WorkOrderComment(work_order_id=order.id, author=principal.subject, by_customer=by_customer,
                               internal=internal, body=body, at=now)
    session.add(comment)
    if by_customer:
        if order.state in (WorkOrderState.PENDING_CUSTOMER, WorkOrderState.RESOLVED):
            move(session, order, WorkOrderState.OPEN, actor=principal, now=now, sla=sla)
        if order.first_response_at is not None and order.state in ACTIVE_STATES:
            order.next_response_due_at = sla.due(now, order.type, SlaKind.NEXT_RESPONSE, order.priority)
    elif principal.role in INTERNAL:
        if order.assignee_id is not None and _assignee_subject(session, order) == principal.subject:
            order.agent_active_at = now
        if not internal:
            if order.first_response_at is None:
                order.first_response_at = now
            order.next_response_due_at = None
            if order.state is WorkOrderState.NEW:
                move(session, order, WorkOrderState.OPEN, actor=principal, now=now, sla=sla)
    session.flush()
    log_activity(session, order, ActivityKind.COMMENTED, actor=principal.subject, now=now, public=not internal,
                 comment=comment.id)
    events.publish(session, order, events.WorkOrderCommented(**events.fact(order), comment_id=comment.id,
                                                             by_customer=by_customer, internal=internal),
                   actor=_actor(principal))
    return comment


def get_comment(session: Session, *, principal: Principal, comment_id: int) -> WorkOrderComment:
    """A comment ``principal`` may read (customers: public ones on their own orders)."""
    row = session.get(WorkOrderComment, comment_id)
    if row is None or (principal.role not in INTERNAL and row.internal):
        raise NotFoundError("comment not found", field="commentId")
    get_work_order(session, principal=principal, work_order_id=row.work_order_id)
    return row


# --- merging ---------------------------------------------------------------------------------------


def merge_work_orders(session: Session, *, principal: Principal, work_order_id: int, into_id: int,
                      now: dt.datetime, extra: dict[str, str] | None = None) -> WorkOrder:
    """Merge a duplicate into the surviving order of the same customer; returns the survivor."""
    if work_order_id == into_id:
        raise ValidationError("an order cannot be merged into itself", field="intoId", code="SAME_ORDER")
    first, second = sorted((work_order_id, into_id))  # lock in id order: no deadlock between two merges
    rows = {i: get_work_order(session, principal=principal, work_order_id=i, lock=True) for i in (first, second)}
    dup, into = rows[work_order_id], rows[into_id]
    check_editable(into.state)
    if dup.customer_id != into.customer_id:
        raise ValidationError("both orders must be the same customer's", field="intoId", code="LINK_MISMATCH")
    move(session, dup, WorkOrderState.MERGED, actor=principal, now=now, sla=SlaPolicy.from_extra(extra))
    dup.merged_into_id = into.id
    session.flush()
    log_activity(session, into, ActivityKind.MERGED, actor=principal.subject, now=now, public=True,
                 merged=dup.id)
    events.publish(session, dup, events.WorkOrderMerged(**events.fact(dup), into_id=into.id),
                   actor=_actor(principal))
    return into
