"""What tag rules read from elsewhere: customers' attributes (the policies domain's service and loaders)
and their behaviour events (this domain's behaviour read service, identity-resolved).

Attributes come only through ``resolvers.policies.service`` and ``resolvers.policies.loaders``,
never their tables. Behaviour comes through ``behaviour.events_for_customer`` / ``events_after`` /
``identities_after``: a visitor's anonymous events count for the customer they were bound to, and
a new binding re-evaluates that customer like a new event.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from core.pagination import PageRequest, decode_cursor, encode_cursor
from resolvers.operations import behaviour
from resolvers.operations.models import BehaviourEvent, BehaviourIdentity
from resolvers.policies import loaders as policy_loaders
from resolvers.policies import service as policies

__all__ = ["Attributes", "all_events", "attributes", "customer_ids", "events_of", "identified_after", "last_event_id",
           "last_identity_id", "touched_after"]

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
    """Every customer's id in id order, a batch at a time, with the cursor after each batch.

    The newest customer comes from the policies service (one row); the ids up to it come from its
    loader by id range (sealed rows: nothing is decrypted), so a rebuild never decrypts a customer.
    """
    newest = policies.list_customers(session, principal=READER, page=PageRequest(last=1)).items
    if not newest:
        return
    top = newest[0].id
    start = int(decode_cursor(after)[0]) + 1 if after else 1
    while start <= top:
        ids = sorted(policy_loaders.customers_by_id(session, list(range(start, min(top, start + batch - 1) + 1))))
        start += batch
        if ids:
            yield ids, encode_cursor(ids[-1])


def events_of(session: Session, ids: Collection[int], names: Collection[str]) -> dict[int, dict[str, list[dt.datetime]]]:
    """The instants of each customer's events of ``names`` (identity-resolved: anonymous events bound to them count),
    sorted, by customer and name; one query per customer (the incremental path touches few)."""
    out: dict[int, dict[str, list[dt.datetime]]] = {}
    if not names:
        return out
    for cid in ids:
        by_name: dict[str, list[dt.datetime]] = defaultdict(list)
        for e in behaviour.events_for_customer(session, cid, names=sorted(names)):
            by_name[e.name].append(_aware(e.occurred_at))
        if by_name:
            for times in by_name.values():
                times.sort()
            out[cid] = dict(by_name)
    return out


def all_events(session: Session, names: Collection[str], *, page: int = 50_000) -> dict[int, dict[str, list[dt.datetime]]]:
    """Every customer's events of ``names``, sorted, by customer and name: the rebuild's read.

    Resolved as ``behaviour.events_after`` resolves them (the event's customer, else the customer its
    anonymous id is bound to), selecting only the three columns rules read: no properties decoded.
    """
    out: dict[int, dict[str, list[dt.datetime]]] = defaultdict(lambda: defaultdict(list))
    if not names:
        return {}
    e, i = BehaviourEvent, BehaviourIdentity
    resolved = func.coalesce(e.customer_id, i.customer_id)
    stmt = (select(e.id, resolved, e.name, e.occurred_at).select_from(e)
            .outerjoin(i, i.anonymous_id == e.anonymous_id)
            .where(e.name.in_(sorted(names)), resolved.is_not(None)).order_by(e.id).limit(page))
    after = 0
    while True:
        rows = session.execute(stmt.where(e.id > after)).all()
        if not rows:
            break
        for _, cid, name, at in rows:
            out[cid][name].append(_aware(at))
        after = rows[-1][0]
    for by_name in out.values():
        for times in by_name.values():
            times.sort()
    return out


def touched_after(session: Session, after_id: int, *, limit: int) -> tuple[set[int], int]:
    """Customers whose behaviour changed after event row ``after_id`` (resolved), and the last row id read."""
    batch = behaviour.events_after(session, after_id, limit=limit)
    return {e.customer_id for e in batch if e.customer_id is not None}, (batch[-1].id if batch else after_id)


def identified_after(session: Session, after_id: int, *, limit: int) -> tuple[set[int], int]:
    """Customers who had anonymous ids bound to them after binding ``after_id`` (their earlier events now count)."""
    batch = behaviour.identities_after(session, after_id, limit=limit)
    return {i.customer_id for i in batch}, (batch[-1].id if batch else after_id)


def last_event_id(session: Session) -> int:
    """The row id of the last behaviour event stored (0: none)."""
    return int(session.scalar(select(func.max(BehaviourEvent.id))) or 0)


def last_identity_id(session: Session) -> int:
    """The row id of the last identity binding (0: none)."""
    return int(session.scalar(select(func.max(BehaviourIdentity.id))) or 0)


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)
