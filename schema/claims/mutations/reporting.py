"""Mutations that report a claim: first notice of loss, invoice lines, submission."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from core.roles import DATA_HOLDERS, REPORTERS
from partners import risk as shared_risk
from resolvers.claims import service
from schema.claims.inputs import ClaimActionInput, ReportClaimInput, SetLineItemsInput
from schema.claims.mutations.shared import ClaimPayload, claim_id, claim_payload, line_item_specs
from schema.context import Context
from schema.permissions import allow
from schema.relay import decode_global_id

__all__ = ["ReportingMutations"]


@strawberry.type
class ReportingMutations:
    @strawberry.mutation(description="Report a claim (draft). Refusals: POLICY_NOT_IN_FORCE, DATE_IN_FUTURE, "
                         "AMOUNTS_DO_NOT_ADD_UP, BAD_ICD10, NOT_FOUND (foreign policy).", metadata=allow(REPORTERS))
    def report_claim(self, info: Info[Context, Any], input: ReportClaimInput) -> ClaimPayload:
        ctx = info.context
        return claim_payload(info, "reportClaim", input, lambda s: service.report_claim(
            s, principal=ctx.principal, policy_id=decode_global_id(input.policy_id, "Policy", field="policyId"),
            event_date=input.event_date, admission_date=input.admission_date, discharge_date=input.discharge_date,
            hospital=input.hospital, diagnosis_code=input.diagnosis_code, claimed_amount=input.claimed_amount,
            channel=input.channel, items=line_item_specs(input.items), today=ctx.today(), now=ctx.now()))

    @strawberry.mutation(description="Enter the structured invoice data once (customer app or hospital).",
                         metadata=allow(DATA_HOLDERS))
    def set_claim_line_items(self, info: Info[Context, Any], input: SetLineItemsInput) -> ClaimPayload:
        ctx = info.context
        return claim_payload(info, "setClaimLineItems", input, lambda s: service.set_line_items(
            s, principal=ctx.principal, claim_id=claim_id(input.claim_id), items=line_item_specs(input.items),
            expected_version=input.expected_version, now=ctx.now()))

    @strawberry.mutation(description="Submit a draft: risk control, then fast-claim payout or a work queue.",
                         metadata=allow(REPORTERS))
    def submit_claim(self, info: Info[Context, Any], input: ClaimActionInput) -> ClaimPayload:
        ctx = info.context
        return claim_payload(info, "submitClaim", input, lambda s: service.submit_claim(
            s, principal=ctx.principal, claim_id=claim_id(input.claim_id), expected_version=input.expected_version,
            today=ctx.today(), now=ctx.now(), extra=ctx.settings.extra,
            consortium=shared_risk.consortium_key(ctx.settings.keys_dir)))
