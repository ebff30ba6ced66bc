"""A personal risk profile: claim frequency, amounts and flags over the last year."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from resolvers.claims.models import Claim, ClaimState

__all__ = ["RiskProfile", "risk_profile"]


@dataclass(frozen=True)
class RiskProfile:
    """What a customer's history says about risk (excluding the claim under assessment)."""

    claims_365: int
    amount_365: Decimal
    rejected_365: int
    flagged_365: int
    shared_flags: int = 0


def risk_profile(session: Session, *, customer_id: int, today: dt.date, exclude_claim_id: int | None = None,
                 shared_flags: int = 0) -> RiskProfile:
    """Aggregate the customer's claims reported in the 365 days before ``today`` (one query).

    ``shared_flags`` is the count of risk flags partners shared on this person (the
    partners domain's consortium look-up); it is passed in, since it needs the caller's
    insurer identity.
    """
    since = today - dt.timedelta(days=365)
    conds = [Claim.customer_id == customer_id, Claim.event_date >= since, Claim.state != ClaimState.DRAFT]
    if exclude_claim_id is not None:
        conds.append(Claim.id != exclude_claim_id)
    row = session.execute(
        select(
            func.count(Claim.id),
            func.coalesce(func.sum(Claim.claimed_amount), 0),
            func.coalesce(func.sum(case((Claim.state == ClaimState.REJECTED, 1), else_=0)), 0),
            func.coalesce(func.sum(case((Claim.duplicate_of_id.is_not(None), 1), else_=0)), 0),
        ).where(*conds)
    ).one()
    return RiskProfile(claims_365=int(row[0]), amount_365=Decimal(str(row[1])), rejected_365=int(row[2]),
                       flagged_365=int(row[3]), shared_flags=shared_flags)
