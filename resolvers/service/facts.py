"""What analytics reads of complaints: one plain view per complaint (dates, its policy), no text.

Example::

    views = complaint_views(session, work_order_ids=[5])
    for page in iter_complaint_views(session): ...
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from resolvers.service.models import Complaint, WorkOrder

__all__ = ["ComplaintView", "complaint_views", "iter_complaint_views"]


@dataclass(frozen=True, slots=True)
class ComplaintView:
    """The facts of one complaint (keyed by its work order): when received, its policy, whether it ran late."""

    work_order_id: int
    policy_id: int | None
    received_at: dt.datetime
    late: bool  # decided after the regulator's deadline (or still undecided past it when read)


def _views() -> Select[*tuple[Any, ...]]:
    return (select(Complaint.work_order_id, func.coalesce(Complaint.cause_policy_id, WorkOrder.policy_id),
                   Complaint.received_at, Complaint.regulator_due_at, Complaint.resolved_at)
            .join(WorkOrder, WorkOrder.id == Complaint.work_order_id))


def _view(row: Any) -> ComplaintView:
    wid, policy_id, received_at, due_at, resolved_at = row
    return ComplaintView(wid, policy_id, received_at, resolved_at is not None and resolved_at > due_at)


def complaint_views(session: Session, *, work_order_ids: Sequence[int]) -> dict[int, ComplaintView]:
    """The views of the complaints of these work orders (others are left out)."""
    if not work_order_ids:
        return {}
    rows = session.execute(_views().where(Complaint.work_order_id.in_(sorted(set(work_order_ids))))).tuples().all()
    return {r[0]: _view(r) for r in rows}


def iter_complaint_views(session: Session, *, page_size: int = 5000) -> Iterator[list[ComplaintView]]:
    """Every complaint's view, in work order order, a page at a time."""
    after = 0
    while True:
        rows = session.execute(_views().where(Complaint.work_order_id > after)
                               .order_by(Complaint.work_order_id).limit(page_size)).tuples().all()
        if not rows:
            return
        yield [_view(r) for r in rows]
        after = rows[-1][0]
