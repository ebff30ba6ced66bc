"""Mutations on quotes: pricing and underwriting."""

from __future__ import annotations

import enum
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.errors import collect_errors
from core.roles import MANAGERS, SELF_SERVICE
from partners import risk as shared_risk
from resolvers.policies import models as m
from resolvers.policies import service
from resolvers.policies.underwriting import DeclarationAnswer
from schema.context import Context
from schema.errors import mutation_errors, run_mutation
from schema.permissions import PUBLIC, access, allow
from schema.policies.inputs import RequestQuoteInput
from schema.policies.types import Quote
from schema.relay import decode_global_id, encode_global_id

__all__ = ["DecideReferredQuoteError", "DecideReferredQuotePayload", "QuoteMutations", "QuotePayload",
           "ReferralDecision", "RequestQuoteError"]


class RequestQuoteErrorCode(enum.Enum):
    NOT_ON_SALE = "The product is not on sale."
    AGE_OUT_OF_RANGE = "The insured's age at the start date is outside the product's ages."
    BAD_START_DATE = "The start date is not between today and 90 days ahead."
    TOO_MANY_ANSWERS = "The declaration has more than 20 answers."
    UNKNOWN_QUESTION = "An answer names a question the questionnaire does not ask."
    DUPLICATE_ANSWER = "A question is answered twice."
    INCOMPLETE = "A question is unanswered, or a 'yes' that asks for diagnoses names none."
    INCONSISTENT = "A 'no' answer names diagnoses."
    BAD_ICD10 = "A diagnosis is not an ICD-10 code of the WHO list."


RequestQuoteError = mutation_errors("RequestQuote", RequestQuoteErrorCode)


@strawberry.type(description="The result of requestQuote.")
@access(PUBLIC)
class QuotePayload:
    quote: Quote | None = strawberry.field(description="The priced, underwritten quote (null when refused; a "
                                           "declined quote is a quote, with outcome DECLINE).")
    errors: list[RequestQuoteError] = strawberry.field(  # type: ignore[valid-type]
        description="Every input error at once (empty on success).")


class DecideReferredQuoteErrorCode(enum.Enum):
    NOT_REFERRED = "The quote is not waiting for manual underwriting (never referred, or decided already)."
    QUOTE_EXPIRED = "The quote's validity ended; the customer asks for a new quote."


DecideReferredQuoteError = mutation_errors("DecideReferredQuote", DecideReferredQuoteErrorCode)


@strawberry.enum(description="An underwriter's decision on a referred quote.")
class ReferralDecision(enum.Enum):
    ACCEPT = strawberry.enum_value("accept", description="Accept: the quote opens and may issue a policy "
                                   "(with the declaration's exclusions, if any).")
    DECLINE = strawberry.enum_value("decline", description="Decline: the quote can no longer issue a policy.")


@strawberry.type(description="The result of decideReferredQuote.")
@access(PUBLIC)
class DecideReferredQuotePayload:
    quote: Quote | None = strawberry.field(description="The quote after the decision, OPEN or DECLINED "
                                           "(null when refused).")
    errors: list[DecideReferredQuoteError] = strawberry.field(  # type: ignore[valid-type]
        description="Every refusal (empty on success).")


def _quote_target(q: m.Quote | None) -> str | None:
    return None if q is None else encode_global_id("Quote", q.id)


_Input = Annotated[RequestQuoteInput, strawberry.argument(description="Who, which product, from when, and the health declaration.")]

@strawberry.type
class QuoteMutations:
    @strawberry.mutation(description="Price and underwrite a product for a customer (the customer themself, or "
                         "agents, managers, admins). Reports every input error at once: ids, start date and each "
                         "answer (field e.g. \"answers[2].diagnoses[0]\").", metadata=allow(SELF_SERVICE))
    def request_quote(self, info: Info[Context, Any], input: _Input) -> QuotePayload:
        ctx = info.context
        answers = [DeclarationAnswer(a.question, a.answer, tuple(a.diagnoses)) for a in input.answers]

        def work(s: Any) -> m.Quote:
            with collect_errors() as errors:
                with errors.check():
                    customer_id = decode_global_id(input.customer_id, "Customer", field="customerId")
                with errors.check():
                    product_id = decode_global_id(input.product_id, "Product", field="productId")
                if errors:  # nothing to look up: the input's own errors go with the ids'
                    for error in service.quote_input_errors(start_date=input.start_date, today=ctx.today(),
                                                            answers=answers):
                        errors.add(error)
            return service.create_quote(s, principal=ctx.principal, customer_id=customer_id, product_id=product_id,
                                        start_date=input.start_date, today=ctx.today(), answers=answers,
                                        consortium=shared_risk.consortium_key(ctx.settings.keys_dir))

        # The declaration is medical data: only its digest reaches the audit log.
        row, errors = run_mutation(info, "requestQuote", input, work, target=_quote_target, codes=RequestQuoteError)
        return QuotePayload(quote=Quote.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Decide a quote that a shared risk flag referred to manual underwriting "
                         "(managers and admins underwrite by hand; they read the flags on Quote.referralFlags): "
                         "ACCEPT opens it to issue a policy, DECLINE closes it. The customer reads a reason "
                         "code worded for them, never the flag.", metadata=allow(MANAGERS))
    def decide_referred_quote(
        self, info: Info[Context, Any],
        quote_id: Annotated[strawberry.ID, strawberry.argument(description="The referred quote (a Quote id).")],
        decision: Annotated[ReferralDecision, strawberry.argument(description="Accept or decline.")],
    ) -> DecideReferredQuotePayload:
        ctx = info.context

        def work(s: Any) -> m.Quote:
            key = decode_global_id(quote_id, "Quote", field="quoteId")
            return service.decide_referred_quote(s, principal=ctx.principal, quote_id=key,
                                                 accept=decision is ReferralDecision.ACCEPT, today=ctx.today())

        row, errors = run_mutation(info, "decideReferredQuote", {"quoteId": quote_id, "decision": decision.name},
                                   work, target=_quote_target, codes=DecideReferredQuoteError)
        return DecideReferredQuotePayload(quote=Quote.from_row(row) if row else None, errors=errors)
