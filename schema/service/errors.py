"""The error type of every service mutation: ``<Mutation>Error`` with its own ``<Mutation>ErrorCode``.

Each lists exactly the codes its services (``resolvers/service/*``) refuse with, plus the codes every
mutation can get (``schema.errors.COMMON_CODES``).
"""

from __future__ import annotations

from schema.errors import mutation_errors

__all__ = ["AcknowledgeComplaintResolutionError", "AssignWorkOrderError", "CommentOnWorkOrderError",
           "EscalateComplaintError", "ExtendComplaintDeadlineError", "FileComplaintError", "MergeWorkOrdersError",
           "MoveWorkOrderError", "OpenWorkOrderError", "ResolveComplaintError", "SetServiceAgentError",
           "TransferWorkOrderError"]

_CLOSED = {"ORDER_CLOSED": "The work order is CLOSED or MERGED: nothing may change."}
_TRANSITION = {"INVALID_TRANSITION": "The move is not in the state machine (see WorkOrderState): states may not be "
                                     "skipped."}
_CALENDAR = {"CALENDAR_UNKNOWN_YEAR": "A deadline falls in a year whose public holidays are not published yet."}
_TEXT = {
    "EMPTY_TEXT": "The text is empty or only spaces.",
    "TEXT_TOO_LONG": "The text is longer than its limit (subject 200, other text 4,000 characters).",
    "BAD_TEXT": "The text contains a NUL character.",
}
_CUSTOMER = {"NOT_ALLOWED_FOR_CUSTOMER": "A customer may not do this (internal comments or orders, other queues, "
                                         "HIGH or URGENT priority, moves other than closing a resolved order, "
                                         "naming agents)."}
_OPEN = {
    **_TEXT, **_CUSTOMER, **_CALENDAR,
    "BAD_QUEUE": "team or skill is not 2-40 of a-z, 0-9, - and _.",
    "LINK_MISMATCH": "The linked policy, claim or advance belongs to another customer.",
    "CUSTOMER_REQUIRED": "A customer request names its customer (or a policy, claim or advance of theirs).",
}
_COMPLAINT = {"NOT_A_COMPLAINT": "The work order is no complaint.", **_CLOSED}

OpenWorkOrderError = mutation_errors("OpenWorkOrder", _OPEN)
MoveWorkOrderError = mutation_errors("MoveWorkOrder", {**_CLOSED, **_TRANSITION, **_CUSTOMER, **_CALENDAR})
CommentOnWorkOrderError = mutation_errors("CommentOnWorkOrder", {**_CLOSED, **_TRANSITION, **_TEXT, **_CUSTOMER,
                                                                 **_CALENDAR})
AssignWorkOrderError = mutation_errors("AssignWorkOrder", {
    **_CLOSED, **_TRANSITION,
    "NO_AGENT_PROFILE": "You have no agent profile (setServiceAgent) to take orders with.",
    "NOT_SUPERVISOR": "Only team leads and managers assign orders to others.",
    "AGENT_NOT_QUALIFIED": "The agent does not work the order's team and skill, or is inactive.",
    "ALREADY_ASSIGNED": "The agent holds this order already.",
    "AGENT_FULL": "The agent holds as many orders as their capacity.",
})
TransferWorkOrderError = mutation_errors("TransferWorkOrder", {
    **_CLOSED, **_TRANSITION, "BAD_QUEUE": _OPEN["BAD_QUEUE"], "SAME_QUEUE": "The order is in that queue already.",
})
MergeWorkOrdersError = mutation_errors("MergeWorkOrders", {
    **_CLOSED, **_TRANSITION, "SAME_ORDER": "An order cannot be merged into itself.",
    "LINK_MISMATCH": "The two orders are different customers'.",
})
SetServiceAgentError = mutation_errors("SetServiceAgent", {
    "BAD_QUEUE": "team or a skill is not 2-40 of a-z, 0-9, - and _ (or no skills, or more than 20).",
    "BAD_CAPACITY": "capacity is not 0-1,000.",
    "CAPACITY_BELOW_LOAD": "The agent holds more orders than the new capacity.",
})
FileComplaintError = mutation_errors("FileComplaint", _OPEN)
EscalateComplaintError = mutation_errors("EscalateComplaint", {**_COMPLAINT, **_TRANSITION})
ExtendComplaintDeadlineError = mutation_errors("ExtendComplaintDeadline", {
    **_COMPLAINT, "NOT_SUPERVISOR": "Only team leads and managers extend a deadline.",
    "ALREADY_EXTENDED": "The deadline was extended already.",
})
ResolveComplaintError = mutation_errors("ResolveComplaint", {**_COMPLAINT, **_TRANSITION, **_TEXT, **_CALENDAR})
AcknowledgeComplaintResolutionError = mutation_errors("AcknowledgeComplaintResolution", {
    **_COMPLAINT, **_TRANSITION, **_CALENDAR, "NOT_RESOLVED": "Only a resolved complaint is acknowledged.",
})
