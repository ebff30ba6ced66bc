"""Mutations that pay a claim (once per claim and idempotency key)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from core.roles import ADJUSTERS
from resolvers.claims import payments, service
from schema.claims.inputs import PayClaimInput
from schema.claims.mutations.shared import claim_id
from schema.claims.types import Claim, ClaimPayment
from schema.context import Context
from schema.errors import UserError, run_mutation
from schema.permissions import PUBLIC, access, allow

__all__ = ["PaymentMutations", "PaymentPayload"]


@strawberry.type
@access(PUBLIC)
class PaymentPayload:
    payment: ClaimPayment | None
    claim: Claim | None
    errors: list[UserError]


@strawberry.type
class PaymentMutations:
    @strawberry.mutation(description="Pay an approved claim once. The same key on the same claim answers the "
                         "original payment (a retry is a no-op, also while the first is in flight); another key on "
                         "a paid claim: ALREADY_PAID; the key on another claim: IDEMPOTENCY_KEY_REUSED.",
                         metadata=allow(ADJUSTERS))
    def pay_claim(self, info: Info[Context, Any], input: PayClaimInput) -> PaymentPayload:
        ctx = info.context
        row, errors = run_mutation(info, "payClaim", input, lambda s: payments.pay_claim(
            s, principal=ctx.principal, claim_id=claim_id(input.claim_id), idempotency_key=input.idempotency_key,
            now=ctx.now()))
        if row is None:
            return PaymentPayload(payment=None, claim=None, errors=errors)
        claim = service.get_claim(ctx.session, principal=ctx.principal, claim_id=row.claim_id)
        return PaymentPayload(payment=ClaimPayment.from_row(row), claim=Claim.from_row(claim), errors=errors)
