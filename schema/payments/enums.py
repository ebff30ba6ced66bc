"""GraphQL enums of the payment rail, each value described."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import strawberry

from resolvers.payments import service as m

__all__ = ["PaymentDirection", "PaymentInstructionState", "PaymentPurpose"]


def _described(cls: type[enum.Enum], *, name: str, description: str, values: Mapping[str, str]) -> Any:
    """``strawberry.enum`` over a domain enum, with one description per member (all required)."""
    mismatch = {member.name for member in cls} ^ set(values)
    if mismatch:
        raise ValueError(f"{name}: describe exactly its members (mismatch: {sorted(mismatch)})")
    wrapped: Any = strawberry.enum(cls, name=name, description=description)
    for value in wrapped.__strawberry_definition__.values:
        value.description = values[value.name]
    return wrapped


PaymentPurpose = _described(m.Purpose, name="PaymentPurpose", description="Why money moves on the rail.", values={
    "CLAIM_PAYOUT": "A claim's approved amount paid out (less what an advance keeps).",
    "ADVANCE_PAYOUT": "An advance paid to the customer in hospital.",
    "REPAYMENT": "An advance's repayment collected by direct debit.",
    "REFUND": "Money paid back to a customer.",
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
