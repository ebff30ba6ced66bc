"""Mutations of the service domain: work orders (open, move, comment, assign, transfer, merge), agent
profiles, and complaints (file, escalate, extend, resolve, acknowledge)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from core.roles import SERVICE_AGENTS, SERVICE_REQUESTERS, SERVICE_SUPERVISORS
from resolvers.service import complaints, routing, service
from resolvers.service import models as m
from schema.context import Context
from schema.errors import run_mutation
from schema.permissions import PUBLIC, access, allow
from schema.relay import decode_global_id, encode_global_id
from schema.service.errors import (
    AcknowledgeComplaintResolutionError,
    AssignWorkOrderError,
    CommentOnWorkOrderError,
    EscalateComplaintError,
    ExtendComplaintDeadlineError,
    FileComplaintError,
    MergeWorkOrdersError,
    MoveWorkOrderError,
    OpenWorkOrderError,
    ResolveComplaintError,
    SetServiceAgentError,
    TransferWorkOrderError,
)
from schema.service.inputs import (
    AcknowledgeComplaintResolutionInput,
    AssignWorkOrderInput,
    CommentOnWorkOrderInput,
    EscalateComplaintInput,
    FileComplaintInput,
    MergeWorkOrdersInput,
    MoveWorkOrderInput,
    OpenWorkOrderInput,
    ResolveComplaintInput,
    SetServiceAgentInput,
    TransferWorkOrderInput,
    WorkOrderActionInput,
)
from schema.service.types import ServiceAgent, WorkOrder, WorkOrderComment

__all__ = ["ServiceMutation"]

P = TypeVar("P")
INPUT = strawberry.argument(description="What to do; each field's description says its limits.")
_ORDER_DOC = "The work order as the mutation left it (null when refused)."
_ERRORS_DOC = "Every refusal (empty on success): field, code, message."


@strawberry.type(description="The result of openWorkOrder.")
@access(PUBLIC)
class OpenWorkOrderPayload:
    work_order: WorkOrder | None = strawberry.field(description=_ORDER_DOC)
    errors: list[OpenWorkOrderError] = strawberry.field(description=_ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of moveWorkOrder.")
@access(PUBLIC)
class MoveWorkOrderPayload:
    work_order: WorkOrder | None = strawberry.field(description=_ORDER_DOC)
    errors: list[MoveWorkOrderError] = strawberry.field(description=_ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of assignWorkOrder.")
@access(PUBLIC)
class AssignWorkOrderPayload:
    work_order: WorkOrder | None = strawberry.field(description=_ORDER_DOC)
    errors: list[AssignWorkOrderError] = strawberry.field(description=_ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of transferWorkOrder.")
@access(PUBLIC)
class TransferWorkOrderPayload:
    work_order: WorkOrder | None = strawberry.field(description=_ORDER_DOC)
    errors: list[TransferWorkOrderError] = strawberry.field(description=_ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of mergeWorkOrders.")
@access(PUBLIC)
class MergeWorkOrdersPayload:
    work_order: WorkOrder | None = strawberry.field(description=_ORDER_DOC)
    errors: list[MergeWorkOrdersError] = strawberry.field(description=_ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of fileComplaint.")
@access(PUBLIC)
class FileComplaintPayload:
    work_order: WorkOrder | None = strawberry.field(description=_ORDER_DOC)
    errors: list[FileComplaintError] = strawberry.field(description=_ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of escalateComplaint.")
@access(PUBLIC)
class EscalateComplaintPayload:
    work_order: WorkOrder | None = strawberry.field(description=_ORDER_DOC)
    errors: list[EscalateComplaintError] = strawberry.field(description=_ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of extendComplaintDeadline.")
@access(PUBLIC)
class ExtendComplaintDeadlinePayload:
    work_order: WorkOrder | None = strawberry.field(description=_ORDER_DOC)
    errors: list[ExtendComplaintDeadlineError] = strawberry.field(description=_ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of resolveComplaint.")
@access(PUBLIC)
class ResolveComplaintPayload:
    work_order: WorkOrder | None = strawberry.field(description=_ORDER_DOC)
    errors: list[ResolveComplaintError] = strawberry.field(description=_ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of acknowledgeComplaintResolution.")
@access(PUBLIC)
class AcknowledgeComplaintResolutionPayload:
    work_order: WorkOrder | None = strawberry.field(description=_ORDER_DOC)
    errors: list[AcknowledgeComplaintResolutionError] = strawberry.field(description=_ERRORS_DOC)  # type: ignore[valid-type]




@strawberry.type(description="The result of commentOnWorkOrder.")
@access(PUBLIC)
class CommentOnWorkOrderPayload:
    comment: WorkOrderComment | None = strawberry.field(description="The comment (null when refused).")
    work_order: WorkOrder | None = strawberry.field(description=_ORDER_DOC)
    errors: list[CommentOnWorkOrderError] = strawberry.field(description=_ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of setServiceAgent.")
@access(PUBLIC)
class SetServiceAgentPayload:
    agent: ServiceAgent | None = strawberry.field(description="The profile as saved (null when refused).")
    errors: list[SetServiceAgentError] = strawberry.field(description=_ERRORS_DOC)  # type: ignore[valid-type]


def _id(value: strawberry.ID | None, type_name: str, field: str) -> int | None:
    return decode_global_id(value, type_name, field=field) if value else None


def _order_id(value: strawberry.ID, field: str = "workOrderId") -> int:
    return decode_global_id(value, "WorkOrder", field=field)


def _run(info: Info[Context, Any], action: str, data: Any, work: Callable[[Session], m.WorkOrder], codes: Any,
         payload: type[P]) -> P:
    row, errors = run_mutation(info, action, data, work, codes=codes,
                               target=lambda r: None if r is None else encode_global_id("WorkOrder", r.id))
    return payload(work_order=WorkOrder.from_row(row) if row else None, errors=errors)  # type: ignore[call-arg]


def _links(ctx: Context, customer: strawberry.ID | None, policy: strawberry.ID | None, claim: strawberry.ID | None,
           advance: strawberry.ID | None) -> service.Links:
    return service.Links(_id(customer, "Customer", "customerId"), _id(policy, "Policy", "policyId"),
                         _id(claim, "Claim", "claimId"), _id(advance, "Advance", "advanceId"))


@strawberry.type
class ServiceMutation:
    @strawberry.mutation(description="Open a work order in its queue (default by type) with its SLA clocks running; "
                         "links are checked as the caller may see them. Reports every input error at once.",
                         metadata=allow(SERVICE_REQUESTERS))
    def open_work_order(self, info: Info[Context, Any], input: Annotated[OpenWorkOrderInput, INPUT]
                        ) -> OpenWorkOrderPayload:
        ctx = info.context
        return _run(info, "openWorkOrder", input, lambda s: service.open_work_order(
            s, principal=ctx.principal, type=input.type, subject=input.subject, description=input.description,
            priority=input.priority, links=_links(ctx, input.customer_id, input.policy_id, input.claim_id,
                                                  input.advance_id),
            team=input.team, skill=input.skill, now=ctx.now(), extra=ctx.settings.extra),
            OpenWorkOrderError, OpenWorkOrderPayload)

    @strawberry.mutation(description="Move a work order in its state machine (WorkOrderState lists the moves; "
                         "PENDING_CUSTOMER stops the SLA clocks). A customer may only close a resolved order.",
                         metadata=allow(SERVICE_REQUESTERS))
    def move_work_order(self, info: Info[Context, Any], input: Annotated[MoveWorkOrderInput, INPUT]
                        ) -> MoveWorkOrderPayload:
        ctx = info.context
        return _run(info, "moveWorkOrder", input, lambda s: service.transition(
            s, principal=ctx.principal, work_order_id=_order_id(input.work_order_id), to_state=input.state,
            expected_version=input.expected_version, now=ctx.now(), extra=ctx.settings.extra),
            MoveWorkOrderError, MoveWorkOrderPayload)

    @strawberry.mutation(description="Comment on a work order. An agent's first public reply is the first response "
                         "(a NEW order opens); a customer's reply reopens a pending or resolved order and starts the "
                         "next-response clock.", metadata=allow(SERVICE_REQUESTERS))
    def comment_on_work_order(self, info: Info[Context, Any], input: Annotated[CommentOnWorkOrderInput, INPUT]
                              ) -> CommentOnWorkOrderPayload:
        ctx = info.context
        row, errors = run_mutation(info, "commentOnWorkOrder", input, lambda s: service.add_comment(
            s, principal=ctx.principal, work_order_id=_order_id(input.work_order_id), body=input.body,
            internal=input.internal, now=ctx.now(), extra=ctx.settings.extra), codes=CommentOnWorkOrderError,
            target=lambda r: None if r is None else encode_global_id("WorkOrderComment", r.id))
        order = None
        if row is not None:
            order = WorkOrder.from_row(service.get_work_order(ctx.session, principal=ctx.principal,
                                                              work_order_id=row.work_order_id))
        return CommentOnWorkOrderPayload(comment=WorkOrderComment.from_row(row) if row else None, work_order=order,
                                         errors=errors)

    @strawberry.mutation(description="Give a work order to an agent: team leads and managers name any qualified "
                         "agent; an agent takes it themself. Never beyond the agent's capacity (AGENT_FULL).",
                         metadata=allow(SERVICE_AGENTS))
    def assign_work_order(self, info: Info[Context, Any], input: Annotated[AssignWorkOrderInput, INPUT]
                          ) -> AssignWorkOrderPayload:
        ctx = info.context
        return _run(info, "assignWorkOrder", input, lambda s: routing.assign(
            s, principal=ctx.principal, work_order_id=_order_id(input.work_order_id),
            agent_id=_id(input.agent_id, "ServiceAgent", "agentId"), now=ctx.now()),
            AssignWorkOrderError, AssignWorkOrderPayload)

    @strawberry.mutation(description="Move a work order to another team's queue; it leaves its agent and keeps its "
                         "place (waiting since it was opened).", metadata=allow(SERVICE_AGENTS))
    def transfer_work_order(self, info: Info[Context, Any], input: Annotated[TransferWorkOrderInput, INPUT]
                            ) -> TransferWorkOrderPayload:
        ctx = info.context
        return _run(info, "transferWorkOrder", input, lambda s: routing.transfer(
            s, principal=ctx.principal, work_order_id=_order_id(input.work_order_id), team=input.team,
            skill=input.skill, now=ctx.now()), TransferWorkOrderError, TransferWorkOrderPayload)

    @strawberry.mutation(description="Merge a duplicate into another order of the same customer; answers the "
                         "surviving order.", metadata=allow(SERVICE_AGENTS))
    def merge_work_orders(self, info: Info[Context, Any], input: Annotated[MergeWorkOrdersInput, INPUT]
                          ) -> MergeWorkOrdersPayload:
        ctx = info.context
        return _run(info, "mergeWorkOrders", input, lambda s: service.merge_work_orders(
            s, principal=ctx.principal, work_order_id=_order_id(input.work_order_id),
            into_id=_order_id(input.into_id, "intoId"), now=ctx.now(), extra=ctx.settings.extra),
            MergeWorkOrdersError, MergeWorkOrdersPayload)

    @strawberry.mutation(description="Create or change an agent's routing profile: team, skills, capacity (never "
                         "below the orders held).", metadata=allow(SERVICE_SUPERVISORS))
    def set_service_agent(self, info: Info[Context, Any], input: Annotated[SetServiceAgentInput, INPUT]
                          ) -> SetServiceAgentPayload:
        ctx = info.context
        row, errors = run_mutation(info, "setServiceAgent", input, lambda s: routing.set_agent(
            s, principal=ctx.principal, subject=input.subject, team=input.team, skills=input.skills,
            capacity=input.capacity, active=input.active, now=ctx.now()), codes=SetServiceAgentError,
            target=lambda r: None if r is None else encode_global_id("ServiceAgent", r.id))
        return SetServiceAgentPayload(agent=ServiceAgent.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Take in a complaint from any channel: a COMPLAINT work order, priority by "
                         "severity, the regulator's deadline set (Complaint.regulatorDueAt); CRITICAL ones and "
                         "those the regulator forwards go to a manager at once.",
                         metadata=allow(SERVICE_REQUESTERS))
    def file_complaint(self, info: Info[Context, Any], input: Annotated[FileComplaintInput, INPUT]
                       ) -> FileComplaintPayload:
        ctx = info.context
        return _run(info, "fileComplaint", input, lambda s: complaints.file_complaint(
            s, principal=ctx.principal, channel=input.channel, category=input.category, severity=input.severity,
            subject=input.subject, description=input.description,
            links=_links(ctx, input.customer_id, None, None, None),
            cause_claim_id=_id(input.cause_claim_id, "Claim", "causeClaimId"),
            cause_policy_id=_id(input.cause_policy_id, "Policy", "causePolicyId"), cause_agent=input.cause_agent,
            now=ctx.now(), extra=ctx.settings.extra), FileComplaintError, FileComplaintPayload)

    @strawberry.mutation(description="Escalate a complaint to a named manager.", metadata=allow(SERVICE_AGENTS))
    def escalate_complaint(self, info: Info[Context, Any], input: Annotated[EscalateComplaintInput, INPUT]
                           ) -> EscalateComplaintPayload:
        ctx = info.context
        return _run(info, "escalateComplaint", input, lambda s: complaints.escalate_complaint(
            s, principal=ctx.principal, work_order_id=_order_id(input.work_order_id), manager=input.manager,
            now=ctx.now()), EscalateComplaintError, EscalateComplaintPayload)

    @strawberry.mutation(description="Extend a complex complaint's regulator deadline once (team leads, managers).",
                         metadata=allow(SERVICE_SUPERVISORS))
    def extend_complaint_deadline(self, info: Info[Context, Any], input: Annotated[WorkOrderActionInput, INPUT]
                                  ) -> ExtendComplaintDeadlinePayload:
        ctx = info.context
        return _run(info, "extendComplaintDeadline", input, lambda s: complaints.extend_deadline(
            s, principal=ctx.principal, work_order_id=_order_id(input.work_order_id), now=ctx.now(),
            extra=ctx.settings.extra), ExtendComplaintDeadlineError, ExtendComplaintDeadlinePayload)

    @strawberry.mutation(description="Tell the complainant the decision (a public comment) and resolve the order; "
                         "the customer then acknowledges it.", metadata=allow(SERVICE_AGENTS))
    def resolve_complaint(self, info: Info[Context, Any], input: Annotated[ResolveComplaintInput, INPUT]
                          ) -> ResolveComplaintPayload:
        ctx = info.context
        return _run(info, "resolveComplaint", input, lambda s: complaints.resolve_complaint(
            s, principal=ctx.principal, work_order_id=_order_id(input.work_order_id), outcome=input.outcome,
            note=input.note, now=ctx.now(), extra=ctx.settings.extra), ResolveComplaintError,
            ResolveComplaintPayload)

    @strawberry.mutation(description="The customer's answer to a complaint's resolution (or an agent recording it): "
                         "accepted closes the order, disputed reopens it.", metadata=allow(SERVICE_REQUESTERS))
    def acknowledge_complaint_resolution(
        self, info: Info[Context, Any], input: Annotated[AcknowledgeComplaintResolutionInput, INPUT]
    ) -> AcknowledgeComplaintResolutionPayload:
        ctx = info.context
        return _run(info, "acknowledgeComplaintResolution", input, lambda s: complaints.acknowledge_resolution(
            s, principal=ctx.principal, work_order_id=_order_id(input.work_order_id), accepted=input.accepted,
            now=ctx.now(), extra=ctx.settings.extra), AcknowledgeComplaintResolutionError,
            AcknowledgeComplaintResolutionPayload)
