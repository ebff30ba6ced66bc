"""Row scoping for the policies domain, in one place: who sees which customers and policies,
and whose personal fields in full."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from core.auth import Principal, Role
from core.roles import FULL_PII, INTERNAL
from resolvers.policies.models import Customer, Policy

__all__ = ["customer_visible", "may_see_customer", "may_see_personal_fields", "policy_visible"]


def policy_visible(principal: Principal) -> ColumnElement[bool]:
    """SQL condition: the policies ``principal`` may read."""
    if principal.role in INTERNAL:
        return true()
    if principal.role is Role.CUSTOMER and principal.customer_id is not None:
        return Policy.customer_id == principal.customer_id
    return false()


def customer_visible(principal: Principal) -> ColumnElement[bool]:
    """SQL condition: the customers ``principal`` may read."""
    if principal.role in INTERNAL:
        return true()
    if principal.role is Role.CUSTOMER and principal.customer_id is not None:
        return Customer.id == principal.customer_id
    return false()


def may_see_customer(principal: Principal, customer_id: int | None) -> bool:
    """Python twin of :func:`customer_visible` for rows already loaded (also a policy's events)."""
    if principal.role in INTERNAL:
        return True
    return principal.role is Role.CUSTOMER and principal.customer_id == customer_id


def may_see_personal_fields(principal: Principal, customer_id: int) -> bool:
    """Whether ``principal`` reads a customer's personal fields in full (else masked): a customer
    only their own, staff in ``FULL_PII``."""
    if principal.role is Role.CUSTOMER:
        return principal.customer_id == customer_id
    return principal.role in FULL_PII
