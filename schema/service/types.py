"""GraphQL object types of the service domain: work orders, their comments, timeline and missed SLAs,
complaints, and service agents.

A work order links to the customer, policy, claim and advance it is about (each read through its
domain's service as the caller may see it). A customer reads their own orders with their public
comments and public timeline entries; routing, SLA and escalation fields are for staff.
Free text (subject, description, comments) is returned exactly as written: markup and SQL are
plain characters here, never interpreted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.types import Info

from core.errors import DomainError
from core.roles import INTERNAL, POLICY_READERS, SERVICE_READERS
from resolvers.advances import service as advances
from resolvers.claims import service as claims
from resolvers.policies import service as policies
from resolvers.service import models as m
from schema.advances.types import Advance
from schema.claims.types import Claim
from schema.context import Context
from schema.partners.arguments import gid
from schema.partners.paging import After, Before, First, Last, loaded_connection
from schema.permissions import access, allow
from schema.policies.loaders import CustomerByIdLoader, PolicyByIdLoader
from schema.policies.types import Customer, Policy
from schema.relay import Connection, Node, page_request
from schema.service.enums import (
    ComplaintCategory,
    ComplaintChannel,
    ComplaintOutcome,
    ComplaintSeverity,
    ComplaintState,
    WorkOrderActivityKind,
    WorkOrderPriority,
    WorkOrderSla,
    WorkOrderState,
    WorkOrderType,
)
from schema.service.loaders import (
    ActivitiesByWorkOrderIdLoader,
    BreachesByWorkOrderIdLoader,
    CommentsByWorkOrderIdLoader,
    ComplaintByWorkOrderIdLoader,
    ServiceAgentByIdLoader,
)

__all__ = ["Complaint", "ServiceAgent", "WorkOrder", "WorkOrderActivity",
           "WorkOrderBreach", "WorkOrderComment", "number"]

_PAGING = "Oldest first; first/after forward or last/before backward, at most 100 per page."


def number(pk: int) -> str:
    """A work order's reference for people (WO- and 8 digits)."""
    return f"WO-{pk:08d}"


def _staff(ctx: Context) -> bool:
    return ctx.principal.role in INTERNAL


def _linked(ctx: Context, fetch: Any, wrap: Any) -> Any:
    try:
        return wrap(fetch())
    except DomainError:
        return None


@strawberry.type(description="A service agent as routing knows them: team, skills, capacity and load.")
@access(INTERNAL)
class ServiceAgent(Node):
    subject: str = strawberry.field(description="The agent's staff token subject.")
    team: str = strawberry.field(description="The team whose queues they work.")
    skills: list[str] = strawberry.field(description="The skills they take orders of.")
    capacity: int = strawberry.field(description="Most open orders they hold at once.")
    load: int = strawberry.field(description="Open orders they hold now (never above capacity).")
    active: bool = strawberry.field(description="Whether routing gives them orders.")

    @classmethod
    def from_row(cls, row: m.ServiceAgent) -> ServiceAgent:
        return cls(id=gid("ServiceAgent", row.id), subject=row.subject, team=row.team, skills=list(row.skills),
                   capacity=row.capacity, load=row.load, active=row.active)


@strawberry.type(description="A comment on a work order; customers see public ones only.")
@access(SERVICE_READERS)
class WorkOrderComment(Node):
    body: str = strawberry.field(description="The text, exactly as written (1-4,000 characters; markup is not "
                                             "interpreted: escape it when you render HTML).")
    by_customer: bool = strawberry.field(description="Written by the customer (else by staff).")
    internal: bool = strawberry.field(description="Staff only (never shown to the customer).")
    at: dt.datetime = strawberry.field(description="When it was written.")
    author: str = strawberry.field(description="Who wrote it (staff and auditors only).", metadata=allow(INTERNAL))

    @classmethod
    def from_row(cls, row: m.WorkOrderComment) -> WorkOrderComment:
        return cls(id=gid("WorkOrderComment", row.id), body=row.body, by_customer=row.by_customer,
                   internal=row.internal, at=row.at, author=row.author)


