"""Mutations of direct billing: a hospital's signed bill creates and settles the claim."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.auth import Role
from partners import ledger_seam, signed_records
from partners import risk as shared_risk
from resolvers.claims import models as m
from resolvers.claims import service
from schema.claims.errors import SubmitDirectBillError
from schema.claims.inputs import DirectBillInput
from schema.claims.mutations.shared import ERRORS_DOC, INPUT, claim_mutation, line_item_specs
from schema.claims.types import Claim
from schema.context import Context
from schema.permissions import PUBLIC, access, allow

__all__ = ["DirectBillingMutations", "SubmitDirectBillPayload"]


@strawberry.type(description="The result of submitDirectBill.")
@access(PUBLIC)
class SubmitDirectBillPayload:
    claim: Claim | None = strawberry.field(description="The claim the bill created, assessed and settled with the "
                                           "hospital (null when refused).")
    errors: list[SubmitDirectBillError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type
class DirectBillingMutations:
    @strawberry.mutation(description="Direct billing: a hospital submits its signed bill; the claim is created, "
                         "assessed and settled with the hospital. Refusals include every signed-record refusal, "
                         "ITEMS_MISMATCH, and NOT_ASSIGNED: one answer whether the hospital holds no assignment for "
                         "the case reference, no such policy exists, or it was not in force on the admission date.",
                         metadata=allow(Role.PARTNER))
    def submit_direct_bill(self, info: Info[Context, Any], input: Annotated[DirectBillInput, INPUT]) -> SubmitDirectBillPayload:
        ctx = info.context

        def work(s: Any) -> m.Claim:
            def verify() -> Any:
                return signed_records.submit_signed_record(
                    s, principal=ctx.principal, domain=ledger_seam.signing_domain(s, ctx.settings),
                    typed_data=input.typed_data, signature=input.signature, now=ctx.now())

            typed: Any = input.typed_data
            message = typed.get("message") if isinstance(typed, dict) else None
            return service.direct_bill(
                s, principal=ctx.principal, message=message or {}, verify=verify, admission_date=input.admission_date,
                discharge_date=input.discharge_date, diagnosis_code=input.diagnosis_code, items=line_item_specs(input.items),
                today=ctx.today(), now=ctx.now(), extra=ctx.settings.extra,
                consortium=shared_risk.consortium_key(ctx.settings.keys_dir))

        claim, errors = claim_mutation(info, "submitDirectBill", input, work, codes=SubmitDirectBillError)
        return SubmitDirectBillPayload(claim=claim, errors=errors)
