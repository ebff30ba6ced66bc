"""Mutations on endorsements: mid-term changes of contact and beneficiary."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from core.roles import SELF_SERVICE
from resolvers.policies import models as m
from resolvers.policies import service
from schema.context import Context
from schema.errors import UserError, run_mutation
from schema.permissions import PUBLIC, access, allow
from schema.policies.inputs import BeneficiaryEndorsementInput, ContactEndorsementInput
from schema.policies.types import Endorsement, Policy
from schema.relay import decode_global_id

__all__ = ["EndorsementMutations", "EndorsementPayload"]


@strawberry.type
@access(PUBLIC)
class EndorsementPayload:
    endorsement: Endorsement | None
    policy: Policy | None
    errors: list[UserError]


@strawberry.type
class EndorsementMutations:
    @strawberry.mutation(description="Change the policy's contact phone/email.", metadata=allow(SELF_SERVICE))
    def endorse_contact(self, info: Info[Context, Any], input: ContactEndorsementInput) -> EndorsementPayload:
        ctx = info.context
        row, errors = run_mutation(info, "endorseContact", {"policyId": input.policy_id}, lambda s: service.endorse_contact(
            s, principal=ctx.principal, policy_id=decode_global_id(input.policy_id, "Policy", field="policyId"),
            expected_version=input.expected_version, phone=input.phone, email=input.email, today=ctx.today()))
        return _endorsement_payload(ctx, row, errors)

    @strawberry.mutation(description="Name a new beneficiary.", metadata=allow(SELF_SERVICE))
    def endorse_beneficiary(self, info: Info[Context, Any], input: BeneficiaryEndorsementInput) -> EndorsementPayload:
        ctx = info.context
        row, errors = run_mutation(info, "endorseBeneficiary", {"policyId": input.policy_id}, lambda s: service.endorse_beneficiary(
            s, principal=ctx.principal, policy_id=decode_global_id(input.policy_id, "Policy", field="policyId"),
            expected_version=input.expected_version, name=input.name, relationship=input.relationship,
            today=ctx.today()))
        return _endorsement_payload(ctx, row, errors)


def _endorsement_payload(ctx: Context, row: m.Endorsement | None, errors: list[UserError]) -> EndorsementPayload:
    if row is None:
        return EndorsementPayload(endorsement=None, policy=None, errors=errors)
    policy = service.get_policy(ctx.session, principal=ctx.principal, policy_id=row.policy_id)
    return EndorsementPayload(endorsement=Endorsement.from_row(row), policy=Policy.from_row(policy), errors=errors)
