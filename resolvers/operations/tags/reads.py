"""What tag rules read from elsewhere: customers' attributes (the policies domain's service and loaders)
and their behaviour events (this domain's ``behaviour_event`` table).

Attributes come only through ``resolvers.policies.service`` and ``resolvers.policies.loaders``,
never their tables. Behaviour is read here by customer and event name until the behaviour read
service offers the same; a visitor's anonymous events bound to a customer later (identify) count
from the next full rebuild.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from core.pagination import PageRequest
from resolvers.operations.models import BehaviourEvent
from resolvers.policies import loaders as policy_loaders
from resolvers.policies import service as policies

__all__ = ["Attributes", "attributes", "customer_ids", "events_after", "events_of", "last_event_id"]

#: The principal tag jobs read customers as (internal: every customer).
READER = Principal(subject="system:operations.tags", role=Role.ADMIN)


@dataclass(frozen=True)
class Attributes:
    """One customer's attributes as rules read them."""

    birth_year: int | None
    city: str | None
    gender: str | None
    products: frozenset[str]


def attributes(session: Session, ids: Sequence[int]) -> dict[int, Attributes]:
    """Attributes of the customers that exist among ``ids`` (three queries)."""
    customers = policy_loaders.customers_by_id(session, ids)
    held = policy_loaders.policies_by_customer(session, list(customers))
    product_ids = {p.product_id for ps in held.values() for p in ps if p.status is policies.PolicyStatus.ACTIVE}
    codes = {k: p.code for k, p in policy_loaders.products_by_id(session, list(product_ids)).items()} if product_ids \
        else {}
    out: dict[int, Attributes] = {}
    for cid, c in customers.items():
        gender = c.gender
        out[cid] = Attributes(birth_year=c.birth_year, city=c.city,
                              gender=gender.value if hasattr(gender, "value") else gender,
                              products=frozenset(codes[p.product_id] for p in held.get(cid, ())
                                                 if p.status is policies.PolicyStatus.ACTIVE))
    return out


def customer_ids(session: Session, *, batch: int = 1000, after: str | None = None) -> Iterator[tuple[list[int], str | None]]:
    """Every customer's id in id order, a batch at a time, with the cursor after each batch."""
    cursor = after
    while True:
        page = policies.list_customers(session, principal=READER, page=PageRequest(first=batch, after=cursor))
        if not page.items:
            return
        cursor = page.end_cursor
        yield [c.id for c in page.items], cursor
        if not page.has_next:
            return


def events_of(session: Session, ids: Collection[int], names: Collection[str]) -> dict[int, dict[str, list[dt.datetime]]]:
    """The instants of each customer's events of ``names``, sorted, by customer and name."""
    out: dict[int, dict[str, list[dt.datetime]]] = defaultdict(lambda: defaultdict(list))
    if not ids or not names:
        return {}
    stmt = (select(BehaviourEvent.customer_id, BehaviourEvent.name, BehaviourEvent.occurred_at)
            .where(BehaviourEvent.customer_id.in_(list(ids)), BehaviourEvent.name.in_(list(names))))
    for cid, name, at in session.execute(stmt):
        if cid is None:
            continue
        out[cid][name].append(at if at.tzinfo else at.replace(tzinfo=dt.UTC))
    for by_name in out.values():
        for times in by_name.values():
            times.sort()
    return out


def events_after(session: Session, after_id: int, *, limit: int) -> list[tuple[int, int | None]]:
    """(row id, customer id) of behaviour events stored after row ``after_id``, oldest first, at most ``limit``."""
    stmt = (select(BehaviourEvent.id, BehaviourEvent.customer_id).where(BehaviourEvent.id > after_id)
            .order_by(BehaviourEvent.id).limit(limit))
    return [(int(i), c) for i, c in session.execute(stmt)]


def last_event_id(session: Session) -> int:
    """The row id of the last behaviour event stored (0: none)."""
    return int(session.scalar(select(func.max(BehaviourEvent.id))) or 0)
