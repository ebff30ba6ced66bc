"""Keeping the rollups: apply a source row's change as a difference, or rebuild everything offline.

``refresh`` derives the facts of the named policies or claims from their current state,
compares them with what each contributed before (``analytics_contribution``) and adds only
the difference to ``analytics_rollup``; ``rebuild`` recomputes all rollups from every policy
and claim. Both use ``facts.policy_facts`` / ``facts.claim_facts``, so after any sequence of
changes the two give the same rollups (a test checks it on the demo data). Both lock the one
``analytics_lock`` row, so a rebuild never interleaves with an incremental update.

Example::

    refresh(session, policy_ids=[12], claim_ids=[])
    rebuild(session)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core import clock
from resolvers.advances.facts import advance_views, iter_advance_views
from resolvers.analytics.facts import (
    Fact,
    FactKey,
    FactRow,
    advance_facts,
    claim_facts,
    complaint_facts,
    policy_facts,
    summed,
)
from resolvers.analytics.models import AnalyticsContribution, AnalyticsLock, AnalyticsRollup
from resolvers.claims.facts import claim_views, iter_claim_views
from resolvers.policies.facts import iter_policy_views, policy_views
from resolvers.service.facts import complaint_views, iter_complaint_views

__all__ = ["last_rebuilt_at", "lock_row", "rebuild", "refresh", "refresh_advances", "refresh_complaints", "rollup_totals"]

Sums = dict[FactKey, tuple[int, Decimal]]
_CHUNK = 1000


def lock_row(session: Session) -> AnalyticsLock:
    """The one lock row, locked (created on first use)."""
    return _lock(session)


def _lock(session: Session) -> AnalyticsLock:
    row = session.execute(select(AnalyticsLock).where(AnalyticsLock.id == 1).with_for_update()).scalar_one_or_none()
    if row is None:
        ins = _insert(session, AnalyticsLock).values(id=1).on_conflict_do_nothing(index_elements=["id"])
        session.execute(ins)
        row = session.execute(select(AnalyticsLock).where(AnalyticsLock.id == 1).with_for_update()).scalar_one()
    return row


def _insert(session: Session, table: Any) -> Any:
    return (postgresql.insert(table) if session.get_bind().dialect.name == "postgresql" else sqlite.insert(table))


def _encode(rows: Iterable[FactRow]) -> list[list[Any]]:
    return [[r.fact.value, r.day.isoformat(), r.hour, r.product_id, r.age_band, r.region, r.count, str(r.amount)]
            for r in rows]


def _decode(facts: list[list[Any]]) -> list[FactRow]:
    return [FactRow(Fact(f), dt.date.fromisoformat(d), h, p, b, g, c, Decimal(a)) for f, d, h, p, b, g, c, a in facts]


def _add(session: Session, sums: Sums) -> None:
    """Add ``sums`` to the rollups (upsert per key)."""
    rows = [{"fact": k[0], "day": k[1], "hour": k[2], "product_id": k[3], "age_band": k[4], "region": k[5],
             "count": c, "amount": a} for k, (c, a) in sums.items() if c or a]
    if not rows:
        return
    ins = _insert(session, AnalyticsRollup)
    stmt = ins.on_conflict_do_update(
        index_elements=["fact", "day", "hour", "product_id", "age_band", "region"],
        set_={"count": AnalyticsRollup.count + ins.excluded.count, "amount": AnalyticsRollup.amount + ins.excluded.amount})
    for i in range(0, len(rows), _CHUNK):
        session.execute(stmt, rows[i:i + _CHUNK])


def _apply(session: Session, entity: str, derived: dict[int, list[FactRow]]) -> None:
    if not derived:
        return
    before = {c.entity_id: c for c in session.scalars(select(AnalyticsContribution).where(
        AnalyticsContribution.entity == entity, AnalyticsContribution.entity_id.in_(sorted(derived))))}
    delta: Sums = {}
    for entity_id, rows in derived.items():
        old = before.get(entity_id)
        old_rows = _decode(old.facts) if old is not None else []
        for key, (c, a) in summed(rows).items():
            dc, da = delta.get(key, (0, Decimal(0)))
            delta[key] = (dc + c, da + a)
        for key, (c, a) in summed(old_rows).items():
            dc, da = delta.get(key, (0, Decimal(0)))
            delta[key] = (dc - c, da - a)
        encoded = _encode(rows)
        if old is None:
            session.add(AnalyticsContribution(entity=entity, entity_id=entity_id, facts=encoded))
        elif old.facts != encoded:
            old.facts = encoded
    _add(session, delta)


def refresh(session: Session, *, policy_ids: Sequence[int] = (), claim_ids: Sequence[int] = ()) -> None:
    """Bring the rollups up to date with these policies' and claims' current state."""
    _lock(session)
    if policy_ids:
        views = policy_views(session, policy_ids=policy_ids)
        _apply(session, "policy", {pid: policy_facts(views[pid]) if pid in views else [] for pid in policy_ids})
    if claim_ids:
        claims = claim_views(session, claim_ids=claim_ids)
        policies = policy_views(session, policy_ids=[c.policy_id for c in claims.values()])
        _apply(session, "claim", {cid: claim_facts(claims[cid], policies.get(claims[cid].policy_id))
                                  if cid in claims else [] for cid in claim_ids})
    session.flush()


def refresh_advances(session: Session, *, advance_ids: Sequence[int]) -> None:
    """Bring the rollups up to date with these advances' current state."""
    _lock(session)
    advances = advance_views(session, advance_ids=advance_ids)
    policies = policy_views(session, policy_ids=[a.policy_id for a in advances.values()])
    _apply(session, "advance", {aid: advance_facts(advances[aid], policies.get(advances[aid].policy_id))
                                if aid in advances else [] for aid in advance_ids})
    session.flush()


