"""Mutations that pay a claim (once per claim and idempotency key)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.roles import ADJUSTERS
from resolvers.claims import payments, service
from schema.claims.errors import PayClaimError
from schema.claims.inputs import PayClaimInput
from schema.claims.mutations.shared import CLAIM_DOC, ERRORS_DOC, INPUT, claim_id
from schema.claims.types import Claim, ClaimPayment
from schema.context import Context
from schema.errors import run_mutation
from schema.permissions import PUBLIC, access, allow

__all__ = ["PayClaimPayload", "PaymentMutations"]


@strawberry.type(description="The result of payClaim.")
@access(PUBLIC)
class PayClaimPayload:
    payment: ClaimPayment | None = strawberry.field(description="The payment (a retry: the one its key made; null "
                                                    "when refused).")
    claim: Claim | None = strawberry.field(description=CLAIM_DOC)
    errors: list[PayClaimError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type
class PaymentMutations:
    @strawberry.mutation(description="Pay an approved claim once. The same key on the same claim answers the "
                         "original payment (a retry is a no-op, also while the first is in flight); another key on "
                         "a paid claim: ALREADY_PAID; the key on another claim: IDEMPOTENCY_KEY_REUSED.",
                         metadata=allow(ADJUSTERS))
    def pay_claim(self, info: Info[Context, Any], input: Annotated[PayClaimInput, INPUT]) -> PayClaimPayload:
        ctx = info.context
        row, errors = run_mutation(info, "payClaim", input, lambda s: payments.pay_claim(
            s, principal=ctx.principal, claim_id=claim_id(input.claim_id), idempotency_key=input.idempotency_key,
            now=ctx.now()), codes=PayClaimError)
        if row is None:
            return PayClaimPayload(payment=None, claim=None, errors=errors)
        claim = service.get_claim(ctx.session, principal=ctx.principal, claim_id=row.claim_id)
        return PayClaimPayload(payment=ClaimPayment.from_row(row), claim=Claim.from_row(claim), errors=errors)
