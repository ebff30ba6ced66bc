"""Assigning claims of the work queue to staff."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.roles import ADJUSTERS
from resolvers.claims.assignment import assign_claim
from schema.claims.errors import AssignClaimError
from schema.claims.mutations.shared import CLAIM_DOC, ERRORS_DOC, INPUT, claim_id, claim_mutation
from schema.claims.types import Claim
from schema.context import Context
from schema.permissions import PUBLIC, access, allow

__all__ = ["AssignClaimInput", "AssignClaimPayload", "AssignmentMutations"]


@strawberry.input(description="Who works on a claim of the queue.")
class AssignClaimInput:
    claim_id: strawberry.ID = strawberry.field(description="The claim's global id.")
    assignee: str | None = strawberry.field(default=None, description="The staff member's subject (1-200 "
                                            "characters, no spaces); null gives the claim back to the queue.")
    expected_version: int | None = strawberry.field(default=None, description="Refuse with STALE_VERSION unless "
                                                    "the claim is still at this version.")


@strawberry.type(description="The result of assignClaim.")
@access(PUBLIC)
class AssignClaimPayload:
    claim: Claim | None = strawberry.field(description=CLAIM_DOC)
    errors: list[AssignClaimError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type
class AssignmentMutations:
    @strawberry.mutation(description="Assign a waiting claim to a staff member, or give it back (assignee null). "
                         "Managers and admins assign to anyone; an adjuster takes a claim for themself or gives back "
                         "their own (FORBIDDEN otherwise).", metadata=allow(ADJUSTERS))
    def assign_claim(self, info: Info[Context, Any], input: Annotated[AssignClaimInput, INPUT]) -> AssignClaimPayload:
        ctx = info.context
        claim, errors = claim_mutation(info, "assignClaim", input, lambda s: assign_claim(
            s, principal=ctx.principal, claim_id=claim_id(input.claim_id), assignee=input.assignee,
            expected_version=input.expected_version), codes=AssignClaimError)
        return AssignClaimPayload(claim=claim, errors=errors)
