"""Object types of the payment rail: payee accounts (masked by role) and payment instructions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.types import Info

from core.masking import mask_name
from core.roles import PAYEE_ACCOUNT_READERS, PAYMENT_READERS
from resolvers.payments import service
from resolvers.payments.scoping import may_see_account_number
from schema.context import Context
from schema.payments.enums import (
    PaymentDirection,
    PaymentInstructionState,
    PaymentPurpose,
    PaymentReturnHoldState,
)
from schema.payments.loaders import PayeeAccountByIdLoader
from schema.permissions import access
from schema.relay import Node, encode_global_id
from schema.scalars import Money

__all__ = ["PayeeAccount", "PaymentInstruction"]


@strawberry.type(description="A bank account a customer or partner is paid into (and debited from). The number "
                 "and holder are sealed at rest; only the holder and payment operators read them in full.")
@access(PAYEE_ACCOUNT_READERS)
class PayeeAccount(Node):
    bank_code: str = strawberry.field(description="The bank's code (3-12 capital letters or digits).")
    last4: str = strawberry.field(description="The account number's last four digits.")
    active: bool = strawberry.field(description="Whether payouts go here (the newest active account is used).")
    created_at: dt.datetime = strawberry.field(description="When it was registered.")
    row: strawberry.Private[service.PayeeAccount]

    @strawberry.field(description="The account number: in full for the holder and payment operators, else masked "
                      "to its last four digits.")
    def account_number(self, info: Info[Context, Any]) -> str:
        if may_see_account_number(info.context.principal, self.row):
            return self.row.account_number
        return "*" * 12 + self.row.last4

    @strawberry.field(description="The account holder's name: in full for the holder and payment operators, else "
                      "masked.")
    def holder_name(self, info: Info[Context, Any]) -> str:
        name = self.row.holder_name
        return name if may_see_account_number(info.context.principal, self.row) else mask_name(name)

    @classmethod
    def from_row(cls, r: service.PayeeAccount) -> PayeeAccount:
        return cls(id=strawberry.ID(encode_global_id("PayeeAccount", r.id)), bank_code=r.bank_code, last4=r.last4,
                   active=r.active, created_at=r.created_at, row=r)


@strawberry.type(description="Money to move once on the payment rail: instructed → settled | failed (returned by "
                 "the bank with its reason code); a failed one is instructed again as the next attempt.")
@access(PAYMENT_READERS)
class PaymentInstruction(Node):
    reference: str = strawberry.field(description="The instruction's reference in bank files (PI + 12 hex digits).")
    purpose: PaymentPurpose = strawberry.field(description="Why the money moves.")  # type: ignore[valid-type]
    direction: PaymentDirection = strawberry.field(description="Paid to or collected from the account.")  # type: ignore[valid-type]
    attempt: int = strawberry.field(description="1, then 2 after a return, ...")
    amount: Money = strawberry.field(description="The amount (CNY).")
    state: PaymentInstructionState = strawberry.field(description="Where it stands.")  # type: ignore[valid-type]
    return_code: str | None = strawberry.field(description="The bank's reason for a return (ISO 20022 style, e.g. "
                                               "AC04 closed account); null unless FAILED.")
    created_at: dt.datetime = strawberry.field(description="When it was instructed.")
    settled_at: dt.datetime | None = strawberry.field(description="When the bank's settlement was read.")
    failed_at: dt.datetime | None = strawberry.field(description="When the bank's return was read.")
    exported: bool = strawberry.field(description="Whether it went to the bank in a batch file.")
    source_id: strawberry.ID | None = strawberry.field(description="What it pays, for node(id:): a ClaimPayment "
                                                       "(claim payouts) or an Advance (advance payouts); null for "
                                                       "repayments and refunds.")
    account_id: strawberry.Private[int]

    @strawberry.field(description="The account paid (or debited).")
    def payee_account(self, info: Info[Context, Any]) -> PayeeAccount:
        return info.context.loader(PayeeAccountByIdLoader).get_wrapped(  # type: ignore[no-any-return]
            self.account_id, PayeeAccount.from_row)

    @classmethod
    def from_row(cls, r: service.PaymentInstruction) -> PaymentInstruction:
        return cls(id=strawberry.ID(encode_global_id("PaymentInstruction", r.id)), reference=r.reference,
                   purpose=r.purpose, direction=r.direction, attempt=r.attempt, amount=r.amount, state=r.state,
                   return_code=r.return_code, created_at=r.created_at, settled_at=r.settled_at,
                   failed_at=r.failed_at, exported=r.batch_id is not None, account_id=r.payee_account_id,
                   source_id=_source(r))


_SOURCES = {service.Purpose.CLAIM_PAYOUT: "ClaimPayment", service.Purpose.ADVANCE_PAYOUT: "Advance"}


def _source(r: service.PaymentInstruction) -> strawberry.ID | None:
    kind = _SOURCES.get(r.purpose)
    return None if kind is None else strawberry.ID(encode_global_id(kind, r.source_id))


@strawberry.type(description="A line of a bank returns file held back because its owner could not apply it (the "
                             "rest of the file applied): retried, dead-lettered after the last attempt, never lost.")
@access(PAYMENT_READERS)
class PaymentReturnHold(Node):
    state: PaymentReturnHoldState = strawberry.field(description="Retrying, dead-lettered or applied.")  # type: ignore[valid-type]
    attempts: int = strawberry.field(description="Attempts so far (the import's included; 0 after a requeue).")
    last_error: str = strawberry.field(description="The failing handler's error class (never its message), or the "
                                       "rail's code for a line it refused when applied.")
    reference: str = strawberry.field(description="The instruction's reference the line answers.")
    settled: bool = strawberry.field(description="The bank's answer: settled (true) or returned (false).")
    amount: Money = strawberry.field(description="The amount on the line (CNY).")
    detail: str = strawberry.field(description="The bank's transaction id (settled) or return reason code.")
    file_name: str = strawberry.field(description="The returns file it came in.")
    line_no: int = strawberry.field(description="Its line number in that file.")
    next_attempt_at: dt.datetime | None = strawberry.field(description="When it is retried next (null unless "
                                                           "RETRYING).")
    applied_at: dt.datetime | None = strawberry.field(description="When it was finally applied.")
    created_at: dt.datetime = strawberry.field(description="When it was first held.")

    @classmethod
    def from_row(cls, r: service.ReturnHold) -> PaymentReturnHold:
        return cls(id=strawberry.ID(encode_global_id("PaymentReturnHold", r.id)), state=r.state, attempts=r.attempts,
                   last_error=r.last_error, reference=r.reference, settled=r.settled, amount=r.amount,
                   detail=r.detail, file_name=r.file_name, line_no=r.line_no, next_attempt_at=r.next_attempt_at,
                   applied_at=r.applied_at, created_at=r.created_at)
