"""Row scoping for the partners domain, in one place: staff see all, a partner its own.

A partner token carries ``partner_id``; every partner-owned row (its registry entry, keys,
assignments, signed records, webhooks, deliveries, clients) is filtered on it here.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true
from sqlalchemy.orm import InstrumentedAttribute

from core.auth import Principal, Role
from partners.errors import RecordRejected, RejectCode

__all__ = [
    "REVIEWERS",
    "STAFF_READERS",
    "is_partner",
    "owned_by_caller",
    "require_own",
    "require_partner",
]

#: Insurer staff (and auditors) read every partner row.
STAFF_READERS: frozenset[Role] = frozenset(
    {Role.AGENT, Role.ADJUSTER, Role.QA, Role.ANALYST, Role.MANAGER, Role.ADMIN, Role.AUDITOR}
)
#: Roles that may review a partner's qualification (never the one who submitted it).
REVIEWERS: frozenset[Role] = frozenset({Role.QA, Role.MANAGER, Role.ADMIN})


def is_partner(principal: Principal) -> bool:
    """True for a partner token (which always names its partner)."""
    return principal.role is Role.PARTNER and principal.partner_id is not None


def owned_by_caller(principal: Principal, column: InstrumentedAttribute[int]) -> ColumnElement[bool]:
    """SQL condition on a ``partner_id`` column: the rows ``principal`` may read."""
    if principal.role in STAFF_READERS:
        return true()
    if is_partner(principal):
        return column == principal.partner_id
    return false()


def require_own(principal: Principal, partner_id: int, *, what: str = "this") -> None:
    """Refuse (FORBIDDEN) a partner acting on another partner's row; staff pass."""
    if principal.role in STAFF_READERS:
        return
    if is_partner(principal) and principal.partner_id == partner_id:
        return
    raise RecordRejected(RejectCode.FORBIDDEN, f"{what} belongs to another partner")


def require_partner(principal: Principal) -> int:
    """The caller's partner id; FORBIDDEN for anyone but a partner."""
    if not is_partner(principal) or principal.partner_id is None:
        raise RecordRejected(RejectCode.FORBIDDEN, "only a partner may do this")
    return principal.partner_id
