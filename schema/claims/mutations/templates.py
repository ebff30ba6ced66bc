"""Setting a claim flow template (managers)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.roles import MANAGERS
from resolvers.claims.models import DocumentKind as DocumentKindValue
from resolvers.claims.ops import templates
from schema.claims.enums import DocumentKind
from schema.claims.errors import SetClaimFlowTemplateError
from schema.claims.mutations.shared import ERRORS_DOC, INPUT
from schema.claims.ops_types import ClaimFlowTemplate, ClaimType
from schema.context import Context
from schema.errors import run_mutation
from schema.permissions import PUBLIC, access, allow
from schema.relay import decode_global_id, encode_global_id
from schema.scalars import Money

__all__ = ["ClaimFlowTemplateInput", "SetClaimFlowTemplatePayload", "TemplateMutations"]


@strawberry.input(description="The flow of one product's claims of one type.")
class ClaimFlowTemplateInput:
    product_id: strawberry.ID = strawberry.field(description="The product's global id.")
    claim_type: ClaimType = strawberry.field(description="The claim type.")  # type: ignore[valid-type]
    required_documents: list[DocumentKind] = strawberry.field(  # type: ignore[valid-type]
        description="Documents a submitted claim must have (each kind once; at most 5).")
    investigate_above: Money | None = strawberry.field(default=None, description="Investigate claims above this "
                                                       "amount whatever risk control says (null: never by amount).")
    expected_version: int | None = strawberry.field(default=None, description="Refuse with STALE_VERSION unless "
                                                    "the template is still at this version.")


@strawberry.type(description="The result of setClaimFlowTemplate.")
@access(PUBLIC)
class SetClaimFlowTemplatePayload:
    template: ClaimFlowTemplate | None = strawberry.field(description="The template as set (null when refused).")
    errors: list[SetClaimFlowTemplateError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type
class TemplateMutations:
    @strawberry.mutation(description="Create or replace the flow template of a product and claim type (managers, "
                         "admins); submissions from then on follow it.", metadata=allow(MANAGERS))
    def set_claim_flow_template(self, info: Info[Context, Any],
                                input: Annotated[ClaimFlowTemplateInput, INPUT]) -> SetClaimFlowTemplatePayload:
        ctx = info.context
        row, errors = run_mutation(info, "setClaimFlowTemplate", input, lambda s: templates.set_template(
            s, principal=ctx.principal, product_id=decode_global_id(input.product_id, "Product", field="productId"),
            claim_type=input.claim_type, required_documents=[DocumentKindValue(k) for k in input.required_documents][:5],
            investigate_above=input.investigate_above, expected_version=input.expected_version),
            target=lambda r: encode_global_id("ClaimFlowTemplate", r.id), codes=SetClaimFlowTemplateError)
        return SetClaimFlowTemplatePayload(template=ClaimFlowTemplate.from_row(row) if row else None, errors=errors)
