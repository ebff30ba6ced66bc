"""GraphQL enums of advances, each value described."""

from __future__ import annotations

import enum

from resolvers.advances import models as m
from schema.enums import described_enum as _described

__all__ = ["AdvanceDecision", "AdvanceMovementKind", "AdvanceMovementState", "AdvanceState", "RepaymentChannel"]




AdvanceState = _described(m.AdvanceState, name="AdvanceState", description="Where an advance stands.", values={
    "IN_REVIEW": "Waiting for an officer's decision (no credit report at or above the pay-first band).",
    "APPROVED": "Approved; its payout is instructed on the rail (or waits for the customer's bank account).",
    "REJECTED": "Refused in review.",
    "PAID": "Paid out (the bank settled it); instalments run until it is repaid or kept from the claim.",
    "OVERDUE": "An instalment is past due and not covered.",
    "DEFAULTED": "Overdue beyond the grace period: what was outstanding is written off.",
    "CLOSED": "Nothing outstanding: repaid and/or kept from the claim payment.",
})
AdvanceDecision = _described(m.Decision, name="AdvanceDecision", description="How an advance was decided.", values={
    "PAY_FIRST": "Approved at once on a credit provider's signed report at or above the configured band.",
    "MANUAL_APPROVED": "Approved by an officer in review.",
    "MANUAL_REJECTED": "Rejected by an officer in review.",
})


class _Channel(enum.Enum):
    TRANSFER = "transfer"
    DIRECT_DEBIT = "direct_debit"


RepaymentChannel = _described(_Channel, name="RepaymentChannel", description="How a repayment arrives.", values={
    "TRANSFER": "A transfer the customer made, received and recorded now (applies at once).",
    "DIRECT_DEBIT": "Collected from the customer's account through the payment rail (applies when settled).",
})
AdvanceMovementKind = _described(m.MovementKind, name="AdvanceMovementKind", description="What reduced what is "
                                 "outstanding.", values={
    "REPAYMENT": "The customer repaid (a transfer recorded, or a direct debit).",
    "OFFSET": "Kept from the claim payment.",
    "WRITE_OFF": "Written off when the advance defaulted.",
})
AdvanceMovementState = _described(m.MovementState, name="AdvanceMovementState", description="Whether a movement "
                                  "has applied.", values={
    "INSTRUCTED": "A direct debit waiting for the bank (counts against what may still be repaid).",
    "APPLIED": "Applied to the balances.",
    "FAILED": "A direct debit the bank returned: nothing applied.",
})
