"""Mutations of the claim-risk rule library: draft, test, publish, pin, roll back (risk managers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from core.roles import RULE_MANAGERS
from resolvers.claims.risk import rule_models as rm
from resolvers.claims.risk import rules_service
from schema.claims.errors import (
    DraftClaimRuleVersionError,
    PinClaimRuleVersionError,
    PublishClaimRuleVersionError,
    RollBackClaimRuleVersionError,
    TestClaimRuleVersionError,
)
from schema.claims.mutations.shared import ERRORS_DOC, INPUT
from schema.claims.rule_inputs import (
    DraftClaimRuleVersionInput,
    PinClaimRuleVersionInput,
    PublishClaimRuleVersionInput,
    RollBackClaimRuleVersionInput,
    TestClaimRuleVersionInput,
)
from schema.claims.rule_types import ClaimRuleTestReport, ClaimRuleVersion, wrap_version
from schema.context import Context
from schema.errors import run_mutation
from schema.permissions import PUBLIC, access, allow
from schema.relay import decode_global_id, encode_global_id

__all__ = ["ClaimRuleMutations"]

_VERSION_DOC = "The version as the mutation left it (null when refused)."


def _version_id(value: strawberry.ID, field: str = "versionId") -> int:
    return decode_global_id(value, "ClaimRuleVersion", field=field)


def _target(row: Any) -> str | None:
    found = row[0] if isinstance(row, tuple) else row
    if isinstance(found, rules_service.RuleTestReport):
        found = found.version
    return encode_global_id("ClaimRuleVersion", found.id) if isinstance(found, rm.ClaimRuleVersion) else None


def _run(info: Info[Context, Any], action: str, data: Any, work: Callable[[Session], Any], codes: Any) -> Any:
    return run_mutation(info, action, data, work, target=_target, codes=codes)


@strawberry.type(description="The result of draftClaimRuleVersion.")
@access(PUBLIC)
class DraftClaimRuleVersionPayload:
    rule_version: ClaimRuleVersion | None = strawberry.field(description=_VERSION_DOC)
    errors: list[DraftClaimRuleVersionError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of testClaimRuleVersion.")
@access(PUBLIC)
class TestClaimRuleVersionPayload:
    report: ClaimRuleTestReport | None = strawberry.field(description="What the version would change, claim by "
                                                          "claim (null when refused).")
    rule_version: ClaimRuleVersion | None = strawberry.field(description="The version with its test summary "
                                                             "(lastTestedAt, lastTestClaims, lastTestChanged).")
    errors: list[TestClaimRuleVersionError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of publishClaimRuleVersion.")
@access(PUBLIC)
class PublishClaimRuleVersionPayload:
    rule_version: ClaimRuleVersion | None = strawberry.field(description=_VERSION_DOC)
    errors: list[PublishClaimRuleVersionError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of pinClaimRuleVersion.")
@access(PUBLIC)
class PinClaimRuleVersionPayload:
    live: ClaimRuleVersion | None = strawberry.field(description="The version live after the change (null when "
                                                     "refused, or when none is published).")
    errors: list[PinClaimRuleVersionError] = strawberry.field(description=ERRORS_DOC)  # type: ignore[valid-type]


@strawberry.type(description="The result of rollBackClaimRuleVersion.")
@access(PUBLIC)
class RollBackClaimRuleVersionPayload:
    rolled_back: ClaimRuleVersion | None = strawberry.field(description="The withdrawn version (null when refused).")
    live: ClaimRuleVersion | None = strawberry.field(description="The version live now: the previous published one.")
    errors: list[RollBackClaimRuleVersionError] = strawberry.field(  # type: ignore[valid-type]
        description=ERRORS_DOC)


@strawberry.type
class ClaimRuleMutations:
    @strawberry.mutation(description="Draft a new version of the claim-risk decision table (risk managers: managers "
                         "and admins). The table is checked whole and every problem is reported at once; nothing is "
                         "stored when any is found.", metadata=allow(RULE_MANAGERS))
    def draft_claim_rule_version(self, info: Info[Context, Any],
                                 input: Annotated[DraftClaimRuleVersionInput, INPUT]) -> DraftClaimRuleVersionPayload:
        ctx = info.context
        row, errors = _run(info, "draftClaimRuleVersion", input, lambda s: rules_service.draft_version(
            s, principal=ctx.principal, label=input.label, description=input.description, document=input.document,
            based_on_id=_version_id(input.based_on_id, "basedOnId") if input.based_on_id else None, now=ctx.now()),
            DraftClaimRuleVersionError)
        return DraftClaimRuleVersionPayload(rule_version=wrap_version(ctx.session)(row) if row else None,
                                            errors=errors)

    @strawberry.mutation(description="Run a version (usually a draft) over the most recently submitted claims and "
                         "say, claim by claim, what it would change against the version that judged each claim; "
                         "the summary is kept on the version. Changes no claim.", metadata=allow(RULE_MANAGERS))
    def test_claim_rule_version(self, info: Info[Context, Any],
                                input: Annotated[TestClaimRuleVersionInput, INPUT]) -> TestClaimRuleVersionPayload:
        ctx = info.context
        report, errors = _run(info, "testClaimRuleVersion", input, lambda s: rules_service.test_version(
            s, principal=ctx.principal, version_id=_version_id(input.version_id), last=input.last, now=ctx.now(),
            extra=ctx.settings.extra), TestClaimRuleVersionError)
        if report is None:
            return TestClaimRuleVersionPayload(report=None, rule_version=None, errors=errors)
        fresh = rules_service.get_version(ctx.session, version_id=report.version.id)
        return TestClaimRuleVersionPayload(report=ClaimRuleTestReport.from_report(report),
                                           rule_version=wrap_version(ctx.session)(fresh), errors=errors)

    @strawberry.mutation(description="Publish a draft: it becomes the newest published version and judges new "
                         "claims unless another version is pinned.", metadata=allow(RULE_MANAGERS))
    def publish_claim_rule_version(
        self, info: Info[Context, Any], input: Annotated[PublishClaimRuleVersionInput, INPUT],
    ) -> PublishClaimRuleVersionPayload:
        ctx = info.context
        row, errors = _run(info, "publishClaimRuleVersion", input, lambda s: rules_service.publish_version(
            s, principal=ctx.principal, version_id=_version_id(input.version_id),
            expected_version=input.expected_version, now=ctx.now()), PublishClaimRuleVersionError)
        return PublishClaimRuleVersionPayload(rule_version=wrap_version(ctx.session)(row) if row else None,
                                              errors=errors)

    @strawberry.mutation(description="Pin a published version as live whatever is published later, or unpin "
                         "(versionId null).", metadata=allow(RULE_MANAGERS))
    def pin_claim_rule_version(self, info: Info[Context, Any],
                               input: Annotated[PinClaimRuleVersionInput, INPUT]) -> PinClaimRuleVersionPayload:
        ctx = info.context
        row, errors = _run(info, "pinClaimRuleVersion", input, lambda s: rules_service.pin_version(
            s, principal=ctx.principal, version_id=_version_id(input.version_id) if input.version_id else None,
            now=ctx.now()), PinClaimRuleVersionError)
        return PinClaimRuleVersionPayload(live=wrap_version(ctx.session)(row) if row else None, errors=errors)

    @strawberry.mutation(description="Roll back the live version: it is withdrawn (ROLLED_BACK, with the reason), "
                         "any pin is cleared and the previous published version judges new claims.",
                         metadata=allow(RULE_MANAGERS))
    def roll_back_claim_rule_version(
        self, info: Info[Context, Any], input: Annotated[RollBackClaimRuleVersionInput, INPUT],
    ) -> RollBackClaimRuleVersionPayload:
        ctx = info.context
        pair, errors = _run(info, "rollBackClaimRuleVersion", input, lambda s: rules_service.rollback_version(
            s, principal=ctx.principal, version_id=_version_id(input.version_id), reason=input.reason,
            now=ctx.now()), RollBackClaimRuleVersionError)
        if pair is None:
            return RollBackClaimRuleVersionPayload(rolled_back=None, live=None, errors=errors)
        wrap = wrap_version(ctx.session)
        return RollBackClaimRuleVersionPayload(rolled_back=wrap(pair[0]), live=wrap(pair[1]), errors=errors)
