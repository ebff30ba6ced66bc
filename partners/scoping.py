"""Row scoping for the partners domain, in one place: staff see all, a partner its own.

A partner token carries ``partner_id``; every partner-owned row (its registry entry, keys,
assignments, signed records, webhooks, deliveries, clients) is filtered on it here, and
every action naming a partner is checked here against the caller's own.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true
from sqlalchemy.orm import InstrumentedAttribute

from core.auth import Principal, Role
from core.errors import ValidationError
from core.roles import INTERNAL
from partners.errors import RecordRejected, RejectCode

__all__ = [
    "acting_partner_id",
    "forbid_other_partner",
    "is_partner",
    "owned_by_caller",
    "require_own",
    "require_partner",
]

def is_partner(principal: Principal) -> bool:
    """True for a partner token (which always names its partner)."""
    return principal.role is Role.PARTNER and principal.partner_id is not None


def owned_by_caller(principal: Principal, column: InstrumentedAttribute[int]) -> ColumnElement[bool]:
    """SQL condition on a ``partner_id`` column: the rows ``principal`` may read."""
    if principal.role in INTERNAL:
        return true()
    if is_partner(principal):
        return column == principal.partner_id
    return false()


def require_own(principal: Principal, partner_id: int, *, what: str = "this") -> None:
    """Refuse (FORBIDDEN) a partner acting on another partner's row; staff pass."""
    if principal.role in INTERNAL:
        return
    if is_partner(principal) and principal.partner_id == partner_id:
        return
    raise RecordRejected(RejectCode.FORBIDDEN, f"{what} belongs to another partner")


def require_partner(principal: Principal) -> int:
    """The caller's partner id; FORBIDDEN for anyone but a partner."""
    if not is_partner(principal) or principal.partner_id is None:
        raise RecordRejected(RejectCode.FORBIDDEN, "only a partner may do this")
    return principal.partner_id


def forbid_other_partner(principal: Principal, partner_id: int) -> None:
    """Refuse (FORBIDDEN, field ``id``) a partner reading another partner; everyone else passes."""
    if is_partner(principal) and principal.partner_id != partner_id:
        raise RecordRejected(RejectCode.FORBIDDEN, "this belongs to another partner", field="id")


def acting_partner_id(principal: Principal, partner_id: int | None) -> int:
    """The partner an action is for: the given one (a partner: only its own), else a partner caller's own."""
    if partner_id is not None:
        require_own(principal, partner_id, what="this partner")
        return partner_id
    if is_partner(principal) and principal.partner_id is not None:
        return principal.partner_id
    raise ValidationError("partnerId is required", field="partnerId")
