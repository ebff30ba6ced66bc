"""The high-risk robot's watch list through GraphQL: who is watched, how high, and why (codes with values)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.roles import RISK_PROFILE_READERS
from resolvers.analytics.models import WatchEntry as WatchRow
from resolvers.analytics.models import WatchStatus as WatchStatusValue
from resolvers.analytics.robot.model import REASON_CODES
from resolvers.analytics.robot.watch import watch_query
from schema.context import Context
from schema.enums import described_enum
from schema.permissions import access, allow
from schema.relay import PAGING, After, Before, Connection, First, Last, encode_global_id, keyset_connection

__all__ = ["RobotQuery", "WatchEntry", "WatchReason"]

WatchStatus = described_enum(WatchStatusValue, name="WatchStatus", description="Whether the robot watches a customer.",
                             values={"WATCHING": "Scored at or above the model's threshold.",
                                     "CLEARED": "Was watched; the score fell below the threshold less 0.1."})
_REASONS = {
    "CLAIM_SOON_AFTER_WAITING_PERIOD": "{v:g} claim(s) within 30 days after a waiting period ended",
    "ENDORSEMENT_THEN_CLAIM": "{v:g} claim(s) within 60 days after an endorsement",
    "MANY_POLICIES_IN_90_DAYS": "{v:g} policies bought within 90 days",
    "FREQUENT_CLAIMS": "{v:g} claims in the last 365 days",
    "CLAIMS_HIGH_AGAINST_PREMIUM": "claimed amount high against premium (log ratio {v:.2f})",
    "SHARED_RISK_FLAGS": "{v:g} risk flag(s) shared by consortium insurers",
    "DECLINED_OR_REFERRED_QUOTES": "{v:g} quote(s) declined or referred to manual underwriting",
}
assert set(_REASONS) == set(REASON_CODES.values())
_ReasonCodeValue = enum.StrEnum("_ReasonCodeValue", {c: c for c in _REASONS})  # type: ignore[misc]
WatchReasonCode = described_enum(
    _ReasonCodeValue, name="WatchReasonCode",
    description="Why the robot watches a customer (a feature of its model).",
    values={c: t.replace("{v:g}", "N").replace("{v:.2f}", "x") for c, t in _REASONS.items()})


@strawberry.type(description="One reason: a code and its value, and the sentence it renders to.")
@access(RISK_PROFILE_READERS)
class WatchReason:
    code: WatchReasonCode = strawberry.field(description="The reason.")  # type: ignore[valid-type]
    value: float = strawberry.field(description="The feature's raw value.")
    message: str = strawberry.field(description="The reason in English, rendered from code and value.")


@strawberry.type(description="A customer the high-risk robot watches (or watched): score, reasons, since when.")
@access(RISK_PROFILE_READERS)
class WatchEntry:
    customer_id: strawberry.ID = strawberry.field(description="The Customer's global id.")
    status: WatchStatus = strawberry.field(description="Watched now, or cleared.")  # type: ignore[valid-type]
    score: float = strawberry.field(description="The model's probability that the customer is high-risk (0-1).")
    reasons: list[WatchReason] = strawberry.field(description="The strongest reasons first (at most four).")
    model_version: str = strawberry.field(description="The model that scored it.")
    flagged_at: dt.datetime = strawberry.field(description="When it was (last) put under watch.")
    scored_at: dt.datetime = strawberry.field(description="When it was last scored.")
    cleared_at: dt.datetime | None = strawberry.field(description="When it was cleared (null while watched).")

    @classmethod
    def from_row(cls, row: WatchRow) -> WatchEntry:
        reasons = [WatchReason(code=WatchReasonCode(code), value=float(v), message=_REASONS[code].format(v=float(v)))
                   for code, v in row.reasons]
        return cls(customer_id=strawberry.ID(encode_global_id("Customer", row.customer_id)), status=row.status,
                   score=round(row.score, 4), reasons=reasons, model_version=row.model_version,
                   flagged_at=row.flagged_at, scored_at=row.scored_at, cleared_at=row.cleared_at)


@strawberry.type
class RobotQuery:
    @strawberry.field(description="The high-risk robot's watch list, oldest first. " + PAGING,
                      metadata=allow(RISK_PROFILE_READERS))
    def risk_watch_list(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                        before: Before = None,
                        statuses: Annotated[list[WatchStatus] | None, strawberry.argument(  # type: ignore[valid-type]
                            description="Only these statuses (default: WATCHING).")] = None) -> Connection[WatchEntry]:
        ctx = info.context
        wanted = [WatchStatusValue(s) for s in statuses] if statuses else [WatchStatusValue.WATCHING]
        return keyset_connection(ctx.session, watch_query(statuses=wanted), wrap=WatchEntry.from_row,
                                 settings=ctx.settings, first=first, after=after, last=last, before=before)
