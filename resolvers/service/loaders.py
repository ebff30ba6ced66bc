"""Batch fetches for the service domain's relations (the schema's DataLoaders call them); callers scope."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from resolvers.service.models import (
    Complaint,
    ServiceAgent,
    WorkOrderActivity,
    WorkOrderBreach,
    WorkOrderComment,
)

__all__ = ["activities_by_order", "agents_by_id", "breaches_by_order", "comments_by_order", "complaints_by_order"]


def _grouped(session: Session, model: Any, column: Any, ids: Sequence[int]) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {i: [] for i in ids}
    for row in session.scalars(select(model).where(column.in_(list(ids))).order_by(model.id)):
        out[getattr(row, column.key)].append(row)
    return out


def agents_by_id(session: Session, ids: Sequence[int]) -> dict[int, ServiceAgent]:
    """Agent profiles keyed by id, one query."""
    return {r.id: r for r in session.scalars(select(ServiceAgent).where(ServiceAgent.id.in_(list(ids))))}


def comments_by_order(session: Session, ids: Sequence[int]) -> dict[int, list[WorkOrderComment]]:
    """Each order's comments, oldest first, one query."""
    return _grouped(session, WorkOrderComment, WorkOrderComment.work_order_id, ids)


def activities_by_order(session: Session, ids: Sequence[int]) -> dict[int, list[WorkOrderActivity]]:
    """Each order's timeline, oldest first, one query."""
    return _grouped(session, WorkOrderActivity, WorkOrderActivity.work_order_id, ids)


def breaches_by_order(session: Session, ids: Sequence[int]) -> dict[int, list[WorkOrderBreach]]:
    """Each order's missed SLAs, oldest first, one query."""
    return _grouped(session, WorkOrderBreach, WorkOrderBreach.work_order_id, ids)


def complaints_by_order(session: Session, ids: Sequence[int]) -> dict[int, Complaint]:
    """Complaint rows keyed by work order id, one query."""
    return {r.work_order_id: r for r in session.scalars(select(Complaint).where(Complaint.work_order_id.in_(list(ids))))}
