"""Mutations that decide a claim: adjudication and staff transitions."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.roles import ADJUSTERS
from resolvers.claims import service
from schema.claims.errors import AdjudicateClaimError, TransitionClaimError
from schema.claims.inputs import ClaimActionInput, TransitionClaimInput
from schema.claims.mutations.shared import CLAIM_DOC, ERRORS_DOC, INPUT, claim_id, claim_mutation
from schema.claims.types import Claim
from schema.context import Context
from schema.permissions import PUBLIC, access, allow

__all__ = ["AdjudicateClaimPayload", "DecisionMutations", "TransitionClaimPayload"]


@strawberry.type(description="The result of adjudicateClaim.")
@access(PUBLIC)
class AdjudicateClaimPayload:
    claim: Claim | None = strawberry.field(description=CLAIM_DOC)
    errors: list[AdjudicateClaimError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of transitionClaim.")
@access(PUBLIC)
class TransitionClaimPayload:
    claim: Claim | None = strawberry.field(description=CLAIM_DOC)
    errors: list[TransitionClaimError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type
class DecisionMutations:
    @strawberry.mutation(description="Run the benefit calculation line by line and decide (APPROVED, "
                         "PARTIALLY_APPROVED or REJECTED, with its explanation of benefits); for a SUBMITTED, "
                         "UNDER_REVIEW or INVESTIGATING claim with invoice lines.", metadata=allow(ADJUSTERS))
    def adjudicate_claim(self, info: Info[Context, Any], input: Annotated[ClaimActionInput, INPUT]) -> AdjudicateClaimPayload:
        ctx = info.context
        claim, errors = claim_mutation(info, "adjudicateClaim", input, lambda s: service.adjudicate_claim(
            s, principal=ctx.principal, claim_id=claim_id(input.claim_id), expected_version=input.expected_version,
            now=ctx.now(), note=input.note), codes=AdjudicateClaimError)
        return AdjudicateClaimPayload(claim=claim, errors=errors)

    @strawberry.mutation(description="Move a claim (review, investigate, documents, reject, close, reopen) with a "
                         "reason, along the state machine's legal moves.", metadata=allow(ADJUSTERS))
    def transition_claim(self, info: Info[Context, Any], input: Annotated[TransitionClaimInput, INPUT]) -> TransitionClaimPayload:
        ctx = info.context
        claim, errors = claim_mutation(info, "transitionClaim", input, lambda s: service.transition_claim(
            s, principal=ctx.principal, claim_id=claim_id(input.claim_id), to=input.to, reason=input.reason,
            expected_version=input.expected_version, now=ctx.now()), codes=TransitionClaimError)
        return TransitionClaimPayload(claim=claim, errors=errors)