def refresh_complaints(session: Session, *, work_order_ids: Sequence[int]) -> None:
    """Bring the rollups up to date with the complaints of these work orders (other orders contribute nothing)."""
    _lock(session)
    complaints = complaint_views(session, work_order_ids=work_order_ids)
    policies = policy_views(session, policy_ids=[c.policy_id for c in complaints.values() if c.policy_id])
    _apply(session, "complaint", {
        wid: complaint_facts(complaints[wid], policies.get(complaints[wid].policy_id or 0))
        for wid in work_order_ids if wid in complaints})
    session.flush()


def rebuild(session: Session) -> int:
    """Recompute every rollup from all policies, claims, advances and complaints; how many source rows were read."""
    lock = _lock(session)
    session.execute(delete(AnalyticsRollup))
    session.execute(delete(AnalyticsContribution))
    total: Sums = {}
    seen = 0

    def keep(entity: str, derived: dict[int, list[FactRow]]) -> None:
        contributions = [{"entity": entity, "entity_id": k, "facts": _encode(v)} for k, v in derived.items()]
        session.execute(_insert(session, AnalyticsContribution), contributions)
        for rows in derived.values():
            for key, (c, a) in summed(rows).items():
                tc, ta = total.get(key, (0, Decimal(0)))
                total[key] = (tc + c, ta + a)

    for page in iter_policy_views(session):
        keep("policy", {v.id: policy_facts(v) for v in page})
        seen += len(page)
    for claims in iter_claim_views(session):
        policies = policy_views(session, policy_ids=[c.policy_id for c in claims])
        keep("claim", {c.id: claim_facts(c, policies.get(c.policy_id)) for c in claims})
        seen += len(claims)
    for advances in iter_advance_views(session):
        policies = policy_views(session, policy_ids=[a.policy_id for a in advances])
        keep("advance", {a.id: advance_facts(a, policies.get(a.policy_id)) for a in advances})
        seen += len(advances)
    for complaints in iter_complaint_views(session):
        policies = policy_views(session, policy_ids=[c.policy_id for c in complaints if c.policy_id])
        keep("complaint", {c.work_order_id: complaint_facts(c, policies.get(c.policy_id or 0)) for c in complaints})
        seen += len(complaints)
    _add(session, total)
    lock.rebuilt_at = clock.now()
    session.flush()
    return seen


def rollup_totals(session: Session) -> dict[FactKey, tuple[int, Decimal]]:
    """Every non-zero rollup row, by key (amounts to the cent): what tests compare."""
    out: dict[FactKey, tuple[int, Decimal]] = {}
    for r in session.scalars(select(AnalyticsRollup)):
        amount = Decimal(r.amount).quantize(Decimal("0.01"))
        if r.count or amount:
            out[(r.fact, r.day, r.hour, r.product_id, r.age_band, r.region)] = (r.count, amount)
    return out


def last_rebuilt_at(session: Session) -> dt.datetime | None:
    """When the rollups were last rebuilt (None: never)."""
    return session.scalar(select(AnalyticsLock.rebuilt_at).where(AnalyticsLock.id == 1))
