"""Mutations of advances: apply, review, pay, record a repayment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.clock import business_date
from core.roles import ADVANCE_APPLICANTS, ADVANCE_OFFICERS
from resolvers.advances import models as m
from resolvers.advances import service
from schema.advances.enums import RepaymentChannel
from schema.advances.errors import (
    ApplyAdvanceError,
    PayAdvanceError,
    RecordAdvanceRepaymentError,
    ReviewAdvanceError,
)
from schema.advances.types import Advance
from schema.context import Context
from schema.errors import run_mutation
from schema.permissions import PUBLIC, access, allow
from schema.relay import decode_global_id, encode_global_id
from schema.scalars import Money

__all__ = ["AdvancesMutation"]

INPUT = strawberry.argument(description="What to do; each field's description says its limits.")
ERRORS_DOC = "Every refusal (empty on success): field, code, message."
ADVANCE_DOC = "The advance as the mutation left it (null when refused)."
_ADVANCE_ID = "The advance's global id."
_KEY = "8-80 of letters, digits and . _ : -; a retry with the same key is a no-op."


@strawberry.input(description="An application for an advance against an expected claim.")
class ApplyAdvanceInput:
    policy_id: strawberry.ID = strawberry.field(description="The policy (a customer: their own).")
    diagnosis_code: str = strawberry.field(description="The admission's ICD-10 diagnosis (WHO list).")
    admission_date: dt.date = strawberry.field(description="The hospital admission date: not after today.")
    hospital: str = strawberry.field(description="The hospital, 1-200 characters.")
    amount: Money = strawberry.field(description="The amount asked for: at most the product's advance cap and the "
                                     "configured share of the annual limit still open.")
    credit_report_id: strawberry.ID | None = strawberry.field(
        default=None, description="A credit provider's signed CreditReport (SignedRecord) for the case "
        "ADV-<policy number>, at most 30 days old; at or above the pay-first band it approves at once.")


@strawberry.input(description="An officer's decision on an advance in review.")
class ReviewAdvanceInput:
    advance_id: strawberry.ID = strawberry.field(description=_ADVANCE_ID)
    approve: bool = strawberry.field(description="True approves (and instructs the payout), false rejects.")
    expected_version: int | None = strawberry.field(default=None, description="The version read (optimistic "
                                                    "locking); STALE_VERSION when it changed.")


@strawberry.input(description="Pay an approved advance once.")
class PayAdvanceInput:
    advance_id: strawberry.ID = strawberry.field(description=_ADVANCE_ID)
    idempotency_key: str = strawberry.field(description=_KEY)


@strawberry.input(description="A repayment of an advance.")
class RecordAdvanceRepaymentInput:
    advance_id: strawberry.ID = strawberry.field(description=_ADVANCE_ID)
    amount: Money = strawberry.field(description="At most what is still owed (direct debits on their way count).")
    channel: RepaymentChannel = strawberry.field(description="How it arrives.")  # type: ignore[valid-type]
    idempotency_key: str = strawberry.field(description=_KEY)


@strawberry.type(description="The result of applyAdvance.")
@access(PUBLIC)
class ApplyAdvancePayload:
    advance: Advance | None = strawberry.field(description=ADVANCE_DOC)
    errors: list[ApplyAdvanceError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of reviewAdvance.")
@access(PUBLIC)
class ReviewAdvancePayload:
    advance: Advance | None = strawberry.field(description=ADVANCE_DOC)
    errors: list[ReviewAdvanceError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of payAdvance.")
@access(PUBLIC)
class PayAdvancePayload:
    advance: Advance | None = strawberry.field(description=ADVANCE_DOC)
    errors: list[PayAdvanceError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of recordAdvanceRepayment.")
@access(PUBLIC)
class RecordAdvanceRepaymentPayload:
    advance: Advance | None = strawberry.field(description=ADVANCE_DOC)
    errors: list[RecordAdvanceRepaymentError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


def _target(row: Any) -> str | None:
    return None if row is None else encode_global_id("Advance", row.id)


def _advance_id(value: strawberry.ID) -> int:
    return decode_global_id(value, "Advance", field="advanceId")


def _fresh(info: Info[Context, Any], advance_id: int) -> Advance:
    ctx = info.context
    return Advance.from_row(service.get_advance(ctx.session, principal=ctx.principal, advance_id=advance_id))


@strawberry.type
class AdvancesMutation:
    @strawberry.mutation(description="Apply for an advance against an expected claim (the customer for themself, "
                         "an agent for them); every input error at once. A signed credit report at or above the "
                         "pay-first band approves it at once and instructs the payout; otherwise it waits for "
                         "review.", metadata=allow(ADVANCE_APPLICANTS))
    def apply_advance(self, info: Info[Context, Any], input: Annotated[ApplyAdvanceInput, INPUT]) -> ApplyAdvancePayload:
        ctx = info.context
        now = ctx.now()
        report = None if input.credit_report_id is None else decode_global_id(
            input.credit_report_id, "SignedRecord", field="creditReportId")
        row, errors = run_mutation(info, "applyAdvance", input, lambda s: service.apply_advance(
            s, principal=ctx.principal, policy_id=decode_global_id(input.policy_id, "Policy", field="policyId"),
            diagnosis_code=input.diagnosis_code, admission_date=input.admission_date, hospital=input.hospital,
            amount=Decimal(str(input.amount)), credit_report_id=report, today=business_date(now), now=now,
            config=service.AdvanceConfig.from_extra(ctx.settings.extra)), target=_target, codes=ApplyAdvanceError)
        return ApplyAdvancePayload(advance=_fresh(info, row.id) if row else None, errors=errors)

    @strawberry.mutation(description="Decide an advance in review: approve (its payout is instructed) or reject.",
                         metadata=allow(ADVANCE_OFFICERS))
    def review_advance(self, info: Info[Context, Any],
                       input: Annotated[ReviewAdvanceInput, INPUT]) -> ReviewAdvancePayload:
        ctx = info.context
        row, errors = run_mutation(info, "reviewAdvance", input, lambda s: service.review_advance(
            s, principal=ctx.principal, advance_id=_advance_id(input.advance_id), approve=input.approve,
            expected_version=input.expected_version, now=ctx.now()), target=_target, codes=ReviewAdvanceError)
        return ReviewAdvancePayload(advance=_fresh(info, row.id) if row else None, errors=errors)

    @strawberry.mutation(description="Instruct an approved advance's payout once (a returned payout: again, as its "
                         "next attempt). The same key answers the same; another key while paid or on its way: "
                         "ALREADY_PAID.", metadata=allow(ADVANCE_OFFICERS))
    def pay_advance(self, info: Info[Context, Any], input: Annotated[PayAdvanceInput, INPUT]) -> PayAdvancePayload:
        ctx = info.context
        row, errors = run_mutation(info, "payAdvance", input, lambda s: service.pay_advance(
            s, principal=ctx.principal, advance_id=_advance_id(input.advance_id),
            idempotency_key=input.idempotency_key, now=ctx.now()), target=_target, codes=PayAdvanceError)
        return PayAdvancePayload(advance=_fresh(info, row.id) if row else None, errors=errors)

    @strawberry.mutation(description="Record a repayment once per key: a transfer applies now, a direct debit when "
                         "the bank settles it. More than is owed: REPAYMENT_EXCEEDS_BALANCE.",
                         metadata=allow(ADVANCE_OFFICERS))
    def record_advance_repayment(self, info: Info[Context, Any], input: Annotated[RecordAdvanceRepaymentInput, INPUT]
                                 ) -> RecordAdvanceRepaymentPayload:
        ctx = info.context
        channel = service.RepaymentChannel.DIRECT_DEBIT if input.channel.value == "direct_debit" else \
            service.RepaymentChannel.TRANSFER
        row, errors = run_mutation(info, "recordAdvanceRepayment", input, lambda s: service.record_repayment(
            s, principal=ctx.principal, advance_id=_advance_id(input.advance_id), amount=Decimal(str(input.amount)),
            idempotency_key=input.idempotency_key, channel=channel, today=business_date(ctx.now())),
            target=lambda r: None if r is None else encode_global_id("Advance", r.advance_id),
            codes=RecordAdvanceRepaymentError)
        advance_id = row.advance_id if isinstance(row, m.Movement) else None
        return RecordAdvanceRepaymentPayload(advance=_fresh(info, advance_id) if advance_id else None, errors=errors)
