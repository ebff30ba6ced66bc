"""Mutations that report a claim: first notice of loss, invoice lines, submission."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.roles import DATA_HOLDERS, REPORTERS
from partners import risk as shared_risk
from resolvers.claims import service
from schema.claims.errors import ReportClaimError, SetClaimLineItemsError, SubmitClaimError
from schema.claims.inputs import ClaimActionInput, ReportClaimInput, SetLineItemsInput
from schema.claims.mutations.shared import (
    CLAIM_DOC,
    ERRORS_DOC,
    INPUT,
    claim_id,
    claim_mutation,
    line_item_specs,
)
from schema.claims.types import Claim
from schema.context import Context
from schema.permissions import PUBLIC, access, allow
from schema.relay import decode_global_id

__all__ = ["ReportClaimPayload", "ReportingMutations", "SetClaimLineItemsPayload", "SubmitClaimPayload"]


@strawberry.type(description="The result of reportClaim.")
@access(PUBLIC)
class ReportClaimPayload:
    claim: Claim | None = strawberry.field(description=CLAIM_DOC)
    errors: list[ReportClaimError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of setClaimLineItems.")
@access(PUBLIC)
class SetClaimLineItemsPayload:
    claim: Claim | None = strawberry.field(description=CLAIM_DOC)
    errors: list[SetClaimLineItemsError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of submitClaim.")
@access(PUBLIC)
class SubmitClaimPayload:
    claim: Claim | None = strawberry.field(description=CLAIM_DOC)
    errors: list[SubmitClaimError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type
class ReportingMutations:
    @strawberry.mutation(description="Report a claim (a draft): customers on their own policies, agents and "
                         "adjusters on any. Every input fault is reported at once; whether the policy was in force "
                         "only once it is visible (a foreign policy answers NOT_FOUND, like a missing one).",
                         metadata=allow(REPORTERS))
    def report_claim(self, info: Info[Context, Any], input: Annotated[ReportClaimInput, INPUT]) -> ReportClaimPayload:
        ctx = info.context
        claim, errors = claim_mutation(info, "reportClaim", input, lambda s: service.report_claim(
            s, principal=ctx.principal, policy_id=decode_global_id(input.policy_id, "Policy", field="policyId"),
            event_date=input.event_date, admission_date=input.admission_date, discharge_date=input.discharge_date,
            hospital=input.hospital, diagnosis_code=input.diagnosis_code, claimed_amount=input.claimed_amount,
            channel=input.channel, items=line_item_specs(input.items), today=ctx.today(), now=ctx.now()),
            codes=ReportClaimError)
        return ReportClaimPayload(claim=claim, errors=errors)

    @strawberry.mutation(description="Enter a claim's structured invoice data, once (the customer's app or the "
                         "hospital; never staff), while it is DRAFT or DOCUMENTS_PENDING. Every fault of every line "
                         "is reported at once.", metadata=allow(DATA_HOLDERS))
    def set_claim_line_items(self, info: Info[Context, Any], input: Annotated[SetLineItemsInput, INPUT]) -> SetClaimLineItemsPayload:
        ctx = info.context
        claim, errors = claim_mutation(info, "setClaimLineItems", input, lambda s: service.set_line_items(
            s, principal=ctx.principal, claim_id=claim_id(input.claim_id), items=line_item_specs(input.items),
            expected_version=input.expected_version, now=ctx.now()), codes=SetClaimLineItemsError)
        return SetClaimLineItemsPayload(claim=claim, errors=errors)

    @strawberry.mutation(description="Submit a draft: risk control rates it, then fast claim decides and pays it, "
                         "or it waits for documents, review or investigation (see the timeline).",
                         metadata=allow(REPORTERS))
    def submit_claim(self, info: Info[Context, Any], input: Annotated[ClaimActionInput, INPUT]) -> SubmitClaimPayload:
        ctx = info.context
        claim, errors = claim_mutation(info, "submitClaim", input, lambda s: service.submit_claim(
            s, principal=ctx.principal, claim_id=claim_id(input.claim_id), expected_version=input.expected_version,
            today=ctx.today(), now=ctx.now(), extra=ctx.settings.extra,
            consortium=shared_risk.consortium_key(ctx.settings.keys_dir)), codes=SubmitClaimError)
        return SubmitClaimPayload(claim=claim, errors=errors)
