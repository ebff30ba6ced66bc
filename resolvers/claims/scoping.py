"""Row scoping for claims: who sees which claims, in one place."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from core.auth import Principal, Role
from core.roles import INTERNAL
from resolvers.claims.models import Claim

__all__ = ["claim_visible", "may_see_claim", "may_see_claim_of"]


def claim_visible(principal: Principal) -> ColumnElement[bool]:
    """SQL condition: the claims ``principal`` may read (customer: own; hospital: billed by it)."""
    if principal.role in INTERNAL:
        return true()
    if principal.role is Role.CUSTOMER and principal.customer_id is not None:
        return Claim.customer_id == principal.customer_id
    if principal.role is Role.PARTNER and principal.partner_id is not None:
        return Claim.partner_id == principal.partner_id
    return false()


def may_see_claim(principal: Principal, claim: Claim) -> bool:
    """Python twin of :func:`claim_visible` for a loaded row."""
    if principal.role in INTERNAL:
        return True
    if principal.role is Role.CUSTOMER:
        return principal.customer_id is not None and claim.customer_id == principal.customer_id
    if principal.role is Role.PARTNER:
        return principal.partner_id is not None and claim.partner_id == principal.partner_id
    return False


def may_see_claim_of(principal: Principal, *, customer_id: int, partner_id: int | None) -> bool:
    """Twin of :func:`may_see_claim` for a claim known by its insured and billing hospital (a claim event)."""
    if principal.role in INTERNAL:
        return True
    if principal.role is Role.CUSTOMER:
        return principal.customer_id is not None and customer_id == principal.customer_id
    if principal.role is Role.PARTNER:
        return principal.partner_id is not None and partner_id == principal.partner_id
    return False
