"""Mutations of the assessor firm: answer an offer, record the trail, submit the signed survey report."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.errors import NotFoundError
from core.roles import PARTNERS
from partners import ledger_seam
from partners import loaders as partner_loaders
from resolvers.investigations import service
from schema.context import Context
from schema.errors import run_mutation
from schema.investigations.errors import (
    AcceptInvestigationOfferError,
    DeclineInvestigationOfferError,
    RecordInvestigationEventError,
    SubmitSurveyReportError,
)
from schema.investigations.inputs import (
    DeclineInvestigationOfferInput,
    InvestigationOfferActionInput,
    RecordInvestigationEventInput,
    SubmitSurveyReportInput,
)
from schema.investigations.mutations.shared import (
    ERRORS_DOC,
    INPUT,
    INVESTIGATION_DOC,
    investigation_id,
    investigation_mutation,
)
from schema.investigations.types import Investigation, InvestigationTrailEvent
from schema.permissions import PUBLIC, access, allow
from schema.relay import decode_global_id, encode_global_id

__all__ = ["AcceptInvestigationOfferPayload", "DeclineInvestigationOfferPayload", "FirmMutations",
           "RecordInvestigationEventPayload", "SubmitSurveyReportPayload"]


@strawberry.type(description="The result of acceptInvestigationOffer.")
@access(PUBLIC)
class AcceptInvestigationOfferPayload:
    investigation: Investigation | None = strawberry.field(description=INVESTIGATION_DOC)
    errors: list[AcceptInvestigationOfferError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of declineInvestigationOffer.")
@access(PUBLIC)
class DeclineInvestigationOfferPayload:
    investigation: Investigation | None = strawberry.field(description=INVESTIGATION_DOC)
    errors: list[DeclineInvestigationOfferError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of recordInvestigationEvent.")
@access(PUBLIC)
class RecordInvestigationEventPayload:
    event: InvestigationTrailEvent | None = strawberry.field(description="The recorded event (null when refused).")
    errors: list[RecordInvestigationEventError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of submitSurveyReport.")
@access(PUBLIC)
class SubmitSurveyReportPayload:
    investigation: Investigation | None = strawberry.field(description=INVESTIGATION_DOC)
    errors: list[SubmitSurveyReportError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


def _offer_id(value: strawberry.ID) -> int:
    return decode_global_id(value, "InvestigationOffer", field="offerId")


def _firm_code(session: Any, partner_id: int | None) -> str:
    partner = partner_loaders.partners_by_id(session, [partner_id]).get(partner_id) if partner_id else None
    if partner is None:
        raise NotFoundError("investigation not found", field="investigationId")
    return partner.code


@strawberry.type
class FirmMutations:
    @strawberry.mutation(description="Accept your firm's offer (once: again is ALREADY_ACCEPTED); the first-visit "
                         "deadline starts.", metadata=allow(PARTNERS))
    def accept_investigation_offer(self, info: Info[Context, Any], input: Annotated[
            InvestigationOfferActionInput, INPUT]) -> AcceptInvestigationOfferPayload:
        ctx = info.context
        inv, errors = investigation_mutation(info, "acceptInvestigationOffer", input, lambda s: service.accept_offer(
            s, principal=ctx.principal, assignment_id=_offer_id(input.offer_id), now=ctx.now(),
            extra=ctx.settings.extra), codes=AcceptInvestigationOfferError)
        return AcceptInvestigationOfferPayload(investigation=inv, errors=errors)

    @strawberry.mutation(description="Decline your firm's offer with a reason code; the investigation waits for "
                         "another firm.", metadata=allow(PARTNERS))
    def decline_investigation_offer(self, info: Info[Context, Any], input: Annotated[
            DeclineInvestigationOfferInput, INPUT]) -> DeclineInvestigationOfferPayload:
        ctx = info.context
        inv, errors = investigation_mutation(info, "declineInvestigationOffer", input, lambda s: service.decline_offer(
            s, principal=ctx.principal, assignment_id=_offer_id(input.offer_id), reason=input.reason, now=ctx.now()),
            codes=DeclineInvestigationOfferError)
        return DeclineInvestigationOfferPayload(investigation=inv, errors=errors)

    @strawberry.mutation(description="Record a visit, call, document or finding of an investigation your firm works "
                         "on; it is committed to the ledger (INVESTIGATION_EVENT) and anchored. Reports every input "
                         "error at once.", metadata=allow(PARTNERS))
    def record_investigation_event(self, info: Info[Context, Any], input: Annotated[
            RecordInvestigationEventInput, INPUT]) -> RecordInvestigationEventPayload:
        ctx = info.context
        row, errors = run_mutation(info, "recordInvestigationEvent", input, lambda s: service.record_trail_event(
            s, principal=ctx.principal, investigation_id=investigation_id(input.investigation_id), kind=input.kind,
            occurred_at=input.occurred_at, note=input.note, finding_code=input.finding,
            firm_code=_firm_code(s, ctx.principal.partner_id), now=ctx.now()), codes=RecordInvestigationEventError,
            target=lambda r: None if r is None else encode_global_id("InvestigationTrailEvent", r.id))
        return RecordInvestigationEventPayload(event=InvestigationTrailEvent.from_row(row) if row else None,
                                               errors=errors)

    @strawberry.mutation(description="Submit your firm's EIP-712 signed SurveyReport for the investigation it works on "
                         "(partners' checks: domain, signature, key, nonce, deadline); it is anchored and closes the "
                         "trail until the adjuster reviews it.", metadata=allow(PARTNERS))
    def submit_survey_report(self, info: Info[Context, Any], input: Annotated[
            SubmitSurveyReportInput, INPUT]) -> SubmitSurveyReportPayload:
        ctx = info.context
        inv, errors = investigation_mutation(info, "submitSurveyReport", input, lambda s: service.submit_survey_report(
            s, principal=ctx.principal, investigation_id=investigation_id(input.investigation_id),
            domain=ledger_seam.signing_domain(s, ctx.settings), typed_data=input.record.typed_data,
            signature=input.record.signature, now=ctx.now()), codes=SubmitSurveyReportError)
        return SubmitSurveyReportPayload(investigation=inv, errors=errors)
