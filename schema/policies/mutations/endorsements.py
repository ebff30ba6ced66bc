"""Mutations on endorsements: mid-term changes of contact and beneficiary."""

from __future__ import annotations

import enum
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.roles import SELF_SERVICE
from resolvers.policies import models as m
from resolvers.policies import service
from schema.context import Context
from schema.errors import mutation_errors, run_mutation
from schema.permissions import PUBLIC, access, allow
from schema.policies.inputs import BeneficiaryEndorsementInput, ContactEndorsementInput
from schema.policies.types import Endorsement, Policy
from schema.relay import decode_global_id, encode_global_id

__all__ = ["EndorseBeneficiaryError", "EndorseBeneficiaryPayload", "EndorseContactError", "EndorseContactPayload",
           "EndorsementMutations"]

_NOT_ACTIVE = "The policy is not active: only an active policy is endorsed."


class EndorseContactErrorCode(enum.Enum):
    POLICY_NOT_ACTIVE = _NOT_ACTIVE
    BAD_PHONE = "The phone is not a valid phone number."
    BAD_EMAIL = "The email is not an email address."


class EndorseBeneficiaryErrorCode(enum.Enum):
    POLICY_NOT_ACTIVE = _NOT_ACTIVE


EndorseContactError = mutation_errors("EndorseContact", EndorseContactErrorCode)
EndorseBeneficiaryError = mutation_errors("EndorseBeneficiary", EndorseBeneficiaryErrorCode)


@strawberry.type(description="The result of endorseContact.")
@access(PUBLIC)
class EndorseContactPayload:
    endorsement: Endorsement | None = strawberry.field(description="The recorded change (null when refused).")
    policy: Policy | None = strawberry.field(description="The policy after the change, read fresh (null when "
                                             "refused).")
    errors: list[EndorseContactError] = strawberry.field(  # type: ignore[valid-type]
        description="Every refusal (empty on success).")


@strawberry.type(description="The result of endorseBeneficiary.")
@access(PUBLIC)
class EndorseBeneficiaryPayload:
    endorsement: Endorsement | None = strawberry.field(description="The recorded change (null when refused).")
    policy: Policy | None = strawberry.field(description="The policy after the change, read fresh (null when "
                                             "refused).")
    errors: list[EndorseBeneficiaryError] = strawberry.field(  # type: ignore[valid-type]
        description="Every refusal (empty on success).")


def _policy_target(e: m.Endorsement | None) -> str | None:
    return None if e is None else encode_global_id("Policy", e.policy_id)


def _policy_after(ctx: Context, row: m.Endorsement) -> Policy:
    # run_mutation ended the request's read transaction: this reads the committed change.
    return Policy.from_row(service.get_policy(ctx.session, principal=ctx.principal, policy_id=row.policy_id))


_ContactInput = Annotated[ContactEndorsementInput, strawberry.argument(description="The policy and its new contact details.")]

_BeneficiaryInput = Annotated[BeneficiaryEndorsementInput, strawberry.argument(description="The policy and its new beneficiary.")]

@strawberry.type
class EndorsementMutations:
    @strawberry.mutation(description="Change the policy's contact phone and/or email (at least one; the customer "
                         "themself, or agents, managers, admins). Reports a bad phone and a bad email together.",
                         metadata=allow(SELF_SERVICE))
    def endorse_contact(self, info: Info[Context, Any], input: _ContactInput) -> EndorseContactPayload:
        ctx = info.context
        row, errors = run_mutation(info, "endorseContact", {"policyId": input.policy_id}, lambda s: service.endorse_contact(
            s, principal=ctx.principal, policy_id=decode_global_id(input.policy_id, "Policy", field="policyId"),
            expected_version=input.expected_version, phone=input.phone, email=input.email, today=ctx.today()),
            target=_policy_target, codes=EndorseContactError)
        if row is None:
            return EndorseContactPayload(endorsement=None, policy=None, errors=errors)
        return EndorseContactPayload(endorsement=Endorsement.from_row(row), policy=_policy_after(ctx, row), errors=[])

    @strawberry.mutation(description="Name a new beneficiary (the customer themself, or agents, managers, admins).",
                         metadata=allow(SELF_SERVICE))
    def endorse_beneficiary(self, info: Info[Context, Any],
                            input: _BeneficiaryInput) -> EndorseBeneficiaryPayload:
        ctx = info.context
        row, errors = run_mutation(info, "endorseBeneficiary", {"policyId": input.policy_id}, lambda s: service.endorse_beneficiary(
            s, principal=ctx.principal, policy_id=decode_global_id(input.policy_id, "Policy", field="policyId"),
            expected_version=input.expected_version, name=input.name, relationship=input.relationship,
            today=ctx.today()), target=_policy_target, codes=EndorseBeneficiaryError)
        if row is None:
            return EndorseBeneficiaryPayload(endorsement=None, policy=None, errors=errors)
        return EndorseBeneficiaryPayload(endorsement=Endorsement.from_row(row), policy=_policy_after(ctx, row),
                                         errors=[])
