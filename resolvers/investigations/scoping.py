"""Row scoping of investigations: staff and auditors read every row; a firm, those offered to it."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import InstrumentedAttribute

from core.auth import Principal, Role
from core.roles import INTERNAL
from resolvers.investigations.models import InvestigationAssignment

__all__ = ["acting_firm", "investigation_visible"]


def acting_firm(principal: Principal) -> int | None:
    """The assessor firm a partner principal acts for (None for anyone else)."""
    return principal.partner_id if principal.role is Role.PARTNER else None


def investigation_visible(principal: Principal, column: InstrumentedAttribute[int]) -> ColumnElement[bool]:
    """SQL condition on an investigation id column: the investigations ``principal`` may read."""
    if principal.role in INTERNAL:
        return true()
    firm = acting_firm(principal)
    if firm is not None:
        offered = select(InvestigationAssignment.investigation_id).where(InvestigationAssignment.partner_id == firm)
        return column.in_(offered)
    return false()
