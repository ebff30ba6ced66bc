"""Row scoping for the policies domain: who sees which customers and policies, in one place."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from core.auth import Principal, Role
from resolvers.policies.models import Customer, Policy

__all__ = ["customer_visible", "may_see_customer", "policy_visible"]

_STAFF_LIKE = {Role.AGENT, Role.ADJUSTER, Role.QA, Role.ANALYST, Role.MANAGER, Role.ADMIN, Role.AUDITOR}


def policy_visible(principal: Principal) -> ColumnElement[bool]:
    """SQL condition: the policies ``principal`` may read."""
    if principal.role in _STAFF_LIKE:
        return true()
    if principal.role is Role.CUSTOMER and principal.customer_id is not None:
        return Policy.customer_id == principal.customer_id
    return false()


def customer_visible(principal: Principal) -> ColumnElement[bool]:
    """SQL condition: the customers ``principal`` may read."""
    if principal.role in _STAFF_LIKE:
        return true()
    if principal.role is Role.CUSTOMER and principal.customer_id is not None:
        return Customer.id == principal.customer_id
    return false()


def may_see_customer(principal: Principal, customer_id: int) -> bool:
    """Python twin of :func:`customer_visible` for rows already loaded."""
    if principal.role in _STAFF_LIKE:
        return True
    return principal.role is Role.CUSTOMER and principal.customer_id == customer_id
