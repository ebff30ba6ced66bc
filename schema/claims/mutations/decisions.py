"""Mutations that decide a claim: adjudication and staff transitions."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from core.roles import ADJUSTERS
from resolvers.claims import service
from schema.claims.inputs import ClaimActionInput, TransitionClaimInput
from schema.claims.mutations.shared import ClaimPayload, claim_id, claim_payload
from schema.context import Context
from schema.permissions import allow

__all__ = ["DecisionMutations"]


@strawberry.type
class DecisionMutations:
    @strawberry.mutation(description="Run the benefit calculation and decide.", metadata=allow(ADJUSTERS))
    def adjudicate_claim(self, info: Info[Context, Any], input: ClaimActionInput) -> ClaimPayload:
        ctx = info.context
        return claim_payload(info, "adjudicateClaim", input, lambda s: service.adjudicate_claim(
            s, principal=ctx.principal, claim_id=claim_id(input.claim_id), expected_version=input.expected_version,
            now=ctx.now(), note=input.note))

    @strawberry.mutation(description="Move a claim (review, investigate, reject, close, reopen) with a reason.",
                         metadata=allow(ADJUSTERS))
    def transition_claim(self, info: Info[Context, Any], input: TransitionClaimInput) -> ClaimPayload:
        ctx = info.context
        return claim_payload(info, "transitionClaim", input, lambda s: service.transition_claim(
            s, principal=ctx.principal, claim_id=claim_id(input.claim_id), to=input.to, reason=input.reason,
            expected_version=input.expected_version, now=ctx.now()))
