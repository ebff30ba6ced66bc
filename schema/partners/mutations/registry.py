"""Mutations on the partner registry: registration, licences, documents, the qualification review."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.types import Info

from core.roles import MANAGERS, ONBOARDERS, QUALIFICATION_SUBMITTERS, REVIEWERS
from partners import models as m
from partners import review
from partners import service as registry
from schema.context import Context
from schema.errors import UserError, run_mutation
from schema.partners.arguments import acting_partner
from schema.partners.inputs import (
    AddPartnerDocumentInput,
    AddPartnerLicenceInput,
    PartnerReviewInput,
    RegisterPartnerInput,
)
from schema.partners.types import Partner
from schema.permissions import PUBLIC, access, allow
from schema.relay import decode_global_id, encode_global_id

__all__ = ["PartnerPayload", "RegistryMutations"]


@strawberry.type
@access(PUBLIC)
class PartnerPayload:
    partner: Partner | None
    errors: list[UserError]


def _partner_target(p: m.Partner | None) -> str | None:
    return None if p is None else encode_global_id("Partner", p.id)


def _partner_payload(info: Info[Context, Any], action: str, data: Any, work: Callable[[Any], m.Partner]) -> PartnerPayload:
    row, errors = run_mutation(info, action, data, work, target=_partner_target)
    return PartnerPayload(partner=Partner.from_row(row) if row else None, errors=errors)


@strawberry.type
class RegistryMutations:
    @strawberry.mutation(description="Submit a partner for qualification review.", metadata=allow(ONBOARDERS))
    def register_partner(self, info: Info[Context, Any], input: RegisterPartnerInput) -> PartnerPayload:
        ctx = info.context
        return _partner_payload(info, "registerPartner", input, lambda s: registry.register_partner(
            s, principal=ctx.principal, code=input.code, name=input.name, kind=input.kind, now=ctx.now(),
            licences=[registry.LicenceSpec(x.number, x.issuer, x.valid_from, x.valid_until) for x in input.licences],
            documents=[registry.DocumentSpec(d.kind, d.name, d.sha256, d.size) for d in input.documents]))

    @strawberry.mutation(description="Record a new or renewed licence.", metadata=allow(ONBOARDERS))
    def add_partner_licence(self, info: Info[Context, Any], input: AddPartnerLicenceInput) -> PartnerPayload:
        ctx = info.context
        pid = decode_global_id(input.partner_id, "Partner", field="partnerId")
        x = input.licence

        def work(s: Any) -> m.Partner:
            registry.add_licence(s, principal=ctx.principal, partner_id=pid, now=ctx.now(),
                                 licence=registry.LicenceSpec(x.number, x.issuer, x.valid_from, x.valid_until))
            return registry.get_partner(s, principal=ctx.principal, partner_id=pid)

        return _partner_payload(info, "addPartnerLicence", input, work)

    @strawberry.mutation(description="Record a qualification document (by content digest).",
                         metadata=allow(QUALIFICATION_SUBMITTERS))
    def add_partner_document(self, info: Info[Context, Any], input: AddPartnerDocumentInput) -> PartnerPayload:
        ctx = info.context
        d = input.document

        def work(s: Any) -> m.Partner:
            pid = acting_partner(ctx, input.partner_id)
            registry.add_document(s, principal=ctx.principal, partner_id=pid, now=ctx.now(),
                                  document=registry.DocumentSpec(d.kind, d.name, d.sha256, d.size))
            return registry.get_partner(s, principal=ctx.principal, partner_id=pid)

        return _partner_payload(info, "addPartnerDocument", input, work)

    @strawberry.mutation(description="Start reviewing a submitted (or suspended) partner; not by its submitter.",
                         metadata=allow(REVIEWERS))
    def start_partner_review(self, info: Info[Context, Any], input: PartnerReviewInput) -> PartnerPayload:
        ctx = info.context
        return _partner_payload(info, "startPartnerReview", input, lambda s: review.start_review(
            s, principal=ctx.principal, partner_id=decode_global_id(input.partner_id, "Partner", field="partnerId"),
            expected_version=input.expected_version, now=ctx.now()))

    @strawberry.mutation(description="Approve a partner under review (needs a licence valid today); "
                         "its signer keys get PARTNER_ROLE on chain.", metadata=allow(REVIEWERS))
    def approve_partner(self, info: Info[Context, Any], input: PartnerReviewInput) -> PartnerPayload:
        ctx = info.context
        return _partner_payload(info, "approvePartner", input, lambda s: review.approve(
            s, principal=ctx.principal, partner_id=decode_global_id(input.partner_id, "Partner", field="partnerId"),
            expected_version=input.expected_version, note=input.reason, now=ctx.now()))

    @strawberry.mutation(description="Reject a partner under review, with a reason.", metadata=allow(REVIEWERS))
    def reject_partner(self, info: Info[Context, Any], input: PartnerReviewInput) -> PartnerPayload:
        ctx = info.context
        return _partner_payload(info, "rejectPartner", input, lambda s: review.reject(
            s, principal=ctx.principal, partner_id=decode_global_id(input.partner_id, "Partner", field="partnerId"),
            expected_version=input.expected_version, reason=input.reason or "", now=ctx.now()))

    @strawberry.mutation(description="Suspend an approved partner at once; its keys lose PARTNER_ROLE on chain.",
                         metadata=allow(MANAGERS))
    def suspend_partner(self, info: Info[Context, Any], input: PartnerReviewInput) -> PartnerPayload:
        ctx = info.context
        return _partner_payload(info, "suspendPartner", input, lambda s: review.suspend(
            s, principal=ctx.principal, partner_id=decode_global_id(input.partner_id, "Partner", field="partnerId"),
            expected_version=input.expected_version, reason=input.reason or "", now=ctx.now()))

    @strawberry.mutation(description="Submit a rejected or expired partner again.", metadata=allow(ONBOARDERS))
    def resubmit_partner(self, info: Info[Context, Any], input: PartnerReviewInput) -> PartnerPayload:
        ctx = info.context
        return _partner_payload(info, "resubmitPartner", input, lambda s: review.resubmit(
            s, principal=ctx.principal, partner_id=decode_global_id(input.partner_id, "Partner", field="partnerId"),
            expected_version=input.expected_version, note=input.reason, now=ctx.now()))
