"""Events of the payment rail: an instruction made, settled or returned (no account data, ever)."""

from __future__ import annotations

from decimal import Decimal

from core.event_stream import EventPayload, register_event_type
from core.roles import PAYMENT_READERS

__all__ = ["PaymentInstructed", "PaymentReturnHoldChanged", "PaymentReturned", "PaymentSettled"]


class PaymentInstructed(EventPayload):
    """Money was instructed to move (attempt 2 and later: a re-instruction of a returned payment)."""

    instruction_id: int
    purpose: str
    source_id: int
    attempt: int
    amount: Decimal


class PaymentSettled(EventPayload):
    """The bank settled an instruction."""

    instruction_id: int
    purpose: str
    source_id: int
    amount: Decimal


class PaymentReturned(EventPayload):
    """The bank returned an instruction, with its reason code."""

    instruction_id: int
    purpose: str
    source_id: int
    amount: Decimal
    return_code: str


register_event_type("payment.instructed", 1, PaymentInstructed, aggregate="PaymentInstruction",
                    readers=PAYMENT_READERS)
register_event_type("payment.settled", 1, PaymentSettled, aggregate="PaymentInstruction", readers=PAYMENT_READERS)
register_event_type("payment.returned", 1, PaymentReturned, aggregate="PaymentInstruction", readers=PAYMENT_READERS)


class PaymentReturnHoldChanged(EventPayload):
    """A returns line was held (its owner's handler failed), dead-lettered, requeued or finally applied."""

    hold_id: int
    reference: str
    state: str
    attempts: int
    error: str  # the handler's error class, never its message


register_event_type("payment.return_hold_changed", 1, PaymentReturnHoldChanged, aggregate="PaymentReturnHold",
                    readers=PAYMENT_READERS)
