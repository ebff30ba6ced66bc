"""Mutations on a policy's lifecycle: issue, renew, surrender, cancel in cooling-off, lapse."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.types import Info

from core.roles import MANAGERS, SELF_SERVICE
from resolvers.policies import models as m
from resolvers.policies import service
from schema.context import Context
from schema.errors import UserError, run_mutation
from schema.permissions import PUBLIC, access, allow
from schema.policies.inputs import PolicyChangeInput
from schema.policies.types import Policy
from schema.relay import decode_global_id, encode_global_id

__all__ = ["PolicyMutations", "PolicyPayload"]


@strawberry.type
@access(PUBLIC)
class PolicyPayload:
    policy: Policy | None
    errors: list[UserError]


def _policy_target(p: m.Policy | None) -> str | None:
    return None if p is None else encode_global_id("Policy", p.id)


def _policy_payload(info: Info[Context, Any], action: str, data: Any,
                    work: Callable[[Any], m.Policy]) -> PolicyPayload:
    row, errors = run_mutation(info, action, data, work, target=_policy_target)
    return PolicyPayload(policy=Policy.from_row(row) if row else None, errors=errors)


@strawberry.type
class PolicyMutations:
    @strawberry.mutation(description="Issue a policy from an accepted quote (once).", metadata=allow(SELF_SERVICE))
    def issue_policy(self, info: Info[Context, Any], quote_id: strawberry.ID) -> PolicyPayload:
        ctx = info.context
        return _policy_payload(info, "issuePolicy", {"quoteId": quote_id}, lambda s: service.issue_policy(
            s, principal=ctx.principal, quote_id=decode_global_id(quote_id, "Quote", field="quoteId"),
            today=ctx.today(), now=ctx.now()))

    @strawberry.mutation(description="Renew into the next period.", metadata=allow(SELF_SERVICE))
    def renew_policy(self, info: Info[Context, Any], input: PolicyChangeInput) -> PolicyPayload:
        ctx = info.context
        return _policy_payload(info, "renewPolicy", input, lambda s: service.renew_policy(
            s, principal=ctx.principal, policy_id=decode_global_id(input.policy_id, "Policy", field="policyId"),
            expected_version=input.expected_version, today=ctx.today(), now=ctx.now()))

    @strawberry.mutation(description="Surrender: refund of unearned premium less 25% expenses.",
                         metadata=allow(SELF_SERVICE))
    def surrender_policy(self, info: Info[Context, Any], input: PolicyChangeInput) -> PolicyPayload:
        ctx = info.context
        return _policy_payload(info, "surrenderPolicy", input, lambda s: service.surrender_policy(
            s, principal=ctx.principal, policy_id=decode_global_id(input.policy_id, "Policy", field="policyId"),
            expected_version=input.expected_version, today=ctx.today(), reason=input.reason))

    @strawberry.mutation(description="Cancel within the cooling-off period: full refund.", metadata=allow(SELF_SERVICE))
    def cancel_policy_in_cooling_off(self, info: Info[Context, Any], input: PolicyChangeInput) -> PolicyPayload:
        ctx = info.context
        return _policy_payload(info, "cancelPolicyInCoolingOff", input, lambda s: service.cancel_in_cooling_off(
            s, principal=ctx.principal, policy_id=decode_global_id(input.policy_id, "Policy", field="policyId"),
            expected_version=input.expected_version, today=ctx.today()))

    @strawberry.mutation(description="Lapse a policy whose premium is unpaid after grace.",
                         metadata=allow(MANAGERS))
    def lapse_policy(self, info: Info[Context, Any], input: PolicyChangeInput) -> PolicyPayload:
        ctx = info.context
        return _policy_payload(info, "lapsePolicy", input, lambda s: service.lapse_policy(
            s, principal=ctx.principal, policy_id=decode_global_id(input.policy_id, "Policy", field="policyId"),
            expected_version=input.expected_version, today=ctx.today(), reason=input.reason))
