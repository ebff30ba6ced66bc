"""Service: routing waiting work orders to agents in one round vs one request each; SLA due times on the
holiday calendar vs naive calendar-day arithmetic.

Routing. One process builds a fresh database: 200 agents in 5 teams, each with 1-2 of the team's
2 skills and a capacity of 40-60 (about 10,000 slots in all), then N waiting work orders (default
10,000) spread over the teams and skills with distinct waiting times (inserted through the ORM:
the measured path is routing, not opening). In the same process:

(a) one round: ``routing.route_waiting`` assigns every waiting order it can, oldest first, in one
    transaction (agents locked and loads read once, choices made in memory with a heap per queue,
    loads grown by conditional updates, orders updated by one executemany, one event each);
(b) one request each: ``routing.route_one`` per order, one transaction each (lock the order, pick
    the least loaded qualified agent with room by SQL, grow its load conditionally, one event), over
    a sample (``--requests``, default 1,000) of the oldest orders after the assignments of (a) are
    undone; the rate is per order.

After each run the property is checked in the database: no agent's load exceeds its capacity and
every load equals the open orders the agent holds. Nothing asserts on time.

SLA due times. ``--due-times`` (default 20,000) starts spread over 2026 (Beijing), random type and
priority: ``SlaPolicy.due`` (business hours, Chinese public holidays and adjusted workdays,
``core.calendar`` through the SLA's remembering calendar, and once more through the core calendar
with nothing remembered) vs the naive ``start + length`` in calendar time; due times per second.

Run::

    .venv/bin/python bench/bench_service_routing.py
    .venv/bin/python bench/bench_service_routing.py --orders 2000 --requests 300
    .venv/bin/python bench/bench_service_routing.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/opsure_bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from core.auth import Principal, Role
from core.calendar import default_calendar
from core.clock import moved_clock
from core.crypto import FieldKeys, install_field_keys
from core.db import make_engine, make_session_factory, transaction
from opsure.migrate import upgrade
from resolvers.service import routing
from resolvers.service.models import (
    ACTIVE_STATES,
    ServiceAgent,
    SlaKind,
    WorkOrder,
    WorkOrderActivity,
    WorkOrderPriority,
    WorkOrderState,
    WorkOrderType,
)
from resolvers.service.sla import SlaPolicy

NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # Monday 10:00 in Beijing
TEAMS = {"frontline": ("general", "policy"), "claims-care": ("claims", "general"), "complaints": ("complaints", "vip"),
         "outbound": ("callback", "renewal"), "health": ("health", "general")}
LEAD = Principal(subject="bench-lead", role=Role.MANAGER)


def build(url: str, *, agents: int, orders: int, seed: int) -> sessionmaker[Session]:
    """Agents with profiles and waiting orders."""
    rng = random.Random(seed)
    engine = make_engine(url)
    if url.startswith("postgresql"):
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    sessions = make_session_factory(engine)
    teams = sorted(TEAMS)
    with transaction(sessions) as s:
        for i in range(agents):
            team = teams[i % len(teams)]
            skills = TEAMS[team] if rng.random() < 0.5 else (rng.choice(TEAMS[team]),)
            routing.set_agent(s, principal=LEAD, subject=f"agent-{i:03d}", team=team, skills=skills,
                              capacity=rng.randint(40, 60), active=True, now=NOW)
    start = NOW - dt.timedelta(days=2)
    for chunk in range(0, orders, 2000):
        with transaction(sessions) as s:
            for i in range(chunk, min(orders, chunk + 2000)):
                team = rng.choice(teams)
                waited = start + dt.timedelta(seconds=i * 7 + rng.randint(0, 6))
                s.add(WorkOrder(type=WorkOrderType.INTERNAL, state=WorkOrderState.NEW,
                                priority=WorkOrderPriority.NORMAL, subject=f"bench {i}", description=None,
                                created_by="bench", team=team, skill=rng.choice(TEAMS[team]), waiting_since=waited,
                                escalation_level=0))
    return sessions


def check(sessions: sessionmaker[Session]) -> tuple[int, int]:
    """(agents over capacity, agents whose load differs from the orders they hold): both must be 0."""
    with transaction(sessions) as s:
        held: dict[int, int] = dict(s.execute(select(WorkOrder.assignee_id, func.count()).where(
            WorkOrder.assignee_id.is_not(None), WorkOrder.state.in_(ACTIVE_STATES))
            .group_by(WorkOrder.assignee_id)).all())
        over = wrong = 0
        for agent in s.scalars(select(ServiceAgent)):
            over += agent.load > agent.capacity or held.get(agent.id, 0) > agent.capacity
            wrong += agent.load != held.get(agent.id, 0)
        return over, wrong


def undo(sessions: sessionmaker[Session]) -> None:
    """Every order waiting again, every agent empty (what (b) starts from)."""
    with transaction(sessions) as s:
        s.execute(update(WorkOrder).values(assignee_id=None, assigned_at=None, waiting_since=WorkOrder.created_at)
                  .execution_options(synchronize_session=False))
        s.execute(update(ServiceAgent).values(load=0).execution_options(synchronize_session=False))
        s.execute(WorkOrderActivity.__table__.delete())


def bench_due_times(n: int, seed: int) -> None:
    rng = random.Random(seed)
    year = dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    cases = [(year + dt.timedelta(minutes=rng.randint(0, 364 * 24 * 60)), rng.choice(list(WorkOrderType)),
              rng.choice(list(SlaKind)[:3]), rng.choice(list(WorkOrderPriority))) for _ in range(n)]
    rates = {}
    for label, sla in (("SLA policy (remembering calendar)", SlaPolicy()),
                       ("core calendar, nothing remembered", SlaPolicy(calendar=default_calendar()))):
        t = time.perf_counter()
        for at, type_, kind, priority in cases:
            sla.due(at, type_, kind, priority)
        rates[label] = n / (time.perf_counter() - t)
    sla = SlaPolicy()
    t = time.perf_counter()
    for at, type_, kind, priority in cases:
        _ = at + sla.length(type_, kind, priority)
    naive = n / (time.perf_counter() - t)
    for label, rate in rates.items():
        print(f"SLA due times on the holiday calendar, {label}: {rate:,.0f}/s ({1e6 / rate:.1f} µs each), "
              f"{rate / naive:.3f}x the naive calendar-day rate")
    print(f"SLA due times, naive calendar-day arithmetic (start + length): {naive:,.0f}/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=1_000)
    parser.add_argument("--due-times", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    install_field_keys(FieldKeys.generate())
    with tempfile.TemporaryDirectory() as tmp, moved_clock(NOW):
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        sessions = build(url, agents=args.agents, orders=args.orders, seed=args.seed)
        with transaction(sessions) as s:
            slots = s.scalar(select(func.sum(ServiceAgent.capacity)))
        print(f"built {args.agents} agents ({slots:,} slots) and {args.orders:,} waiting orders")

        t = time.perf_counter()
        with transaction(sessions) as s:
            assigned, left = routing.route_waiting(s, now=NOW)
        round_s = time.perf_counter() - t
        over, wrong = check(sessions)
        round_rate = assigned / round_s
        print(f"(a) one round: {assigned:,} assigned, {left:,} left waiting, {round_s:.2f} s, {round_rate:,.0f} "
              f"orders/s; agents over capacity: {over}, loads not matching held orders: {wrong}")
        assert over == 0 and wrong == 0, "capacity exceeded"

        undo(sessions)
        with transaction(sessions) as s:
            sample = list(s.scalars(select(WorkOrder.id).order_by(WorkOrder.waiting_since, WorkOrder.id)
                                    .limit(args.requests)))
        t = time.perf_counter()
        done = 0
        for order_id in sample:
            with transaction(sessions) as s:
                done += routing.route_one(s, work_order_id=order_id, now=NOW)
        each_s = time.perf_counter() - t
        over, wrong = check(sessions)
        each_rate = len(sample) / each_s
        print(f"(b) one request each: {done:,} of {len(sample):,} assigned in {each_s:.2f} s, {each_rate:,.0f} "
              f"orders/s; agents over capacity: {over}, loads not matching: {wrong}")
        assert over == 0 and wrong == 0, "capacity exceeded"
        print(f"round / one-each: {round_rate / each_rate:.1f}x the orders per second")
    bench_due_times(args.due_times, args.seed)


if __name__ == "__main__":
    main()
