"""Input types of the service domain's mutations (each field's description says its limits)."""

from __future__ import annotations

import strawberry

from schema.service.enums import (
    ComplaintCategory,
    ComplaintChannel,
    ComplaintOutcome,
    ComplaintSeverity,
    WorkOrderPriority,
    WorkOrderState,
    WorkOrderType,
)

__all__ = ["AcknowledgeComplaintResolutionInput", "AssignWorkOrderInput", "CommentOnWorkOrderInput",
           "EscalateComplaintInput", "FileComplaintInput", "MergeWorkOrdersInput", "MoveWorkOrderInput",
           "OpenWorkOrderInput", "ResolveComplaintInput", "SetServiceAgentInput", "TransferWorkOrderInput",
           "WorkOrderActionInput", "WorkOrderFilter"]

_ORDER = "The WorkOrder's global id."
_VERSION = "The version last read (optional): a newer one refuses with STALE_VERSION."
_SUBJECT = "A one-line summary: 1-200 characters, kept exactly as written (markup and SQL are plain text)."
_DESCRIPTION = "The request in full: at most 4,000 characters, kept exactly as written."
_QUEUE = "2-40 of a-z, 0-9, - and _."


@strawberry.input(description="Open a work order (customers: for themselves, in the default queues).")
class OpenWorkOrderInput:
    type: WorkOrderType = strawberry.field(description="What it is about (INTERNAL: staff only).")  # type: ignore[valid-type]
    subject: str = strawberry.field(description=_SUBJECT)
    description: str | None = strawberry.field(default=None, description=_DESCRIPTION)
    priority: WorkOrderPriority = strawberry.field(  # type: ignore[valid-type]
        default=WorkOrderPriority.NORMAL, description="How urgent (default NORMAL; customers: LOW or NORMAL).")
    customer_id: strawberry.ID | None = strawberry.field(default=None, description="The Customer's global id (a "
                                                         "customer: their own, or leave it out).")
    policy_id: strawberry.ID | None = strawberry.field(default=None, description="A Policy of the customer.")
    claim_id: strawberry.ID | None = strawberry.field(default=None, description="A Claim of the customer.")
    advance_id: strawberry.ID | None = strawberry.field(default=None, description="An Advance of the customer.")
    team: str | None = strawberry.field(default=None, description=f"The team's queue (staff; default by type). "
                                                                  f"{_QUEUE}")
    skill: str | None = strawberry.field(default=None, description=f"The skill it needs (staff; default by type). "
                                                                   f"{_QUEUE}")


@strawberry.input(description="Move a work order in its state machine.")
class MoveWorkOrderInput:
    work_order_id: strawberry.ID = strawberry.field(description=_ORDER)
    state: WorkOrderState = strawberry.field(description="The state to move to (a customer: CLOSED only).")  # type: ignore[valid-type]
    expected_version: int | None = strawberry.field(default=None, description=_VERSION)


@strawberry.input(description="Comment on a work order.")
class CommentOnWorkOrderInput:
    work_order_id: strawberry.ID = strawberry.field(description=_ORDER)
    body: str = strawberry.field(description="1-4,000 characters, kept exactly as written.")
    internal: bool = strawberry.field(default=False, description="Staff only: never shown to the customer.")


@strawberry.input(description="Give a work order to an agent.")
class AssignWorkOrderInput:
    work_order_id: strawberry.ID = strawberry.field(description=_ORDER)
    agent_id: strawberry.ID | None = strawberry.field(default=None, description="The ServiceAgent's global id "
                                                      "(team leads and managers); null: take it yourself.")


@strawberry.input(description="Move a work order to another team's queue.")
class TransferWorkOrderInput:
    work_order_id: strawberry.ID = strawberry.field(description=_ORDER)
    team: str = strawberry.field(description=f"The team. {_QUEUE}")
    skill: str | None = strawberry.field(default=None, description=f"The skill (default: unchanged). {_QUEUE}")


@strawberry.input(description="Merge a duplicate work order into another of the same customer.")
class MergeWorkOrdersInput:
    work_order_id: strawberry.ID = strawberry.field(description="The duplicate (it becomes MERGED).")
    into_id: strawberry.ID = strawberry.field(description="The surviving WorkOrder's global id.")


@strawberry.input(description="An agent's routing profile.")
class SetServiceAgentInput:
    subject: str = strawberry.field(description="The agent's staff token subject (1-200 characters).")
    team: str = strawberry.field(description=f"Their team. {_QUEUE}")
    skills: list[str] = strawberry.field(description=f"1-20 skills, each {_QUEUE}")
    capacity: int = strawberry.field(description="Most open orders at once: 0-1,000, not below what they hold.")
    active: bool = strawberry.field(default=True, description="Whether routing gives them orders.")


@strawberry.input(description="Take in a complaint.")
class FileComplaintInput:
    channel: ComplaintChannel = strawberry.field(description="Where it came in.")  # type: ignore[valid-type]
    category: ComplaintCategory = strawberry.field(description="What it is about.")  # type: ignore[valid-type]
    severity: ComplaintSeverity = strawberry.field(description="How serious (sets the priority).")  # type: ignore[valid-type]
    subject: str = strawberry.field(description=_SUBJECT)
    description: str | None = strawberry.field(default=None, description=_DESCRIPTION)
    customer_id: strawberry.ID | None = strawberry.field(default=None, description="The Customer's global id.")
    cause_claim_id: strawberry.ID | None = strawberry.field(default=None, description="The Claim that caused it.")
    cause_policy_id: strawberry.ID | None = strawberry.field(default=None, description="The Policy whose change "
                                                                                     "caused it.")
    cause_agent: str | None = strawberry.field(default=None, description="The staff subject whose conduct caused it "
                                                                         "(staff only).")


@strawberry.input(description="One complaint's work order.")
class WorkOrderActionInput:
    work_order_id: strawberry.ID = strawberry.field(description=_ORDER)


@strawberry.input(description="Escalate a complaint to a manager.")
class EscalateComplaintInput:
    work_order_id: strawberry.ID = strawberry.field(description=_ORDER)
    manager: str = strawberry.field(description="The manager's staff subject (1-200 characters).")


@strawberry.input(description="Tell the complainant the decision.")
class ResolveComplaintInput:
    work_order_id: strawberry.ID = strawberry.field(description=_ORDER)
    outcome: ComplaintOutcome = strawberry.field(description="The decision.")  # type: ignore[valid-type]
    note: str = strawberry.field(description="The decision in words, posted as a public comment (1-4,000 "
                                             "characters).")


@strawberry.input(description="The customer's answer to a complaint's resolution.")
class AcknowledgeComplaintResolutionInput:
    work_order_id: strawberry.ID = strawberry.field(description=_ORDER)
    accepted: bool = strawberry.field(description="true: accepted, the order closes; false: disputed, it reopens.")


@strawberry.input(description="Which work orders to list.")
class WorkOrderFilter:
    states: list[WorkOrderState] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only these states (all when null).")
    types: list[WorkOrderType] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only these types.")
    team: str | None = strawberry.field(default=None, description="Only this team's queue (staff).")
    assignee_id: strawberry.ID | None = strawberry.field(default=None, description="Only this ServiceAgent's.")
    unassigned: bool | None = strawberry.field(default=None, description="true: only open orders nobody holds.")
    customer_id: strawberry.ID | None = strawberry.field(default=None, description="Only this Customer's.")
    escalated: bool | None = strawberry.field(default=None, description="true: only open escalated orders.")
