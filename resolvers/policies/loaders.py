"""Batch fetches of the policies domain's relations (used by the schema's DataLoaders and other domains).

Customers and policies by id come as read-only :class:`core.sealed_rows.SealedRow` s, which
decrypt a personal column only when it is read: every page that shows a policy's customer
or a claim's policy reads a few columns, not every sealed one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.sealed_rows import sealed_rows_by_id
from resolvers.policies.models import CoverageItem, Customer, Endorsement, Policy, PremiumBand, Product

__all__ = [
    "coverage_items_by_product",
    "customers_by_id",
    "endorsements_by_policy",
    "policies_by_customer",
    "policies_by_id",
    "premium_bands_by_product",
    "products_by_id",
]


def customers_by_id(session: Session, ids: Sequence[int]) -> dict[int, Any]:
    """Customers keyed by id as read-only sealed rows, one query (callers apply visibility)."""
    return sealed_rows_by_id(session, Customer.__table__, ids)  # type: ignore[arg-type]


def products_by_id(session: Session, ids: Sequence[int]) -> dict[int, Product]:
    """Products keyed by id, one query."""
    return {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(ids)))}


def policies_by_id(session: Session, ids: Sequence[int]) -> dict[int, Any]:
    """Policies keyed by id as read-only sealed rows, one query (callers apply visibility)."""
    return sealed_rows_by_id(session, Policy.__table__, ids)  # type: ignore[arg-type]


def endorsements_by_policy(session: Session, ids: Sequence[int]) -> dict[int, list[Endorsement]]:
    """Endorsements grouped by policy id, oldest first, one query."""
    out: dict[int, list[Endorsement]] = {i: [] for i in ids}
    stmt = select(Endorsement).where(Endorsement.policy_id.in_(ids)).order_by(Endorsement.id)
    for row in session.scalars(stmt):
        out[row.policy_id].append(row)
    return out


def policies_by_customer(session: Session, ids: Sequence[int]) -> dict[int, list[Policy]]:
    """Policies grouped by customer id, oldest first, one query."""
    out: dict[int, list[Policy]] = {i: [] for i in ids}
    for row in session.scalars(select(Policy).where(Policy.customer_id.in_(ids)).order_by(Policy.id)):
        out[row.customer_id].append(row)
    return out


def coverage_items_by_product(session: Session, ids: Sequence[int]) -> dict[int, list[CoverageItem]]:
    """Coverage items grouped by product id, one query."""
    out: dict[int, list[CoverageItem]] = {i: [] for i in ids}
    stmt = select(CoverageItem).where(CoverageItem.product_id.in_(ids)).order_by(CoverageItem.id)
    for row in session.scalars(stmt):
        out[row.product_id].append(row)
    return out


def premium_bands_by_product(session: Session, ids: Sequence[int]) -> dict[int, list[PremiumBand]]:
    """Premium bands grouped by product id, youngest first, one query."""
    out: dict[int, list[PremiumBand]] = {i: [] for i in ids}
    stmt = select(PremiumBand).where(PremiumBand.product_id.in_(ids)).order_by(PremiumBand.min_age)
    for row in session.scalars(stmt):
        out[row.product_id].append(row)
    return out
