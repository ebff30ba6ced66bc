"""Mutations on a policy's lifecycle: issue, renew, surrender, cancel in cooling-off, lapse."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry.types import Info

from core.roles import MANAGERS, SELF_SERVICE
from resolvers.policies import models as m
from resolvers.policies import service
from schema.context import Context
from schema.errors import mutation_errors, run_mutation
from schema.permissions import PUBLIC, access, allow
from schema.policies.inputs import PolicyChangeInput
from schema.policies.types import Policy
from schema.relay import decode_global_id, encode_global_id

__all__ = [
    "CancelPolicyInCoolingOffError",
    "CancelPolicyInCoolingOffPayload",
    "IssuePolicyError",
    "IssuePolicyPayload",
    "LapsePolicyError",
    "LapsePolicyPayload",
    "PolicyMutations",
    "RenewPolicyError",
    "RenewPolicyPayload",
    "SurrenderPolicyError",
    "SurrenderPolicyPayload",
]

_NOT_ACTIVE = "The policy is not active (cancelled, surrendered, lapsed or expired)."


class IssuePolicyErrorCode(enum.Enum):
    ALREADY_BOUND = "The quote has issued its policy already (a quote issues once)."
    QUOTE_DECLINED = "Underwriting declined the quote."
    QUOTE_REFERRED = "The quote waits for manual underwriting (status REFERRED): it issues no policy."
    QUOTE_EXPIRED = "The quote's validUntil has passed: request a new quote."


class RenewPolicyErrorCode(enum.Enum):
    POLICY_NOT_ACTIVE = "The policy was cancelled, surrendered or lapsed (active and expired policies renew)."
    NOT_RENEWABLE_NOW = "Outside the renewal window: 60 days before to 60 days after the period's end."
    ALREADY_RENEWED = "The policy was renewed already."
    NOT_ON_SALE = "The product is no longer on sale, so it does not renew."
    AGE_OUT_OF_RANGE = "The insured's age at the new start is outside the product's ages."


class SurrenderPolicyErrorCode(enum.Enum):
    POLICY_NOT_ACTIVE = _NOT_ACTIVE
    PERIOD_OVER = "The policy's period is over: nothing is left to surrender."


class CancelPolicyInCoolingOffErrorCode(enum.Enum):
    POLICY_NOT_ACTIVE = _NOT_ACTIVE
    COOLING_OFF_OVER = "The cooling-off period has ended (the message gives its last day): surrender instead."


class LapsePolicyErrorCode(enum.Enum):
    POLICY_NOT_ACTIVE = _NOT_ACTIVE


IssuePolicyError = mutation_errors("IssuePolicy", IssuePolicyErrorCode)
RenewPolicyError = mutation_errors("RenewPolicy", RenewPolicyErrorCode)
SurrenderPolicyError = mutation_errors("SurrenderPolicy", SurrenderPolicyErrorCode)
CancelPolicyInCoolingOffError = mutation_errors("CancelPolicyInCoolingOff", CancelPolicyInCoolingOffErrorCode)
LapsePolicyError = mutation_errors("LapsePolicy", LapsePolicyErrorCode)


_POLICY_DOC = "The policy as the mutation left it (null when refused)."
_ERRORS_DOC = "Every refusal (empty on success)."


@strawberry.type(description="The result of issuePolicy.")
@access(PUBLIC)
class IssuePolicyPayload:
    policy: Policy | None = strawberry.field(description="The issued policy (null when refused).")
    errors: list[IssuePolicyError] = strawberry.field(description=_ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of renewPolicy.")
@access(PUBLIC)
class RenewPolicyPayload:
    policy: Policy | None = strawberry.field(description="The new policy of the next period (null when refused).")
    errors: list[RenewPolicyError] = strawberry.field(description=_ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of surrenderPolicy.")
@access(PUBLIC)
class SurrenderPolicyPayload:
    policy: Policy | None = strawberry.field(description=_POLICY_DOC)
    errors: list[SurrenderPolicyError] = strawberry.field(description=_ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of cancelPolicyInCoolingOff.")
@access(PUBLIC)
class CancelPolicyInCoolingOffPayload:
    policy: Policy | None = strawberry.field(description=_POLICY_DOC)
    errors: list[CancelPolicyInCoolingOffError] = strawberry.field(  # type: ignore[valid-type]
        description=_ERRORS_DOC)


@strawberry.type(description="The result of lapsePolicy.")
@access(PUBLIC)
class LapsePolicyPayload:
    policy: Policy | None = strawberry.field(description=_POLICY_DOC)
    errors: list[LapsePolicyError] = strawberry.field(description=_ERRORS_DOC)  # type: ignore[valid-type]


P = TypeVar("P")


def _policy_target(p: m.Policy | None) -> str | None:
    return None if p is None else encode_global_id("Policy", p.id)


def _run(info: Info[Context, Any], action: str, data: Any, work: Callable[[Any], m.Policy],
         payload: Callable[..., P], codes: Any) -> P:
    row, errors = run_mutation(info, action, data, work, target=_policy_target, codes=codes)
    return payload(policy=Policy.from_row(row) if row else None, errors=errors)


def _policy_id(input: PolicyChangeInput) -> int:
    return decode_global_id(input.policy_id, "Policy", field="policyId")


_Change = Annotated[PolicyChangeInput, strawberry.argument(
    description="The policy, the version last read and (surrender, lapse) a note.")]
_QuoteId = Annotated[strawberry.ID, strawberry.argument(description="Global id of an open quote of the customer.")]


@strawberry.type
class PolicyMutations:
    @strawberry.mutation(description="Issue a policy from an open, accepted quote (once per quote; the customer "
                         "themself, or agents, managers, admins).", metadata=allow(SELF_SERVICE))
    def issue_policy(self, info: Info[Context, Any], quote_id: _QuoteId) -> IssuePolicyPayload:
        ctx = info.context
        return _run(info, "issuePolicy", {"quoteId": quote_id}, lambda s: service.issue_policy(
            s, principal=ctx.principal, quote_id=decode_global_id(quote_id, "Quote", field="quoteId"),
            today=ctx.today(), now=ctx.now()), IssuePolicyPayload, IssuePolicyError)

    @strawberry.mutation(description="Renew into the next period at the insured's new age (once; from 60 days "
                         "before to 60 days after the period's end). The payload's policy is the new one.",
                         metadata=allow(SELF_SERVICE))
    def renew_policy(self, info: Info[Context, Any],
                     input: _Change) -> RenewPolicyPayload:
        ctx = info.context
        return _run(info, "renewPolicy", input, lambda s: service.renew_policy(
            s, principal=ctx.principal, policy_id=_policy_id(input), expected_version=input.expected_version,
            today=ctx.today(), now=ctx.now()), RenewPolicyPayload, RenewPolicyError)

    @strawberry.mutation(description="Surrender: the unearned premium is refunded less 25% expenses.",
                         metadata=allow(SELF_SERVICE))
    def surrender_policy(self, info: Info[Context, Any],
                         input: _Change) -> SurrenderPolicyPayload:
        ctx = info.context
        return _run(info, "surrenderPolicy", input, lambda s: service.surrender_policy(
            s, principal=ctx.principal, policy_id=_policy_id(input), expected_version=input.expected_version,
            today=ctx.today(), reason=input.reason), SurrenderPolicyPayload, SurrenderPolicyError)

    @strawberry.mutation(description="Cancel within the cooling-off period: void from the start, premium refunded "
                         "in full.", metadata=allow(SELF_SERVICE))
    def cancel_policy_in_cooling_off(
        self, info: Info[Context, Any], input: _Change
    ) -> CancelPolicyInCoolingOffPayload:
        ctx = info.context
        return _run(info, "cancelPolicyInCoolingOff", input, lambda s: service.cancel_in_cooling_off(
            s, principal=ctx.principal, policy_id=_policy_id(input), expected_version=input.expected_version,
            today=ctx.today()), CancelPolicyInCoolingOffPayload, CancelPolicyInCoolingOffError)

    @strawberry.mutation(description="Lapse a policy whose premium is unpaid after grace; no refund (managers and "
                         "admins).", metadata=allow(MANAGERS))
    def lapse_policy(self, info: Info[Context, Any],
                     input: _Change) -> LapsePolicyPayload:
        ctx = info.context
        return _run(info, "lapsePolicy", input, lambda s: service.lapse_policy(
            s, principal=ctx.principal, policy_id=_policy_id(input), expected_version=input.expected_version,
            today=ctx.today(), reason=input.reason), LapsePolicyPayload, LapsePolicyError)
