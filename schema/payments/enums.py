"""GraphQL enums of the payment rail, each value described."""

from __future__ import annotations

from resolvers.payments import service as m
from schema.enums import described_enum as _described

__all__ = ["PaymentDirection", "PaymentInstructionState", "PaymentPurpose", "PaymentReturnHoldState"]




PaymentPurpose = _described(m.Purpose, name="PaymentPurpose", description="Why money moves on the rail.", values={
    "CLAIM_PAYOUT": "A claim's approved amount paid out (less what an advance keeps).",
    "ADVANCE_PAYOUT": "An advance paid to the customer in hospital.",
    "REPAYMENT": "An advance's repayment collected by direct debit.",
    "REFUND": "A premium refund to the customer: a policy cancelled in its cooling-off period or surrendered.",
})
PaymentDirection = _described(m.Direction, name="PaymentDirection", description="Which way the money goes.",
                              values={"CREDIT": "Paid to the account.", "DEBIT": "Collected from the account."})
PaymentInstructionState = _described(m.InstructionState, name="PaymentInstructionState",
                                     description="Where an instruction stands: instructed → settled | failed.",
                                     values={
    "INSTRUCTED": "Waiting for the bank (in a batch file once exported).",
    "SETTLED": "Settled by the bank (its returns file said so).",
    "FAILED": "Returned by the bank with a reason code; reinstructPayment makes the next attempt.",
})
PaymentReturnHoldState = _described(m.ReturnHoldState, name="PaymentReturnHoldState",
                                    description="A returns line whose owner's handler failed: retried, then "
                                                "dead-lettered.", values={
    "RETRYING": "Retried with backoff (2, 4, 8, 16 minutes) by the payments.retry_held_returns job.",
    "DEAD_LETTER": "Every attempt failed: kept whole for finance; requeuePaymentReturnHold retries it again.",
    "APPLIED": "Applied on a later attempt (its instruction settled or failed then).",
})
