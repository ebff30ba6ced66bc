"""GraphQL enums of the service domain: the service's enums under their schema names, each value described."""

from __future__ import annotations

from resolvers.service import models as m
from schema.enums import described_enum as _described

__all__ = ["ComplaintCategory", "ComplaintChannel", "ComplaintOutcome", "ComplaintSeverity", "ComplaintState",
           "WorkOrderActivityKind", "WorkOrderPriority", "WorkOrderSla", "WorkOrderState", "WorkOrderType"]

WorkOrderType = _described(m.WorkOrderType, name="WorkOrderType", description="What a work order is about.", values={
    "CONSULTATION": "A question or request of a customer (default queue frontline/general).",
    "COMPLAINT": "A complaint (fileComplaint; queue complaints/complaints; the regulator's deadline applies).",
    "CLAIM_FOLLOW_UP": "Following up a claim (queue claims-care/claims).",
    "POLICY_CHANGE": "A change of a policy the customer asked for (queue frontline/policy).",
    "CALLBACK": "A call back to the customer (queue outbound/callback).",
    "HEALTH_SERVICE": "A health-management service request (queue health/health).",
    "INTERNAL": "Internal work, no customer needed (staff only; queue backoffice/general).",
})
WorkOrderState = _described(m.WorkOrderState, name="WorkOrderState", description=(
    "Where a work order stands. Moves: NEW→OPEN|MERGED; OPEN→PENDING_CUSTOMER|PENDING_INTERNAL|RESOLVED|MERGED; "
    "PENDING_*→OPEN|RESOLVED|MERGED; RESOLVED→OPEN|CLOSED; CLOSED and MERGED are final. Any other move is "
    "INVALID_TRANSITION; any change of a final order ORDER_CLOSED."), values={
    "NEW": "Opened, no agent replied yet (the first-response clock runs).",
    "OPEN": "An agent works on it.",
    "PENDING_CUSTOMER": "Waiting for the customer: SLA clocks stop; the customer's reply reopens it.",
    "PENDING_INTERNAL": "Waiting for another team or system: clocks run.",
    "RESOLVED": "Answered; the customer may close it, or reply to reopen it.",
    "CLOSED": "Done: nothing may change.",
    "MERGED": "A duplicate merged into another order (mergedInto): nothing may change.",
})
WorkOrderPriority = _described(m.WorkOrderPriority, name="WorkOrderPriority",
                               description="How urgent an order is; its SLA lengths depend on it.", values={
    "LOW": "First response 8, resolution 80 business hours (defaults).",
    "NORMAL": "First response 4, resolution 40 business hours (defaults).",
    "HIGH": "First response 1, resolution 16 business hours (defaults).",
    "URGENT": "First response 0.5, resolution 8 business hours (defaults).",
})
WorkOrderSla = _described(m.SlaKind, name="WorkOrderSla", description="The SLA clocks of a work order.", values={
    "FIRST_RESPONSE": "The first public reply of an agent.",
    "NEXT_RESPONSE": "A reply of an agent after the customer wrote.",
    "RESOLUTION": "The order resolved.",
    "REGULATOR": "A complaint's decision told to the customer by the regulator's deadline.",
})
WorkOrderActivityKind = _described(m.ActivityKind, name="WorkOrderActivityKind",
                                   description="What a timeline entry records.", values={
    "CREATED": "The order was opened.",
    "STATE_CHANGED": "It moved (fromState, toState).",
    "ASSIGNED": "An agent got it (staff only).",
    "UNASSIGNED": "It left its agent, e.g. silent past the limit (staff only).",
    "TRANSFERRED": "It moved to another team's queue (staff only).",
    "COMMENTED": "A comment was added (customers see public ones).",
    "SLA_BREACHED": "An SLA clock ran out (staff only).",
    "ESCALATED": "It was escalated to a team lead or manager (staff only).",
    "MERGED": "A duplicate was merged into it.",
    "COMPLAINT_RESOLVED": "The complaint's decision was told to the customer.",
    "COMPLAINT_ACKNOWLEDGED": "The customer accepted or disputed the resolution.",
})
ComplaintChannel = _described(m.ComplaintChannel, name="ComplaintChannel", description="Where a complaint came in.",
                              values={
    "PHONE": "The hotline.", "APP": "The mobile app.", "WEB": "The website.", "WECHAT": "WeChat.",
    "EMAIL": "Email.", "LETTER": "A letter.", "BRANCH": "In person at a branch.",
    "REGULATOR": "Forwarded by the regulator (12378): staff only; goes to a manager at once.",
})
ComplaintCategory = _described(m.ComplaintCategory, name="ComplaintCategory",
                               description="What a complaint is about.", values={
    "CLAIM_DECISION": "A claim's decision.", "CLAIM_DELAY": "A claim taking too long.",
    "POLICY_CHANGE": "A change of a policy (an endorsement, a surrender).", "MIS_SELLING": "How a policy was sold.",
    "SERVICE_ATTITUDE": "How an agent behaved.", "PREMIUM_BILLING": "Premiums and billing.",
    "PRIVACY": "Personal data.", "OTHER": "Something else.",
})
ComplaintSeverity = _described(m.ComplaintSeverity, name="ComplaintSeverity",
                               description="How serious a complaint is; it sets the order's priority.", values={
    "LOW": "Priority NORMAL.", "MEDIUM": "Priority NORMAL.", "HIGH": "Priority HIGH.",
    "CRITICAL": "Priority URGENT; escalated to a manager at intake.",
})
ComplaintState = _described(m.ComplaintState, name="ComplaintState", description="Where a complaint stands.",
                            values={
    "RECEIVED": "Taken in; being handled.",
    "ESCALATED": "With a manager (by hand, at intake, or after a missed deadline).",
    "RESOLVED": "The decision was told; waiting for the customer's acknowledgement.",
    "ACKNOWLEDGED": "The customer accepted the resolution; the order is closed.",
    "DISPUTED": "The customer did not accept it; handled again.",
})
ComplaintOutcome = _described(m.ComplaintOutcome, name="ComplaintOutcome",
                              description="The decision told to a complainant.", values={
    "UPHELD": "The complaint is justified; put right in full.",
    "PARTIALLY_UPHELD": "Justified in part.",
    "NOT_UPHELD": "Not justified; the reasons are in the public comment.",
})
