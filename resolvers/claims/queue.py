"""Adjusters' work queue: filter and sort claims, keyset pages (forward and backward) on (sort value, id).

RISK_DESC orders by risk level (high, medium, low, not yet rated), then by the model's
score, then by id. Filters: states, risk levels, amounts, SLA breached, the claim's age
(days since it was reported), the customer and the assigned staff member.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session

from core.auth import Principal
from core.errors import ForbiddenError, collect_errors
from core.pagination import KeyColumn, Page, PageRequest, keyset_page
from core.roles import RISK_READERS
from resolvers.claims.models import Claim, ClaimState, RiskLevel
from resolvers.claims.scoping import claim_visible

__all__ = ["QueueFilter", "QueueSort", "count_queue", "list_queue", "sort_keys"]


class QueueSort(enum.StrEnum):
    """Sort keys of the queue."""

    OLDEST = "oldest"
    NEWEST = "newest"
    AMOUNT_DESC = "amount_desc"
    RISK_DESC = "risk_desc"
    SLA_DUE = "sla_due"


@dataclass(frozen=True)
class QueueFilter:
    """Filters; all optional and combined with AND."""

    states: Sequence[ClaimState] = ()
    risk_levels: Sequence[RiskLevel] = ()
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    sla_breached_at: dt.datetime | None = None  # only claims whose SLA is due before this time
    customer_id: int | None = None
    reported_before: dt.datetime | None = None  # at least this old (reported at or before)
    reported_after: dt.datetime | None = None  # at most this old (reported at or after)
    assignee: str | None = None
    unassigned: bool = False


_FAR = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


_RANKS = {RiskLevel.HIGH.value: 3, RiskLevel.MEDIUM.value: 2, RiskLevel.LOW.value: 1}
_LEVEL_RANK = case(*((Claim.risk_level == RiskLevel(v), r) for v, r in _RANKS.items()), else_=0)


def _sla_value(c: Any) -> str:
    return str((c.sla_due_at or _FAR).isoformat())


def _rank(c: Any) -> int:
    level = c.risk_level
    return _RANKS.get(str(getattr(level, "value", level)), 0)


def _rank_of(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 3:
        raise ValueError("not a risk rank")
    return raw


def sort_keys(sort: QueueSort) -> list[KeyColumn]:
    """The keyset sort key of ``sort``: its value (never NULL), then the claim's id."""
    if sort is QueueSort.OLDEST:
        return [KeyColumn(Claim.id)]
    if sort is QueueSort.NEWEST:
        return [KeyColumn(Claim.id, descending=True)]
    if sort is QueueSort.AMOUNT_DESC:
        key = KeyColumn(Claim.claimed_amount, descending=True, value=lambda c: str(c.claimed_amount),
                        parse=lambda raw: Decimal(str(raw)))
    elif sort is QueueSort.RISK_DESC:
        return [KeyColumn(_LEVEL_RANK, descending=True, value=_rank, parse=_rank_of),
                KeyColumn(func.coalesce(Claim.risk_score, -1.0), descending=True,
                          value=lambda c: c.risk_score if c.risk_score is not None else -1.0, parse=_number),
                KeyColumn(Claim.id)]
    else:
        key = KeyColumn(func.coalesce(Claim.sla_due_at, _FAR), value=_sla_value,
                        parse=lambda raw: dt.datetime.fromisoformat(str(raw)))
    return [key, KeyColumn(Claim.id)]


def _number(raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ValueError("not a number")
    return float(raw)


def _where(principal: Principal, f: QueueFilter) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [claim_visible(principal)]
    if f.states:
        conds.append(Claim.state.in_(list(f.states)))
    if f.risk_levels:
        conds.append(Claim.risk_level.in_(list(f.risk_levels)))
    if f.min_amount is not None:
        conds.append(Claim.claimed_amount >= f.min_amount)
    if f.max_amount is not None:
        conds.append(Claim.claimed_amount <= f.max_amount)
    if f.sla_breached_at is not None:
        conds.append(Claim.sla_due_at < f.sla_breached_at)
    if f.customer_id is not None:
        conds.append(Claim.customer_id == f.customer_id)
    if f.reported_before is not None:
        conds.append(Claim.created_at <= f.reported_before)
    if f.reported_after is not None:
        conds.append(Claim.created_at >= f.reported_after)
    if f.assignee is not None:
        conds.append(Claim.assignee == f.assignee)
    if f.unassigned:
        conds.append(Claim.assignee.is_(None))
    return conds


def _check_risk_reader(principal: Principal, f: QueueFilter, sort: QueueSort) -> None:
    """Risk levels, scores and SLA times are for risk readers: no filter or order may reveal them to others."""
    if principal.role in RISK_READERS:
        return
    with collect_errors() as errors:
        if f.risk_levels:
            errors.add(ForbiddenError("only staff and auditors filter by risk level", field="filter.riskLevels"))
        if f.sla_breached_at is not None:
            errors.add(ForbiddenError("only staff and auditors filter by SLA", field="filter.slaBreached"))
        if sort in (QueueSort.RISK_DESC, QueueSort.SLA_DUE):
            errors.add(ForbiddenError(f"only staff and auditors sort by {sort.name}", field="sort"))
        if f.assignee is not None or f.unassigned:
            errors.add(ForbiddenError("only staff and auditors filter by assignee", field="filter.assignedTo"))


def list_queue(
    session: Session, *, principal: Principal, page: PageRequest, filter: QueueFilter = QueueFilter(),
    sort: QueueSort = QueueSort.OLDEST, plain: bool = False,
) -> Page[Any]:
    """Claims visible to ``principal`` matching ``filter`` in ``sort`` order: one keyset page (one query).

    Filters and orders by risk level, risk score or SLA are refused (FORBIDDEN) to callers
    who may not read those fields (customers, hospitals): the page's order would reveal them.

    ``page`` is forward (first/after) or backward (last/before), its size checked by the
    caller. ``plain``: the items are read-only rows of the claim table (SQLAlchemy Core,
    every column, attribute access by column name) instead of ORM entities, for pages only read.
    """
    _check_risk_reader(principal, filter, sort)
    stmt: Select[Any] = select(Claim.__table__ if plain else Claim).where(*_where(principal, filter))
    return keyset_page(session, stmt, sort_keys(sort), request=page, plain=plain)


def count_queue(session: Session, *, principal: Principal, filter: QueueFilter = QueueFilter()) -> int:
    """How many claims match (one COUNT query)."""
    return int(session.scalar(select(func.count(Claim.id)).where(*_where(principal, filter))) or 0)