@strawberry.type(description="A timeline entry of a work order (codes, no prose); customers see public ones.")
@access(SERVICE_READERS)
class WorkOrderActivity:
    kind: WorkOrderActivityKind = strawberry.field(description="What happened.")  # type: ignore[valid-type]
    at: dt.datetime = strawberry.field(description="When.")
    from_state: WorkOrderState | None = strawberry.field(  # type: ignore[valid-type]
        description="The state before (STATE_CHANGED).")
    to_state: WorkOrderState | None = strawberry.field(  # type: ignore[valid-type]
        description="The state after (CREATED, STATE_CHANGED).")
    actor: str = strawberry.field(description="Who (a subject or system:<job>; staff and auditors only).",
                                  metadata=allow(INTERNAL))
    detail: list[str] = strawberry.field(description="Codes and ids of the entry as key=value, e.g. team=claims-care, "
                                                     "sla=first_response, level=1 (staff and auditors only).",
                                         metadata=allow(INTERNAL))

    @classmethod
    def from_row(cls, row: m.WorkOrderActivity) -> WorkOrderActivity:
        return cls(kind=row.kind, at=row.at, from_state=row.from_state, to_state=row.to_state, actor=row.actor,
                   detail=[f"{k}={v}" for k, v in sorted((row.detail or {}).items())])


@strawberry.type(description="An SLA a work order missed, and the escalation level it raised.")
@access(INTERNAL)
class WorkOrderBreach(Node):
    sla: WorkOrderSla = strawberry.field(description="Which clock ran out.")  # type: ignore[valid-type]
    due_at: dt.datetime = strawberry.field(description="When it was due.")
    breached_at: dt.datetime = strawberry.field(description="When the SLA check found it missed.")
    level: int = strawberry.field(description="The order's escalation level after it (1: team lead, 2+: manager).")

    @classmethod
    def from_row(cls, row: m.WorkOrderBreach) -> WorkOrderBreach:
        return cls(id=gid("WorkOrderBreach", row.id), sla=row.sla, due_at=row.due_at, breached_at=row.at,
                   level=row.level)


@strawberry.type(description="The complaint of a COMPLAINT work order: channel, category, severity, the regulator's "
                             "deadline, escalation, the resolution and the customer's acknowledgement, its cause.")
@access(SERVICE_READERS)
class Complaint(Node):
    channel: ComplaintChannel = strawberry.field(description="Where it came in.")  # type: ignore[valid-type]
    category: ComplaintCategory = strawberry.field(description="What it is about.")  # type: ignore[valid-type]
    severity: ComplaintSeverity = strawberry.field(description="How serious.")  # type: ignore[valid-type]
    state: ComplaintState = strawberry.field(description="Where it stands.")  # type: ignore[valid-type]
    received_at: dt.datetime = strawberry.field(description="When it was taken in.")
    regulator_due_at: dt.datetime = strawberry.field(description="The regulator's deadline for the decision (15 "
                                                                 "calendar days after receipt by default, 30 when "
                                                                 "extended; end of day in Beijing).")
    extended: bool = strawberry.field(description="Whether the deadline was extended for a complex case.")
    outcome: ComplaintOutcome | None = strawberry.field(  # type: ignore[valid-type]
        description="The decision (null until resolved).")
    resolved_at: dt.datetime | None = strawberry.field(description="When the decision was told.")
    acknowledged_at: dt.datetime | None = strawberry.field(description="When the customer answered the resolution.")
    accepted: bool | None = strawberry.field(description="Whether the customer accepted it (null until answered).")
    escalated_to: str | None = strawberry.field(description="The manager (a subject, or MANAGER for the role) it "
                                                            "went to (staff and auditors only).",
                                                metadata=allow(INTERNAL))
    escalated_at: dt.datetime | None = strawberry.field(description="When it was escalated (staff and auditors "
                                                                    "only).", metadata=allow(INTERNAL))
    cause_agent: str | None = strawberry.field(description="The staff subject whose conduct it is about (staff and "
                                                           "auditors only).", metadata=allow(INTERNAL))
    cause_claim_pk: strawberry.Private[int | None]
    cause_policy_pk: strawberry.Private[int | None]
    order_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: m.Complaint) -> Complaint:
        return cls(id=gid("Complaint", row.id), channel=row.channel, category=row.category, severity=row.severity,
                   state=row.state, received_at=row.received_at, regulator_due_at=row.regulator_due_at,
                   extended=row.extended, outcome=row.outcome, resolved_at=row.resolved_at,
                   acknowledged_at=row.acknowledged_at, accepted=row.accepted, escalated_to=row.escalated_to,
                   escalated_at=row.escalated_at, cause_agent=row.cause_agent, cause_claim_pk=row.cause_claim_id,
                   cause_policy_pk=row.cause_policy_id, order_pk=row.work_order_id)

    @strawberry.field(description="The claim the complaint is about (its cause), if any.")
    def cause_claim(self, info: Info[Context, Any]) -> Claim | None:
        ctx, pk = info.context, self.cause_claim_pk
        if pk is None:
            return None
        return _linked(ctx, lambda: claims.get_claim(ctx.session, principal=ctx.principal, claim_id=pk),  # type: ignore[no-any-return]
                       Claim.from_row)

    @strawberry.field(description="The policy whose change (or sale) the complaint is about, if any.",
                      metadata=allow(POLICY_READERS))
    def cause_policy(self, info: Info[Context, Any]) -> Policy | None:
        ctx, pk = info.context, self.cause_policy_pk
        if pk is None:
            return None
        return _linked(ctx, lambda: policies.get_policy(ctx.session, principal=ctx.principal,  # type: ignore[no-any-return]
                                                        policy_id=pk), Policy.from_row)


