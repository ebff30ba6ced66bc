"""Mutations of claims staff: request, assign or reassign, review; firm profiles."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.roles import ADJUSTERS, ASSIGNERS, FIRM_QUALIFICATION_REVIEWERS, MANAGERS
from partners.service import LicenceSpec
from resolvers.investigations import firms, qualification, service
from schema.context import Context
from schema.errors import run_mutation
from schema.investigations.errors import (
    AssignInvestigationError,
    RequestInvestigationError,
    ReviewFirmQualificationError,
    ReviewInvestigationError,
    SetAssessorFirmProfileError,
)
from schema.investigations.inputs import (
    AssignInvestigationInput,
    RequestInvestigationInput,
    ReviewFirmQualificationInput,
    ReviewInvestigationInput,
    SetAssessorFirmProfileInput,
)
from schema.investigations.mutations.shared import (
    ERRORS_DOC,
    INPUT,
    INVESTIGATION_DOC,
    investigation_id,
    investigation_mutation,
)
from schema.investigations.types import AssessorFirmProfile, AssessorFirmQualification, Investigation
from schema.permissions import PUBLIC, access, allow
from schema.relay import decode_global_id, encode_global_id

__all__ = ["AssignInvestigationPayload", "RequestInvestigationPayload", "ReviewFirmQualificationPayload",
           "ReviewInvestigationPayload",
           "SetAssessorFirmProfilePayload", "StaffMutations"]


@strawberry.type(description="The result of requestInvestigation.")
@access(PUBLIC)
class RequestInvestigationPayload:
    investigation: Investigation | None = strawberry.field(description=INVESTIGATION_DOC)
    errors: list[RequestInvestigationError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of assignInvestigation.")
@access(PUBLIC)
class AssignInvestigationPayload:
    investigation: Investigation | None = strawberry.field(description=INVESTIGATION_DOC)
    errors: list[AssignInvestigationError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of reviewInvestigation.")
@access(PUBLIC)
class ReviewInvestigationPayload:
    investigation: Investigation | None = strawberry.field(description=INVESTIGATION_DOC)
    errors: list[ReviewInvestigationError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of setAssessorFirmProfile.")
@access(PUBLIC)
class SetAssessorFirmProfilePayload:
    profile: AssessorFirmProfile | None = strawberry.field(description="The profile as saved (null when refused).")
    errors: list[SetAssessorFirmProfileError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of reviewFirmQualification.")
@access(PUBLIC)
class ReviewFirmQualificationPayload:
    qualification: AssessorFirmQualification | None = strawberry.field(
        description="The firm's qualification after the decision (null when refused).")
    errors: list[ReviewFirmQualificationError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type
class StaffMutations:
    @strawberry.mutation(description="Ask for an investigation of a claim (what to check, where, by when); the claim "
                         "moves to INVESTIGATING. Reports every input error at once.", metadata=allow(ADJUSTERS))
    def request_investigation(self, info: Info[Context, Any],
                              input: Annotated[RequestInvestigationInput, INPUT]) -> RequestInvestigationPayload:
        ctx = info.context
        inv, errors = investigation_mutation(info, "requestInvestigation", input, lambda s: service.request_investigation(
            s, principal=ctx.principal, claim_id=decode_global_id(input.claim_id, "Claim", field="claimId"),
            checks=list(input.checks), instructions=input.instructions, region=input.region,
            report_due_on=input.report_due_on, now=ctx.now(), extra=ctx.settings.extra),
            codes=RequestInvestigationError)
        return RequestInvestigationPayload(investigation=inv, errors=errors)

    @strawberry.mutation(description="Offer an investigation to the best approved firm of its region with room "
                         "(firmId null), or to the firm named; naming a firm for an assigned investigation "
                         "reassigns it (the old offer is WITHDRAWN, kept in offers).", metadata=allow(ASSIGNERS))
    def assign_investigation(self, info: Info[Context, Any],
                             input: Annotated[AssignInvestigationInput, INPUT]) -> AssignInvestigationPayload:
        ctx = info.context
        inv, errors = investigation_mutation(info, "assignInvestigation", input, lambda s: service.assign(
            s, principal=ctx.principal, investigation_id=investigation_id(input.investigation_id),
            partner_id=decode_global_id(input.firm_id, "Partner", field="firmId") if input.firm_id else None,
            expected_version=input.expected_version, now=ctx.now(), extra=ctx.settings.extra),
            codes=AssignInvestigationError)
        return AssignInvestigationPayload(investigation=inv, errors=errors)

    @strawberry.mutation(description="Review the survey report: ACCEPTED or REJECTED ends the investigation and "
                         "sends the claim back to review; MORE_REQUESTED gives the firm a new report due time.",
                         metadata=allow(ADJUSTERS))
    def review_investigation(self, info: Info[Context, Any],
                             input: Annotated[ReviewInvestigationInput, INPUT]) -> ReviewInvestigationPayload:
        ctx = info.context
        inv, errors = investigation_mutation(info, "reviewInvestigation", input, lambda s: service.review_report(
            s, principal=ctx.principal, investigation_id=investigation_id(input.investigation_id),
            outcome=input.outcome, note=input.note, expected_version=input.expected_version, now=ctx.now(),
            extra=ctx.settings.extra), codes=ReviewInvestigationError)
        return ReviewInvestigationPayload(investigation=inv, errors=errors)

    @strawberry.mutation(description="Set an assessor firm's regions, capacity and quality score (claims managers). "
                         "Suspension stays with the partner registry. Reports every input error at once.",
                         metadata=allow(MANAGERS))
    def set_assessor_firm_profile(self, info: Info[Context, Any], input: Annotated[
            SetAssessorFirmProfileInput, INPUT]) -> SetAssessorFirmProfilePayload:
        ctx = info.context
        row, errors = run_mutation(info, "setAssessorFirmProfile", input, lambda s: firms.set_profile(
            s, principal=ctx.principal, partner_id=decode_global_id(input.firm_id, "Partner", field="firmId"),
            regions=input.regions, capacity=input.capacity, quality_score=Decimal(repr(input.quality_score)),
            now=ctx.now()), codes=SetAssessorFirmProfileError,
            target=lambda r: None if r is None else encode_global_id("Partner", r.partner_id))
        return SetAssessorFirmProfilePayload(profile=AssessorFirmProfile.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(description="Decide on an assessor firm's qualification (claims managers, admins), through "
                         "the partner registry: RENEW records the renewed licence and approves the firm (an expired "
                         "one is resubmitted for a second reviewer); SUSPEND stops its new assignments. "
                         "Maker-checker: the firm's submitter may not decide.",
                         metadata=allow(FIRM_QUALIFICATION_REVIEWERS))
    def review_firm_qualification(self, info: Info[Context, Any], input: Annotated[
            ReviewFirmQualificationInput, INPUT]) -> ReviewFirmQualificationPayload:
        ctx = info.context
        lic = input.licence
        row, errors = run_mutation(info, "reviewFirmQualification", input, lambda s: qualification.review_qualification(
            s, principal=ctx.principal, partner_id=decode_global_id(input.firm_id, "Partner", field="firmId"),
            decision=input.decision,
            licence=LicenceSpec(lic.number, lic.issuer, lic.valid_from, lic.valid_until) if lic else None,
            suspension_reason=input.suspension_reason, expected_version=input.expected_version, now=ctx.now()),
            codes=ReviewFirmQualificationError,
            target=lambda r: None if r is None else encode_global_id("Partner", r.partner_id))
        return ReviewFirmQualificationPayload(
            qualification=AssessorFirmQualification.from_row(row) if row else None, errors=errors)
