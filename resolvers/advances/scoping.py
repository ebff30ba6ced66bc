"""Row scoping for advances: staff and auditors see every advance, a customer their own."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from core.auth import Principal, Role
from core.roles import INTERNAL
from resolvers.advances.models import Advance

__all__ = ["advance_visible", "may_see_advance"]


def advance_visible(principal: Principal) -> ColumnElement[bool]:
    """SQL condition: the advances ``principal`` may read."""
    if principal.role in INTERNAL:
        return true()
    if principal.role is Role.CUSTOMER and principal.customer_id is not None:
        return Advance.customer_id == principal.customer_id
    return false()


def may_see_advance(principal: Principal, advance: Advance) -> bool:
    """Python twin of :func:`advance_visible` for a loaded row."""
    if principal.role in INTERNAL:
        return True
    return principal.role is Role.CUSTOMER and principal.customer_id == advance.customer_id
