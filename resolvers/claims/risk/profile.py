"""A personal risk profile: claim frequency, amounts and flags over the last year.

``risk_profile`` feeds risk control (the facts of one claim's assessment);
``customer_risk_profile`` is what adjusters and risk staff read (``Customer.riskProfile``):
history features, the risk flags partners shared on the person (looked up by blinded id
through the partners' service) and hints naming what deserves attention.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from core.errors import ValidationError
from resolvers.claims.models import Claim, ClaimState, RiskLevel

__all__ = ["CustomerRiskProfile", "ProfileHint", "RiskProfile", "customer_risk_profile", "risk_profile",
           "shared_flags_of"]

_SYSTEM = Principal(subject="system:risk-profile", role=Role.ADMIN)


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


@dataclass(frozen=True)
class ProfileHint:
    """Why the profile deserves attention: a code, a level and a sentence for staff."""

    code: str
    level: str
    message: str


@dataclass(frozen=True)
class CustomerRiskProfile:
    """What adjusters and risk staff read about a customer: history features, shared flags, hints."""

    customer_id: int
    total_claims: int
    open_claims: int
    claims_365: int
    amount_365: Decimal
    paid_365: Decimal
    rejected_365: int
    duplicates_365: int
    high_risk_365: int
    last_event_on: dt.date | None
    shared_flags: tuple[Any, ...]
    hints: tuple[ProfileHint, ...]


_CLOSED = (ClaimState.DRAFT, ClaimState.PAID, ClaimState.CLOSED, ClaimState.REJECTED)
#: (code, level, test, message) of the profile's hints, in the order shown.
_HINTS: tuple[tuple[str, str, Callable[[CustomerRiskProfile], bool], str], ...] = (
    ("SHARED_FLAG_HIGH", "high", lambda p: any(f.level == "high" for f in p.shared_flags),
     "a partner insurer shared a high-level risk flag on this person (see sharedFlags and their proofs)"),
    ("SHARED_FLAG", "medium", lambda p: any(f.level != "high" for f in p.shared_flags),
     "partner insurers shared risk flags on this person (see sharedFlags)"),
    ("VERY_FREQUENT_CLAIMANT", "high", lambda p: p.claims_365 >= 8, "eight or more claims in the last 365 days"),
    ("FREQUENT_CLAIMANT", "medium", lambda p: 4 <= p.claims_365 < 8, "four or more claims in the last 365 days"),
    ("HIGH_RISK_CLAIMS", "medium", lambda p: p.high_risk_365 > 0, "claims rated high risk in the last 365 days"),
    ("REJECTED_BEFORE", "medium", lambda p: p.rejected_365 > 0, "claims rejected in the last 365 days"),
    ("DUPLICATES_SUSPECTED", "medium", lambda p: p.duplicates_365 > 0,
     "claims suspected to duplicate another in the last 365 days"),
)


def shared_flags_of(session: Session, *, customer_id: int, consortium: Any) -> list[Any]:
    """Risk flags partners shared on the customer's blinded id, newest first (none without a consortium key)."""
    if consortium is None:
        return []
    from partners import risk as shared  # the partners domain's public look-up
    from resolvers.policies import service as policy_service

    id_number = policy_service.customer_id_number(session, customer_id=customer_id)
    if not id_number:
        return []
    try:
        blinded = consortium.blind(id_number)
    except ValidationError:  # not an ID number the consortium can blind
        return []
    return shared.find_flags(session, principal=_SYSTEM, blinded_id=blinded)


def customer_risk_profile(session: Session, *, customer_id: int, today: dt.date,
                          consortium: Any = None) -> CustomerRiskProfile:
    """The customer's risk profile as of ``today`` (business date): two queries and the shared-flag look-up."""
    since = today - dt.timedelta(days=365)
    recent = Claim.event_date >= since
    row = session.execute(
        select(
            func.count(Claim.id),
            func.coalesce(func.sum(case((Claim.state.not_in(_CLOSED), 1), else_=0)), 0),
            func.max(Claim.event_date),
        ).where(Claim.customer_id == customer_id, Claim.state != ClaimState.DRAFT)
    ).one()
    year = session.execute(
        select(func.coalesce(func.sum(Claim.paid_amount), 0),
               func.coalesce(func.sum(case((Claim.risk_level == RiskLevel.HIGH, 1), else_=0)), 0))
        .where(Claim.customer_id == customer_id, Claim.state != ClaimState.DRAFT, recent)
    ).one()
    base = risk_profile(session, customer_id=customer_id, today=today)
    profile = CustomerRiskProfile(
        customer_id=customer_id, total_claims=int(row[0]), open_claims=int(row[1]), last_event_on=row[2],
        claims_365=base.claims_365, amount_365=base.amount_365, paid_365=Decimal(str(year[0])),
        rejected_365=base.rejected_365, duplicates_365=base.flagged_365, high_risk_365=int(year[1]),
        shared_flags=tuple(shared_flags_of(session, customer_id=customer_id, consortium=consortium)), hints=())
    hints = tuple(ProfileHint(code, level, message) for code, level, test, message in _HINTS if test(profile))
    if _robot_watches(session, customer_id):
        hints += (ProfileHint("ROBOT_WATCH_LIST", "high", "the high-risk monitoring robot watches this customer "
                                                          "(riskWatchList gives its score and reasons)"),)
    return replace(profile, hints=hints)


def _robot_watches(session: Session, customer_id: int) -> bool:
    from resolvers.analytics.robot import watch  # analytics reads claims: import late

    entry = watch.watch_entry(session, customer_id=customer_id)
    return entry is not None and entry.status is watch.WatchStatus.WATCHING
