"""Progress tracking: where each open claim waits, since when, and against which SLA.

A claim waits in its current state since the timeline entry that moved it there (the
latest entry whose ``to_state`` is the claim's state; before any, since it was submitted
or reported). The SLA of a state is the claims service's ``SLA_DAYS``: business days on the
business calendar (``core.calendar``: Chinese public holidays, adjusted workdays), due at the close
of business of the N-th business day after the claim got there (``service.sla_due_at``, stored as
``Claim.sla_due_at``); breached means due before ``now``.

Example::

    page = keyset_page(session, progress_query(states=(ClaimState.UNDER_REVIEW,)), [KeyColumn(Claim.id)], ...)
    progress_summary(session, now=now)   # one row per waiting state: count, breached, oldest
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session

from resolvers.claims.models import Claim, ClaimEvent, ClaimState
from resolvers.claims.service import SLA_DAYS

__all__ = ["WAITING", "StageProgress", "progress_query", "progress_summary", "sla_days", "waiting_since"]

#: States in which a claim waits for someone.
WAITING = (ClaimState.SUBMITTED, ClaimState.DOCUMENTS_PENDING, ClaimState.UNDER_REVIEW, ClaimState.INVESTIGATING,
           ClaimState.APPROVED, ClaimState.PARTIALLY_APPROVED, ClaimState.REOPENED)


def waiting_since() -> ColumnElement[Any]:
    """SQL: when the claim entered its current state (correlated to ``claim``)."""
    entered = (select(func.max(ClaimEvent.at)).where(ClaimEvent.claim_id == Claim.id,
                                                     ClaimEvent.to_state == Claim.state)
               .correlate(Claim).scalar_subquery())
    return func.coalesce(entered, Claim.submitted_at, Claim.created_at)


def sla_days(state: ClaimState) -> int | None:
    """The service level of a state in business days (None: the state has none)."""
    return SLA_DAYS.get(state)


def progress_query(*, states: Sequence[ClaimState] = (), breached_at: dt.datetime | None = None) -> Select[Any]:
    """Waiting claims (of ``states``; breached at ``breached_at``) with when they started waiting, plain rows."""
    stmt = select(*Claim.__table__.columns, waiting_since().label("waiting_since")).where(
        Claim.state.in_(list(states) or list(WAITING)))
    if breached_at is not None:
        stmt = stmt.where(Claim.sla_due_at < breached_at)
    return stmt


@dataclass(frozen=True)
class StageProgress:
    """How one waiting state is doing: how many wait, how many are past their SLA, the longest wait."""

    state: ClaimState
    count: int
    breached: int
    oldest_since: dt.datetime | None


def progress_summary(session: Session, *, now: dt.datetime) -> list[StageProgress]:
    """One row per waiting state (states with no claim too), in lifecycle order: one query."""
    inner = select(Claim.state.label("state"), Claim.sla_due_at.label("due"), waiting_since().label("since")).where(
        Claim.state.in_(list(WAITING))).subquery()
    rows = session.execute(select(inner.c.state, func.count(), func.sum(case((inner.c.due < now, 1), else_=0)),
                                  func.min(inner.c.since)).group_by(inner.c.state)).all()
    found = {ClaimState(r[0]): r for r in rows}
    out = []
    for state in WAITING:
        r = found.get(state)
        oldest = r[3] if r else None
        if isinstance(oldest, str):  # SQLite returns the aggregate of a timestamp as text
            oldest = dt.datetime.fromisoformat(oldest)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=dt.UTC)
        out.append(StageProgress(state=state, count=int(r[1]) if r else 0, breached=int(r[2] or 0) if r else 0,
                                 oldest_since=oldest))
    return out