@strawberry.type(description="A work order: one customer request, its queue and agent, SLA clocks (business hours "
                             "in Beijing, Chinese public holidays off, stopped while pending on the customer), "
                             "comments and timeline, and what it is about in other domains.")
@access(SERVICE_READERS)
class WorkOrder(Node):
    number: str = strawberry.field(description="The reference for people (WO- and 8 digits).")
    type: WorkOrderType = strawberry.field(description="What it is about.")  # type: ignore[valid-type]
    state: WorkOrderState = strawberry.field(description="Where it stands.")  # type: ignore[valid-type]
    priority: WorkOrderPriority = strawberry.field(description="How urgent.")  # type: ignore[valid-type]
    subject: str = strawberry.field(description="A one-line summary, exactly as written (1-200 characters; markup "
                                                "is not interpreted).")
    description: str | None = strawberry.field(description="The request in full, exactly as written (at most 4,000 "
                                                           "characters).")
    version: int = strawberry.field(description="Grows with every change (expectedVersion).")
    created_at: dt.datetime = strawberry.field(description="When it was opened.")
    resolved_at: dt.datetime | None = strawberry.field(description="When it was (last) resolved.")
    closed_at: dt.datetime | None = strawberry.field(description="When it was closed.")
    team: str = strawberry.field(description="The team whose queue it is in (staff and auditors only).",
                                 metadata=allow(INTERNAL))
    skill: str = strawberry.field(description="The skill it needs (staff and auditors only).",
                                  metadata=allow(INTERNAL))
    assigned_at: dt.datetime | None = strawberry.field(description="When its agent got it (staff and auditors only).",
                                                       metadata=allow(INTERNAL))
    waiting_since: dt.datetime | None = strawberry.field(
        description="Since when it waits for an agent (null while one holds it; staff and auditors only).",
        metadata=allow(INTERNAL))
    first_response_due_at: dt.datetime | None = strawberry.field(
        description="The first-response deadline (staff and auditors only).", metadata=allow(INTERNAL))
    first_response_at: dt.datetime | None = strawberry.field(description="When an agent first replied in public.")
    next_response_due_at: dt.datetime | None = strawberry.field(
        description="By when an agent must answer the customer's last comment (staff and auditors only).",
        metadata=allow(INTERNAL))
    resolution_due_at: dt.datetime | None = strawberry.field(
        description="The resolution deadline (staff and auditors only).", metadata=allow(INTERNAL))
    sla_paused: bool = strawberry.field(description="Whether its SLA clocks are stopped (pending on the customer).")
    escalation_level: int = strawberry.field(description="0, or how many times it was escalated (staff and "
                                                         "auditors only).", metadata=allow(INTERNAL))
    pk: strawberry.Private[int]
    assignee_pk: strawberry.Private[int | None]
    customer_pk: strawberry.Private[int | None]
    policy_pk: strawberry.Private[int | None]
    claim_pk: strawberry.Private[int | None]
    advance_pk: strawberry.Private[int | None]
    merged_into_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: m.WorkOrder) -> WorkOrder:
        return cls(id=gid("WorkOrder", row.id), pk=row.id, number=number(row.id), type=row.type, state=row.state,
                   priority=row.priority, subject=row.subject, description=row.description, version=row.version,
                   created_at=row.created_at, resolved_at=row.resolved_at, closed_at=row.closed_at, team=row.team,
                   skill=row.skill, assigned_at=row.assigned_at, waiting_since=row.waiting_since,
                   first_response_due_at=row.first_response_due_at, first_response_at=row.first_response_at,
                   next_response_due_at=row.next_response_due_at, resolution_due_at=row.resolution_due_at,
                   sla_paused=row.paused_at is not None, escalation_level=row.escalation_level,
                   assignee_pk=row.assignee_id, customer_pk=row.customer_id, policy_pk=row.policy_id,
                   claim_pk=row.claim_id, advance_pk=row.advance_id, merged_into_pk=row.merged_into_id)

    @strawberry.field(description="The agent holding it, or who held it last (staff and auditors only).",
                      metadata=allow(INTERNAL))
    def assignee(self, info: Info[Context, Any]) -> ServiceAgent | None:
        if self.assignee_pk is None:
            return None
        return info.context.loader(ServiceAgentByIdLoader).get_wrapped(  # type: ignore[no-any-return]
            self.assignee_pk, ServiceAgent.from_row)

    @strawberry.field(description="The customer it is about (null for INTERNAL orders).",
                      metadata=allow(POLICY_READERS))
    def customer(self, info: Info[Context, Any]) -> Customer | None:
        if self.customer_pk is None:
            return None  # the links were checked as the caller may see them when the order was opened
        return info.context.loader(CustomerByIdLoader).get_wrapped(  # type: ignore[no-any-return]
            self.customer_pk, Customer.from_row)

    @strawberry.field(description="The policy it is about, if any.", metadata=allow(POLICY_READERS))
    def policy(self, info: Info[Context, Any]) -> Policy | None:
        if self.policy_pk is None:
            return None
        return info.context.loader(PolicyByIdLoader).get_wrapped(  # type: ignore[no-any-return]
            self.policy_pk, Policy.from_row)

    @strawberry.field(description="The claim it is about, if any.")
    def claim(self, info: Info[Context, Any]) -> Claim | None:
        ctx, pk = info.context, self.claim_pk
        if pk is None:
            return None
        return _linked(ctx, lambda: claims.get_claim(ctx.session, principal=ctx.principal, claim_id=pk),  # type: ignore[no-any-return]
                       Claim.from_row)

    @strawberry.field(description="The advance it is about, if any.")
    def advance(self, info: Info[Context, Any]) -> Advance | None:
        ctx, pk = info.context, self.advance_pk
        if pk is None:
            return None
        return _linked(ctx, lambda: advances.get_advance(ctx.session, principal=ctx.principal,  # type: ignore[no-any-return]
                                                         advance_id=pk), Advance.from_row)

    @strawberry.field(description="The global id of the order this one was merged into (MERGED only; read it with "
                                  "workOrder(id:)).")
    def merged_into_id(self) -> strawberry.ID | None:
        return gid("WorkOrder", self.merged_into_pk) if self.merged_into_pk is not None else None

    @strawberry.field(description="The complaint details (COMPLAINT orders; null otherwise).")
    def complaint(self, info: Info[Context, Any]) -> Complaint | None:
        return info.context.loader(ComplaintByWorkOrderIdLoader).get_wrapped(  # type: ignore[no-any-return]
            self.pk, lambda r: Complaint.from_row(r) if r is not None else None)

    @strawberry.field(description="Comments (customers: the public ones). " + _PAGING)
    async def comments(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                       before: Before = None) -> Connection[WorkOrderComment]:
        ctx = info.context
        rows = [r for r in await ctx.loader(CommentsByWorkOrderIdLoader).load(self.pk) if _staff(ctx) or not r.internal]
        return loaded_connection(rows, page_request(first, after, last, before, ctx.settings),  # type: ignore[return-value]
                                 WorkOrderComment.from_row)

    @strawberry.field(description="The timeline (customers: public entries). " + _PAGING)
    async def timeline(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                       before: Before = None) -> Connection[WorkOrderActivity]:
        ctx = info.context
        rows = [r for r in await ctx.loader(ActivitiesByWorkOrderIdLoader).load(self.pk) if _staff(ctx) or r.public]
        return loaded_connection(rows, page_request(first, after, last, before, ctx.settings),  # type: ignore[return-value]
                                 WorkOrderActivity.from_row)

    @strawberry.field(description="The SLAs it missed (staff and auditors only). " + _PAGING,
                      metadata=allow(INTERNAL))
    def breaches(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                 before: Before = None) -> Connection[WorkOrderBreach]:
        return loaded_connection(  # type: ignore[return-value]
            info.context.loader(BreachesByWorkOrderIdLoader).get(self.pk),
            page_request(first, after, last, before, info.context.settings), WorkOrderBreach.from_row)
