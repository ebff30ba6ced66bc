"""What analytics reads of policies: one plain view per policy, never a personal field.

The view carries what business metrics group and date by (product, insured age, the
customer's city, issue and end dates, premium, status, what it renewed and whether it was
renewed), read in bulk by id or page by page over all policies.

Example::

    views = policy_views(session, policy_ids=[1, 2])
    for page in iter_policy_views(session, page_size=5000): ...
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from resolvers.policies.models import (
    Customer,
    Endorsement,
    Policy,
    PolicyStatus,
    Product,
    Quote,
    UnderwritingOutcome,
)

__all__ = ["CustomerHistory", "PolicyBrief", "PolicyView", "customer_histories", "customers_page", "iter_policy_views",
           "policy_views", "product_codes", "product_ids_by_code"]


@dataclass(frozen=True, slots=True)
class PolicyView:
    """The facts of one policy analytics derives its figures from."""

    id: int
    product_id: int
    insured_age: int
    city: str | None
    issued_at: dt.datetime
    period_start: dt.date
    period_end: dt.date
    premium: Decimal
    status: PolicyStatus
    ended_on: dt.date | None
    renewed_from_id: int | None
    renewed_by_id: int | None


def _views() -> Select[*tuple[Any, ...]]:
    renewal = aliased(Policy)
    return (select(Policy.id, Policy.product_id, Policy.insured_age, Customer.city, Policy.issued_at,
                   Policy.period_start, Policy.period_end, Policy.premium, Policy.status, Policy.ended_on,
                   Policy.renewed_from_id, renewal.id)
            .join(Customer, Customer.id == Policy.customer_id)
            .outerjoin(renewal, renewal.renewed_from_id == Policy.id))


def policy_views(session: Session, *, policy_ids: Sequence[int]) -> dict[int, PolicyView]:
    """The views of these policies (absent ids are left out)."""
    if not policy_ids:
        return {}
    rows = session.execute(_views().where(Policy.id.in_(sorted(set(policy_ids))))).tuples().all()
    return {r[0]: PolicyView(*r) for r in rows}


def iter_policy_views(session: Session, *, page_size: int = 5000) -> Iterator[list[PolicyView]]:
    """Every policy's view, in id order, a page at a time (memory stays bounded)."""
    after = 0
    while True:
        rows = session.execute(_views().where(Policy.id > after).order_by(Policy.id).limit(page_size)).tuples().all()
        if not rows:
            return
        yield [PolicyView(*r) for r in rows]
        after = rows[-1][0]


def product_codes(session: Session, *, product_ids: Sequence[int]) -> dict[int, str]:
    """Product codes by id (absent ids left out)."""
    if not product_ids:
        return {}
    return dict(session.execute(select(Product.id, Product.code).where(Product.id.in_(sorted(set(product_ids)))))
                .tuples().all())


def product_ids_by_code(session: Session, *, codes: Sequence[str]) -> dict[str, int]:
    """Product ids by code (unknown codes left out)."""
    if not codes:
        return {}
    return {code: pid for pid, code in session.execute(select(Product.id, Product.code).where(
        Product.code.in_(sorted(set(codes))))).tuples().all()}


@dataclass(frozen=True, slots=True)
class PolicyBrief:
    """One policy of a customer's history: when it was issued, from when it covers, its waiting period."""

    id: int
    product_id: int
    issued_at: dt.datetime
    period_start: dt.date
    waiting_period_days: int
    premium: Decimal


@dataclass(frozen=True, slots=True)
class CustomerHistory:
    """What underwriting and policy servicing know of a customer (no personal field)."""

    policies: tuple[PolicyBrief, ...]
    endorsements: tuple[tuple[dt.date, str], ...]  # (effective on, kind)
    declined_quotes: int  # quotes declined or referred to manual underwriting


def customer_histories(session: Session, *, customer_ids: Sequence[int]) -> dict[int, CustomerHistory]:
    """The histories of these customers (every id gets one, empty when it has nothing)."""
    ids = sorted(set(customer_ids))
    policies: dict[int, list[PolicyBrief]] = {i: [] for i in ids}
    endorsements: dict[int, list[tuple[dt.date, str]]] = {i: [] for i in ids}
    declined: dict[int, int] = dict.fromkeys(ids, 0)
    if not ids:
        return {}
    for cid, pid, product_id, issued_at, start, waiting, premium in session.execute(
            select(Policy.customer_id, Policy.id, Policy.product_id, Policy.issued_at, Policy.period_start,
                   Product.waiting_period_days, Policy.premium)
            .join(Product, Product.id == Policy.product_id).where(Policy.customer_id.in_(ids))
            .order_by(Policy.issued_at)).tuples():
        policies[cid].append(PolicyBrief(pid, product_id, issued_at, start, waiting, Decimal(premium)))
    for cid, on, kind in session.execute(
            select(Policy.customer_id, Endorsement.effective_on, Endorsement.kind)
            .join(Policy, Policy.id == Endorsement.policy_id).where(Policy.customer_id.in_(ids))).tuples():
        endorsements[cid].append((on, kind.value))
    for cid, n in session.execute(
            select(Quote.customer_id, func.count()).where(
                Quote.customer_id.in_(ids),
                Quote.outcome.in_([UnderwritingOutcome.DECLINE, UnderwritingOutcome.REFER]))
            .group_by(Quote.customer_id)).tuples():
        declined[cid] = int(n)
    return {i: CustomerHistory(tuple(policies[i]), tuple(endorsements[i]), declined[i]) for i in ids}


def customers_page(session: Session, *, after: int = 0, limit: int = 1000) -> list[int]:
    """Customer ids after ``after``, in id order (a page of the customers to score)."""
    return list(session.scalars(select(Customer.id).where(Customer.id > after).order_by(Customer.id).limit(limit)))
