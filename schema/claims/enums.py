"""GraphQL enums of the claims domain (the service's enums, exposed under their schema names)."""

from __future__ import annotations

import strawberry

from resolvers.claims import models as m
from resolvers.claims.queue import QueueSort
from resolvers.claims.reasons import ReasonCode

__all__ = ["ClaimChannel", "ClaimQueueSort", "ClaimReasonCode", "ClaimState", "DocumentKind", "LineItemSource",
           "PayeeKind", "RiskLevel"]

ClaimState = strawberry.enum(m.ClaimState, name="ClaimState")
ClaimChannel = strawberry.enum(m.ClaimChannel, name="ClaimChannel")
RiskLevel = strawberry.enum(m.RiskLevel, name="RiskLevel")
DocumentKind = strawberry.enum(m.DocumentKind, name="DocumentKind")
LineItemSource = strawberry.enum(m.LineItemSource, name="LineItemSource")
PayeeKind = strawberry.enum(m.PayeeKind, name="PayeeKind")
ClaimReasonCode = strawberry.enum(ReasonCode, name="ClaimReasonCode",
                                  description="Why a claim event or decision happened (the reason's text is "
                                  "rendered per reader).")
ClaimQueueSort = strawberry.enum(QueueSort, name="ClaimQueueSort")
