"""Mutations on quotes: pricing and underwriting."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from core.errors import ValidationError
from core.roles import SELF_SERVICE
from resolvers.policies import models as m
from resolvers.policies import service
from resolvers.policies.underwriting import DeclarationAnswer
from schema.context import Context
from schema.errors import UserError, run_mutation
from schema.permissions import PUBLIC, access, allow
from schema.policies.inputs import RequestQuoteInput
from schema.policies.types import Quote
from schema.relay import decode_global_id, encode_global_id

__all__ = ["QuoteMutations", "QuotePayload"]


@strawberry.type
@access(PUBLIC)
class QuotePayload:
    quote: Quote | None
    errors: list[UserError]


def _quote_target(q: m.Quote | None) -> str | None:
    return None if q is None else encode_global_id("Quote", q.id)


@strawberry.type
class QuoteMutations:
    @strawberry.mutation(description="Price and underwrite a product for a customer.", metadata=allow(SELF_SERVICE))
    def request_quote(self, info: Info[Context, Any], input: RequestQuoteInput) -> QuotePayload:
        ctx = info.context

        def work(s: Any) -> m.Quote:
            if len(input.answers) > 20:
                raise ValidationError("at most 20 answers", field="answers")
            return service.create_quote(
                s, principal=ctx.principal,
                customer_id=decode_global_id(input.customer_id, "Customer", field="customerId"),
                product_id=decode_global_id(input.product_id, "Product", field="productId"),
                start_date=input.start_date, today=ctx.today(),
                answers=[DeclarationAnswer(a.question, a.answer, tuple(a.diagnoses)) for a in input.answers],
            )

        # The declaration is medical data: only its digest reaches the audit log.
        row, errors = run_mutation(info, "requestQuote", input, work,
                                   target=_quote_target)
        return QuotePayload(quote=Quote.from_row(row) if row else None, errors=errors)
