"""Row scoping for the rail: who sees which accounts and instructions, and who sees account numbers in full."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, true

from core.auth import Principal, Role
from core.roles import INTERNAL, PAYMENT_OPERATORS
from resolvers.payments.models import PayeeAccount, PayeeKind

__all__ = ["account_visible", "may_see_account", "may_see_account_number", "owns"]


def account_visible(principal: Principal) -> ColumnElement[bool]:
    """SQL condition: the payee accounts ``principal`` may read (a customer or partner: its own)."""
    if principal.role in INTERNAL:
        return true()
    if principal.role is Role.CUSTOMER and principal.customer_id is not None:
        return and_(PayeeAccount.owner_kind == PayeeKind.CUSTOMER, PayeeAccount.owner_id == principal.customer_id)
    if principal.role is Role.PARTNER and principal.partner_id is not None:
        return and_(PayeeAccount.owner_kind == PayeeKind.PARTNER, PayeeAccount.owner_id == principal.partner_id)
    return false()


def owns(principal: Principal, kind: PayeeKind, owner_id: int) -> bool:
    """Whether ``principal`` is the account holder (a customer, or a partner's user)."""
    if principal.role is Role.CUSTOMER:
        return kind is PayeeKind.CUSTOMER and principal.customer_id == owner_id
    if principal.role is Role.PARTNER:
        return kind is PayeeKind.PARTNER and principal.partner_id == owner_id
    return False


def may_see_account(principal: Principal, account: PayeeAccount) -> bool:
    """Python twin of :func:`account_visible` for a loaded row."""
    return principal.role in INTERNAL or owns(principal, account.owner_kind, account.owner_id)


def may_see_account_number(principal: Principal, account: PayeeAccount) -> bool:
    """The full account number and holder: the holder themself and the payment operators; others see them masked."""
    return principal.role in PAYMENT_OPERATORS or owns(principal, account.owner_kind, account.owner_id)
