"""What analytics reads of advances: one plain view per advance (dates, amounts, its policy), no personal field.

Example::

    views = advance_views(session, advance_ids=[3])
    for page in iter_advance_views(session): ...
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from resolvers.advances.models import Advance, AdvanceState

__all__ = ["AdvanceView", "advance_views", "iter_advance_views"]


@dataclass(frozen=True, slots=True)
class AdvanceView:
    """The facts of one advance analytics derives its figures from."""

    id: int
    policy_id: int
    advanced: Decimal
    written_off: Decimal
    paid_on: dt.date | None
    went_overdue: bool  # overdue now, or defaulted after being overdue
    defaulted_on: dt.date | None


def _views() -> Select[*tuple[Any, ...]]:
    return select(Advance.id, Advance.policy_id, Advance.advanced, Advance.written_off, Advance.paid_on,
                  Advance.overdue_since, Advance.state, Advance.defaulted_on)


def _view(row: Any) -> AdvanceView:
    aid, policy_id, advanced, written_off, paid_on, overdue_since, state, defaulted_on = row
    went = overdue_since is not None or state in (AdvanceState.OVERDUE, AdvanceState.DEFAULTED)
    return AdvanceView(aid, policy_id, Decimal(advanced or 0), Decimal(written_off or 0), paid_on, went, defaulted_on)


def advance_views(session: Session, *, advance_ids: Sequence[int]) -> dict[int, AdvanceView]:
    """The views of these advances (absent ids are left out)."""
    if not advance_ids:
        return {}
    rows = session.execute(_views().where(Advance.id.in_(sorted(set(advance_ids))))).tuples().all()
    return {r[0]: _view(r) for r in rows}


def iter_advance_views(session: Session, *, page_size: int = 5000) -> Iterator[list[AdvanceView]]:
    """Every advance's view, in id order, a page at a time."""
    after = 0
    while True:
        rows = session.execute(_views().where(Advance.id > after).order_by(Advance.id).limit(page_size)).tuples().all()
        if not rows:
            return
        yield [_view(r) for r in rows]
        after = rows[-1][0]
