"""Row scoping of work orders: staff and auditors read every order; a customer, their own."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from core.auth import Principal, Role
from core.roles import INTERNAL
from resolvers.service.models import WorkOrder

__all__ = ["may_see_order_of", "work_order_visible"]


def work_order_visible(principal: Principal) -> ColumnElement[bool]:
    """SQL condition: the work orders ``principal`` may read (a customer: their own)."""
    if principal.role in INTERNAL:
        return true()
    if principal.role is Role.CUSTOMER and principal.customer_id is not None:
        return WorkOrder.customer_id == principal.customer_id
    return false()


def may_see_order_of(principal: Principal, *, customer_id: int | None) -> bool:
    """Python twin of :func:`work_order_visible` for an order known by its customer (a live event)."""
    if principal.role in INTERNAL:
        return True
    if principal.role is Role.CUSTOMER:
        return principal.customer_id is not None and customer_id == principal.customer_id
    return False
