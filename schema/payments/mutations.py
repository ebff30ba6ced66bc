"""Mutations of the rail: register a payee's bank account; instruct a returned payment again."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.roles import PAYEE_ACCOUNT_WRITERS, PAYMENT_OPERATORS
from resolvers.payments import service
from schema.context import Context
from schema.errors import run_mutation
from schema.payments.errors import (
    RegisterPayeeAccountError,
    ReinstructPaymentError,
    RequeuePaymentReturnHoldError,
)
from schema.payments.queries import _owner
from schema.payments.types import PayeeAccount, PaymentInstruction, PaymentReturnHold
from schema.permissions import PUBLIC, access, allow
from schema.relay import decode_global_id, encode_global_id

__all__ = ["PaymentsMutation"]

INPUT = strawberry.argument(description="What to do; each field's description says its limits.")
ERRORS_DOC = "Every refusal (empty on success): field, code, message."


@strawberry.input(description="A bank account to pay a customer or partner into (it becomes the one used).")
class RegisterPayeeAccountInput:
    owner: strawberry.ID = strawberry.field(description="The Customer or Partner global id (a customer or partner: "
                                            "itself).")
    bank_code: str = strawberry.field(description="The bank's code: 3-12 capital letters or digits.")
    account_number: str = strawberry.field(description="8-30 digits (spaces and dashes are ignored). Sealed at rest.")
    holder_name: str = strawberry.field(description="The account holder's name, 1-100 characters. Sealed at rest.")


@strawberry.input(description="A returned payment to instruct again, and the key that makes retries safe.")
class ReinstructPaymentInput:
    instruction_id: strawberry.ID = strawberry.field(description="The FAILED PaymentInstruction's global id.")
    idempotency_key: str = strawberry.field(description="8-80 of letters, digits and . _ : -; a retry with the "
                                            "same key answers the same new attempt.")


@strawberry.input(description="A dead-lettered returns line to retry (once its owner's fault is fixed).")
class RequeuePaymentReturnHoldInput:
    hold_id: strawberry.ID = strawberry.field(description="The DEAD_LETTER PaymentReturnHold's global id.")


@strawberry.type(description="The result of requeuePaymentReturnHold.")
@access(PUBLIC)
class RequeuePaymentReturnHoldPayload:
    hold: PaymentReturnHold | None = strawberry.field(description="The line, RETRYING (null when refused).")
    errors: list[RequeuePaymentReturnHoldError] = strawberry.field(  # type: ignore[valid-type]
        description=ERRORS_DOC)


@strawberry.type(description="The result of registerPayeeAccount.")
@access(PUBLIC)
class RegisterPayeeAccountPayload:
    account: PayeeAccount | None = strawberry.field(description="The account (null when refused).")
    errors: list[RegisterPayeeAccountError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of reinstructPayment.")
@access(PUBLIC)
class ReinstructPaymentPayload:
    instruction: PaymentInstruction | None = strawberry.field(description="The new attempt (null when refused).")
    errors: list[ReinstructPaymentError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


def _account_target(row: Any) -> str | None:
    return None if row is None else encode_global_id("PayeeAccount", row.id)


def _instruction_target(row: Any) -> str | None:
    return None if row is None else encode_global_id("PaymentInstruction", row.id)


@strawberry.type
class PaymentsMutation:
    @strawberry.mutation(description="Register the bank account a customer or partner is paid into; every input "
                         "error at once. The newest active account is paid; earlier instructions keep theirs.",
                         metadata=allow(PAYEE_ACCOUNT_WRITERS))
    def register_payee_account(self, info: Info[Context, Any],
                               input: Annotated[RegisterPayeeAccountInput, INPUT]) -> RegisterPayeeAccountPayload:
        ctx = info.context
        row, errors = run_mutation(info, "registerPayeeAccount", {"owner": input.owner, "bankCode": input.bank_code},
                                   lambda s: service.register_account(
                                       s, principal=ctx.principal, payee=_owner(input.owner),
                                       bank_code=input.bank_code, account_number=input.account_number,
                                       holder_name=input.holder_name),
                                   target=_account_target, codes=RegisterPayeeAccountError)
        return RegisterPayeeAccountPayload(account=PayeeAccount.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Instruct a payment the bank returned again, as its next attempt, to the "
                         "payee's current account. Never doubles: another live attempt is ALREADY_INSTRUCTED.",
                         metadata=allow(PAYMENT_OPERATORS))
    def reinstruct_payment(self, info: Info[Context, Any],
                           input: Annotated[ReinstructPaymentInput, INPUT]) -> ReinstructPaymentPayload:
        ctx = info.context
        row, errors = run_mutation(info, "reinstructPayment", input, lambda s: service.reinstruct(
            s, principal=ctx.principal, idempotency_key=input.idempotency_key, now=ctx.now(),
            instruction_id=decode_global_id(input.instruction_id, "PaymentInstruction", field="instructionId")),
            target=_instruction_target, codes=ReinstructPaymentError)
        return ReinstructPaymentPayload(instruction=PaymentInstruction.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Retry a dead-lettered returns line (attempts from zero, due at once); the "
                         "payments.retry_held_returns job applies it.", metadata=allow(PAYMENT_OPERATORS))
    def requeue_payment_return_hold(
        self, info: Info[Context, Any], input: Annotated[RequeuePaymentReturnHoldInput, INPUT],
    ) -> RequeuePaymentReturnHoldPayload:
        ctx = info.context
        row, errors = run_mutation(info, "requeuePaymentReturnHold", input, lambda s: service.requeue_hold(
            s, hold_id=decode_global_id(input.hold_id, "PaymentReturnHold", field="holdId"), at=ctx.now()),
            target=lambda r: None if r is None else encode_global_id("PaymentReturnHold", r.id),
            codes=RequeuePaymentReturnHoldError)
        return RequeuePaymentReturnHoldPayload(hold=PaymentReturnHold.from_row(row) if row else None, errors=errors)
