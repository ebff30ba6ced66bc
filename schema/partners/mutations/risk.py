"""Mutations sharing risk data: publishing a risk flag on a blinded person id."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.roles import PARTNERS
from partners import risk
from schema.context import Context
from schema.errors import run_mutation
from schema.partners.arguments import INPUT
from schema.partners.errors import PublishRiskFlagError
from schema.partners.inputs import PublishRiskFlagInput
from schema.partners.types import RiskFlag
from schema.permissions import PUBLIC, access, allow
from schema.relay import encode_global_id

__all__ = ["PublishRiskFlagPayload", "RiskMutations"]


@strawberry.type(description="The result of publishRiskFlag.")
@access(PUBLIC)
class PublishRiskFlagPayload:
    risk_flag: RiskFlag | None = strawberry.field(description="The published flag, committed to the ledger (null "
                                                              "when refused).")
    errors: list[PublishRiskFlagError] = strawberry.field(  # type: ignore[valid-type]
        description="Every refusal (empty on success).")


@strawberry.type
class RiskMutations:
    @strawberry.mutation(description="Publish a risk flag about a blinded person id (approved partner insurers). It is "
                         "anchored on the ledger; insurers that flagged the same id hear of it (flag.matched).",
                         metadata=allow(PARTNERS))
    def publish_risk_flag(
        self, info: Info[Context, Any], input: Annotated[PublishRiskFlagInput, INPUT]
    ) -> PublishRiskFlagPayload:
        ctx = info.context
        row, errors = run_mutation(info, "publishRiskFlag", input, lambda s: risk.publish_flag(
            s, principal=ctx.principal, blinded_id=input.blinded_id, flag_code=input.flag_code, level=str(input.level),
            evidence_commitment=input.evidence_commitment, now=ctx.now()), codes=PublishRiskFlagError,
            target=lambda r: None if r is None else encode_global_id("RiskFlag", r.id))
        return PublishRiskFlagPayload(risk_flag=RiskFlag.from_row(row) if row else None, errors=errors)
