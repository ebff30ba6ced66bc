"""Adjusters' work queue: filter and sort claims, keyset-paginated on (sort value, id)."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from core.auth import Principal
from core.errors import ValidationError
from core.pagination import decode_cursor, encode_cursor
from resolvers.claims.models import Claim, ClaimState, RiskLevel
from resolvers.claims.scoping import claim_visible

__all__ = ["QueueFilter", "QueuePage", "QueueSort", "count_queue", "cursor_of", "list_queue"]


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


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue."""

    items: list[Claim]
    has_next: bool
    start_cursor: str | None
    end_cursor: str | None


_FAR = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


def _sort(sort: QueueSort) -> tuple[Any, bool, Any]:
    """(expression, descending, python getter) of a sort key."""
    if sort is QueueSort.OLDEST:
        return Claim.id, False, None
    if sort is QueueSort.NEWEST:
        return Claim.id, True, None
    if sort is QueueSort.AMOUNT_DESC:
        return Claim.claimed_amount, True, lambda c: str(c.claimed_amount)
    if sort is QueueSort.RISK_DESC:
        return func.coalesce(Claim.risk_score, -1.0), True, lambda c: c.risk_score if c.risk_score is not None else -1.0
    return Claim.sla_due_at, False, lambda c: (c.sla_due_at or _FAR).isoformat()


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
    return conds


def list_queue(
    session: Session, *, principal: Principal, first: int, after: str | None = None,
    filter: QueueFilter = QueueFilter(), sort: QueueSort = QueueSort.OLDEST, plain: bool = False,
) -> QueuePage:
    """Claims visible to ``principal`` matching ``filter`` in ``sort`` order (one query).

    ``plain``: the items are read-only rows of the claim table (SQLAlchemy Core, every
    column, attribute access by column name) instead of ORM entities, for pages only read.
    """
    expr, desc, getter = _sort(sort)
    if sort is QueueSort.SLA_DUE:
        expr = func.coalesce(Claim.sla_due_at, _FAR)
    stmt: Select[Any] = select(Claim.__table__ if plain else Claim).where(*_where(principal, filter))
    if after:
        values = decode_cursor(after)
        if len(values) != 2 or not isinstance(values[1], int):
            raise ValidationError("malformed cursor", field="after", code="BAD_CURSOR")
        key, last_id = values
        if getter is None:
            stmt = stmt.where(Claim.id < last_id if desc else Claim.id > last_id)
        else:
            if sort is QueueSort.AMOUNT_DESC:
                key = Decimal(str(key))
            elif sort is QueueSort.SLA_DUE:
                key = dt.datetime.fromisoformat(str(key))
            stmt = stmt.where((expr < key) | ((expr == key) & (Claim.id > last_id)) if desc
                              else (expr > key) | ((expr == key) & (Claim.id > last_id)))
    order = [expr.desc() if desc else expr.asc()]
    if getter is not None:
        order.append(Claim.id.asc())
    stmt = stmt.order_by(*order).limit(first + 1)
    rows: list[Any] = list(session.execute(stmt).all() if plain else session.scalars(stmt))
    has_next = len(rows) > first
    rows = rows[:first]

    return QueuePage(rows, has_next, cursor_of(rows[0], sort) if rows else None,
                     cursor_of(rows[-1], sort) if rows else None)


def cursor_of(claim: Claim, sort: QueueSort) -> str:
    """The keyset cursor of one claim in ``sort`` order."""
    getter = _sort(sort)[2]
    return encode_cursor(getter(claim) if getter else claim.id, claim.id)


def count_queue(session: Session, *, principal: Principal, filter: QueueFilter = QueueFilter()) -> int:
    """How many claims match (one COUNT query)."""
    return int(session.scalar(select(func.count(Claim.id)).where(*_where(principal, filter))) or 0)
