"""Mutations sharing risk data: publishing a risk flag on a blinded person id."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from core.roles import PARTNERS
from partners import risk
from schema.context import Context
from schema.errors import UserError, run_mutation
from schema.partners.inputs import PublishRiskFlagInput
from schema.partners.types import RiskFlag
from schema.permissions import PUBLIC, access, allow
from schema.relay import encode_global_id

__all__ = ["RiskFlagPayload", "RiskMutations"]


@strawberry.type
@access(PUBLIC)
class RiskFlagPayload:
    risk_flag: RiskFlag | None
    errors: list[UserError]


@strawberry.type
class RiskMutations:
    @strawberry.mutation(description="Publish a risk flag about a blinded person id (partner insurers).",
                         metadata=allow(PARTNERS))
    def publish_risk_flag(self, info: Info[Context, Any], input: PublishRiskFlagInput) -> RiskFlagPayload:
        ctx = info.context
        row, errors = run_mutation(info, "publishRiskFlag", input, lambda s: risk.publish_flag(
            s, principal=ctx.principal, blinded_id=input.blinded_id, flag_code=input.flag_code, level=input.level,
            evidence_commitment=input.evidence_commitment, now=ctx.now()),
            target=lambda r: None if r is None else encode_global_id("RiskFlag", r.id))
        return RiskFlagPayload(risk_flag=RiskFlag.from_row(row) if row else None, errors=errors)
