"""What analytics reads of claims: one plain view per claim (dates, amounts, its policy), no personal field.

Example::

    views = claim_views(session, claim_ids=[7])
    for page in iter_claim_views(session): ...
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from resolvers.claims.models import Claim, ClaimEvent, ClaimState

__all__ = ["ClaimBrief", "ClaimView", "claim_views", "customer_claims", "iter_claim_views"]


@dataclass(frozen=True, slots=True)
class ClaimView:
    """The facts of one claim analytics derives its figures from (``paid_at``: when it first became paid)."""

    id: int
    policy_id: int
    reported_at: dt.datetime
    paid_amount: Decimal
    paid_at: dt.datetime | None
    fast_track: bool


def _views() -> Select[*tuple[Any, ...]]:
    paid = (select(ClaimEvent.claim_id, func.min(ClaimEvent.at).label("at"))
            .where(ClaimEvent.to_state == ClaimState.PAID.value).group_by(ClaimEvent.claim_id).subquery())
    return (select(Claim.id, Claim.policy_id, Claim.created_at, Claim.paid_amount, paid.c.at, Claim.fast_track)
            .outerjoin(paid, paid.c.claim_id == Claim.id))


def _view(row: Any) -> ClaimView:
    claim_id, policy_id, reported_at, amount, paid_at, fast = row
    return ClaimView(claim_id, policy_id, reported_at, Decimal(amount or 0), paid_at, bool(fast))


def claim_views(session: Session, *, claim_ids: Sequence[int]) -> dict[int, ClaimView]:
    """The views of these claims (absent ids are left out)."""
    if not claim_ids:
        return {}
    rows = session.execute(_views().where(Claim.id.in_(sorted(set(claim_ids))))).tuples().all()
    return {r[0]: _view(r) for r in rows}


def iter_claim_views(session: Session, *, page_size: int = 5000) -> Iterator[list[ClaimView]]:
    """Every claim's view, in id order, a page at a time."""
    after = 0
    while True:
        rows = session.execute(_views().where(Claim.id > after).order_by(Claim.id).limit(page_size)).tuples().all()
        if not rows:
            return
        yield [_view(r) for r in rows]
        after = rows[-1][0]


@dataclass(frozen=True, slots=True)
class ClaimBrief:
    """One claim of a customer's history (drafts left out)."""

    id: int
    policy_id: int
    event_date: dt.date
    claimed_amount: Decimal
    rejected: bool


def customer_claims(session: Session, *, customer_ids: Sequence[int]) -> dict[int, list[ClaimBrief]]:
    """The reported claims of these customers, oldest event first (every id gets a list)."""
    ids = sorted(set(customer_ids))
    out: dict[int, list[ClaimBrief]] = {i: [] for i in ids}
    if not ids:
        return out
    for cid, claim_id, policy_id, event_date, amount, state in session.execute(
            select(Claim.customer_id, Claim.id, Claim.policy_id, Claim.event_date, Claim.claimed_amount, Claim.state)
            .where(Claim.customer_id.in_(ids), Claim.state != ClaimState.DRAFT)
            .order_by(Claim.event_date, Claim.id)).tuples():
        out[cid].append(ClaimBrief(claim_id, policy_id, event_date, Decimal(amount), state is ClaimState.REJECTED))
    return out
