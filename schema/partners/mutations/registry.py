"""Mutations on the partner registry: registration, licences, documents, the qualification review.

Maker-checker: whoever submitted a partner (``registerPartner``, ``resubmitPartner``) may not
review it (``startPartnerReview``, ``approvePartner``, ``rejectPartner``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.roles import MANAGERS, ONBOARDERS, QUALIFICATION_SUBMITTERS, REVIEWERS
from partners import models as m
from partners import review
from partners import service as registry
from schema.context import Context
from schema.errors import run_mutation
from schema.partners.arguments import INPUT, acting_partner
from schema.partners.errors import (
    AddPartnerDocumentError,
    AddPartnerLicenceError,
    ApprovePartnerError,
    RegisterPartnerError,
    RejectPartnerError,
    ResubmitPartnerError,
    StartPartnerReviewError,
    SuspendPartnerError,
)
from schema.partners.inputs import (
    AddPartnerDocumentInput,
    AddPartnerLicenceInput,
    PartnerReviewInput,
    RegisterPartnerInput,
)
from schema.partners.types import Partner
from schema.permissions import PUBLIC, access, allow
from schema.relay import decode_global_id, encode_global_id

__all__ = [
    "AddPartnerDocumentPayload",
    "AddPartnerLicencePayload",
    "ApprovePartnerPayload",
    "RegisterPartnerPayload",
    "RegistryMutations",
    "RejectPartnerPayload",
    "ResubmitPartnerPayload",
    "StartPartnerReviewPayload",
    "SuspendPartnerPayload",
]

_PARTNER = "The partner as it is now (null when refused)."
_ERRORS = "Every refusal (empty on success)."


@strawberry.type(description="The result of registerPartner.")
@access(PUBLIC)
class RegisterPartnerPayload:
    partner: Partner | None = strawberry.field(description="The partner, SUBMITTED (null when refused).")
    errors: list[RegisterPartnerError] = strawberry.field(  # type: ignore[valid-type]
        description="Every refusal at once: each bad field of the input (empty on success).")


@strawberry.type(description="The result of addPartnerLicence.")
@access(PUBLIC)
class AddPartnerLicencePayload:
    partner: Partner | None = strawberry.field(description=_PARTNER)
    errors: list[AddPartnerLicenceError] = strawberry.field(description=_ERRORS)  # type: ignore[valid-type]


@strawberry.type(description="The result of addPartnerDocument.")
@access(PUBLIC)
class AddPartnerDocumentPayload:
    partner: Partner | None = strawberry.field(description=_PARTNER)
    errors: list[AddPartnerDocumentError] = strawberry.field(description=_ERRORS)  # type: ignore[valid-type]


@strawberry.type(description="The result of startPartnerReview.")
@access(PUBLIC)
class StartPartnerReviewPayload:
    partner: Partner | None = strawberry.field(description="The partner, REVIEWING (null when refused).")
    errors: list[StartPartnerReviewError] = strawberry.field(description=_ERRORS)  # type: ignore[valid-type]


@strawberry.type(description="The result of approvePartner.")
@access(PUBLIC)
class ApprovePartnerPayload:
    partner: Partner | None = strawberry.field(description="The partner, APPROVED (null when refused).")
    errors: list[ApprovePartnerError] = strawberry.field(description=_ERRORS)  # type: ignore[valid-type]


@strawberry.type(description="The result of rejectPartner.")
@access(PUBLIC)
class RejectPartnerPayload:
    partner: Partner | None = strawberry.field(description="The partner, REJECTED (null when refused).")
    errors: list[RejectPartnerError] = strawberry.field(description=_ERRORS)  # type: ignore[valid-type]


@strawberry.type(description="The result of suspendPartner.")
@access(PUBLIC)
class SuspendPartnerPayload:
    partner: Partner | None = strawberry.field(description="The partner, SUSPENDED (null when refused).")
    errors: list[SuspendPartnerError] = strawberry.field(description=_ERRORS)  # type: ignore[valid-type]


@strawberry.type(description="The result of resubmitPartner.")
@access(PUBLIC)
class ResubmitPartnerPayload:
    partner: Partner | None = strawberry.field(description="The partner, SUBMITTED again (null when refused).")
    errors: list[ResubmitPartnerError] = strawberry.field(description=_ERRORS)  # type: ignore[valid-type]


def _partner_target(p: m.Partner | None) -> str | None:
    return None if p is None else encode_global_id("Partner", p.id)


def _run(info: Info[Context, Any], action: str, data: Any, work: Callable[[Any], m.Partner],
         codes: Any) -> tuple[Partner | None, list[Any]]:
    row, errors = run_mutation(info, action, data, work, target=_partner_target, codes=codes)
    return (Partner.from_row(row) if row else None), errors


def _pid(input: PartnerReviewInput) -> int:
    return decode_global_id(input.partner_id, "Partner", field="partnerId")


@strawberry.type
class RegistryMutations:
    @strawberry.mutation(description="Submit a partner for qualification review (agents, managers, admins); every "
                         "bad input is reported at once. The submitter may not review it.",
                         metadata=allow(ONBOARDERS))
    def register_partner(
        self, info: Info[Context, Any], input: Annotated[RegisterPartnerInput, INPUT]
    ) -> RegisterPartnerPayload:
        ctx = info.context
        partner, errors = _run(info, "registerPartner", input, lambda s: registry.register_partner(
            s, principal=ctx.principal, code=input.code, name=input.name, kind=input.kind, now=ctx.now(),
            licences=[registry.LicenceSpec(x.number, x.issuer, x.valid_from, x.valid_until) for x in input.licences],
            documents=[registry.DocumentSpec(d.kind, d.name, d.sha256, d.size) for d in input.documents]),
            RegisterPartnerError)
        return RegisterPartnerPayload(partner=partner, errors=errors)

    @strawberry.mutation(description="Record a new or renewed licence (agents, managers, admins); an expired "
                         "partner needs one before it is resubmitted.", metadata=allow(ONBOARDERS))
    def add_partner_licence(
        self, info: Info[Context, Any], input: Annotated[AddPartnerLicenceInput, INPUT]
    ) -> AddPartnerLicencePayload:
        ctx = info.context
        x = input.licence

        def work(s: Any) -> m.Partner:
            pid = decode_global_id(input.partner_id, "Partner", field="partnerId")
            registry.add_licence(s, principal=ctx.principal, partner_id=pid, now=ctx.now(),
                                 licence=registry.LicenceSpec(x.number, x.issuer, x.valid_from, x.valid_until))
            return registry.get_partner(s, principal=ctx.principal, partner_id=pid)

        partner, errors = _run(info, "addPartnerLicence", input, work, AddPartnerLicenceError)
        return AddPartnerLicencePayload(partner=partner, errors=errors)

    @strawberry.mutation(description="Record a qualification document by its content digest (onboarding staff, or "
                         "the partner itself for its own registry entry).", metadata=allow(QUALIFICATION_SUBMITTERS))
    def add_partner_document(
        self, info: Info[Context, Any], input: Annotated[AddPartnerDocumentInput, INPUT]
    ) -> AddPartnerDocumentPayload:
        ctx = info.context
        d = input.document

        def work(s: Any) -> m.Partner:
            pid = acting_partner(ctx, input.partner_id)
            registry.add_document(s, principal=ctx.principal, partner_id=pid, now=ctx.now(),
                                  document=registry.DocumentSpec(d.kind, d.name, d.sha256, d.size))
            return registry.get_partner(s, principal=ctx.principal, partner_id=pid)

        partner, errors = _run(info, "addPartnerDocument", input, work, AddPartnerDocumentError)
        return AddPartnerDocumentPayload(partner=partner, errors=errors)

    @strawberry.mutation(description="Start reviewing a SUBMITTED (or SUSPENDED) partner (QA, managers, admins; "
                         "never its submitter).", metadata=allow(REVIEWERS))
    def start_partner_review(
        self, info: Info[Context, Any], input: Annotated[PartnerReviewInput, INPUT]
    ) -> StartPartnerReviewPayload:
        ctx = info.context
        partner, errors = _run(info, "startPartnerReview", input, lambda s: review.start_review(
            s, principal=ctx.principal, partner_id=_pid(input), expected_version=input.expected_version,
            now=ctx.now()), StartPartnerReviewError)
        return StartPartnerReviewPayload(partner=partner, errors=errors)

    @strawberry.mutation(description="Approve a partner under review (QA, managers, admins; never its submitter). "
                         "It needs a licence valid today; its signer keys get PARTNER_ROLE on chain and its client "
                         "credentials may log in.", metadata=allow(REVIEWERS))
    def approve_partner(
        self, info: Info[Context, Any], input: Annotated[PartnerReviewInput, INPUT]
    ) -> ApprovePartnerPayload:
        ctx = info.context
        partner, errors = _run(info, "approvePartner", input, lambda s: review.approve(
            s, principal=ctx.principal, partner_id=_pid(input), expected_version=input.expected_version,
            note=input.reason, now=ctx.now()), ApprovePartnerError)
        return ApprovePartnerPayload(partner=partner, errors=errors)

    @strawberry.mutation(description="Reject a partner under review, with a reason the partner reads (QA, managers, "
                         "admins; never its submitter).", metadata=allow(REVIEWERS))
    def reject_partner(
        self, info: Info[Context, Any], input: Annotated[PartnerReviewInput, INPUT]
    ) -> RejectPartnerPayload:
        ctx = info.context
        partner, errors = _run(info, "rejectPartner", input, lambda s: review.reject(
            s, principal=ctx.principal, partner_id=_pid(input), expected_version=input.expected_version,
            reason=input.reason or "", now=ctx.now()), RejectPartnerError)
        return RejectPartnerPayload(partner=partner, errors=errors)

    @strawberry.mutation(description="Suspend an approved partner at once, with a reason (managers, admins): its keys "
                         "lose PARTNER_ROLE on chain, its records and logins are refused.", metadata=allow(MANAGERS))
    def suspend_partner(
        self, info: Info[Context, Any], input: Annotated[PartnerReviewInput, INPUT]
    ) -> SuspendPartnerPayload:
        ctx = info.context
        partner, errors = _run(info, "suspendPartner", input, lambda s: review.suspend(
            s, principal=ctx.principal, partner_id=_pid(input), expected_version=input.expected_version,
            reason=input.reason or "", now=ctx.now()), SuspendPartnerError)
        return SuspendPartnerPayload(partner=partner, errors=errors)

    @strawberry.mutation(description="Submit a REJECTED or EXPIRED partner again (agents, managers, admins); the "
                         "resubmitter becomes its submitter.", metadata=allow(ONBOARDERS))
    def resubmit_partner(
        self, info: Info[Context, Any], input: Annotated[PartnerReviewInput, INPUT]
    ) -> ResubmitPartnerPayload:
        ctx = info.context
        partner, errors = _run(info, "resubmitPartner", input, lambda s: review.resubmit(
            s, principal=ctx.principal, partner_id=_pid(input), expected_version=input.expected_version,
            note=input.reason, now=ctx.now()), ResubmitPartnerError)
        return ResubmitPartnerPayload(partner=partner, errors=errors)
