"""Investigations: auto-assignment of pending investigations to assessor firms, one job vs one request each.

One process builds a fresh database: 200 approved assessor firms (partners registry: registered,
reviewed, approved by two people), each with a profile of 2-3 of 10 regions, a capacity of
40-80 and a quality score, then N pending investigations (default 10,000) spread over the
regions (inserted in bulk: the measured path is assignment, not requesting). The database is
copied, and in the same process:

(a) the job: ``dispatch.dispatch_pending`` assigns every pending investigation in one round, one
    transaction (profiles locked once, loads counted once, each choice updating the chosen
    firm's load in memory; each offer also makes the registry's survey assignment, webhook row
    and event);
(b) one request each: ``service.assign`` (auto) per investigation, one transaction each (as the
    assignInvestigation mutation runs it: lock the profiles, read registry statuses and loads,
    choose, offer), over a sample (``--requests``, default 1,000) of the same investigations on
    the copy; the rate is per investigation.

After each run, the property is checked in the database: no firm holds more than its capacity,
every offer is to an approved firm covering the investigation's region, no investigation has two
live offers. Nothing asserts on time. Run::

    .venv/bin/python bench/bench_investigations.py
    .venv/bin/python bench/bench_investigations.py --investigations 2000 --requests 500
    .venv/bin/python bench/bench_investigations.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/opsure_bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from core.audit import AuditKey, install_audit_key
from core.auth import Principal, Role
from core.clock import moved_clock
from core.crypto import FieldKeys, install_field_keys
from core.db import make_engine, make_session_factory, transaction
from opsure.migrate import upgrade
from partners import review
from partners import service as registry
from partners.models import PartnerKind
from resolvers.claims import service as claims
from resolvers.investigations import dispatch, firms, service
from resolvers.investigations.models import (
    AssignmentState,
    Investigation,
    InvestigationAssignment,
    InvestigationState,
    InvestigationTrigger,
)

NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # Monday 10:00 in Beijing
REGIONS = [f"{p}0100" for p in ("11", "31", "32", "33", "34", "35", "37", "42", "44", "51")]
MAKER = Principal(subject="bench-agent", role=Role.AGENT)
CHECKER = Principal(subject="bench-manager", role=Role.MANAGER)
ADJUSTER = Principal(subject="bench-adjuster", role=Role.ADJUSTER)


def build(url: str, *, firms_count: int, investigations: int, seed: int) -> dict[int, tuple[frozenset[str], int]]:
    """Firms with profiles and pending investigations; returns {firm: (regions, capacity)}."""
    rng = random.Random(seed)
    engine = make_engine(url)
    if url.startswith("postgresql"):
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    sessions = make_session_factory(engine)
    profile: dict[int, tuple[frozenset[str], int]] = {}
    with transaction(sessions) as s:
        for i in range(firms_count):
            p = registry.register_partner(s, principal=MAKER, code=f"AF-{i:04d}", name=f"Assessor {i}",
                                          kind=PartnerKind.ASSESSOR_FIRM, licences=[registry.LicenceSpec(
                                              f"L-{i}", "NFRA", dt.date(2025, 1, 1), dt.date(2099, 1, 1))], now=NOW)
            review.start_review(s, principal=CHECKER, partner_id=p.id, now=NOW)
            review.approve(s, principal=CHECKER, partner_id=p.id, now=NOW)
            regions = rng.sample(REGIONS, rng.randint(2, 3))
            capacity = rng.randint(40, 80)
            firms.set_profile(s, principal=CHECKER, partner_id=p.id, regions=regions, capacity=capacity,
                              quality_score=Decimal(rng.randint(50, 100)), now=NOW)
            profile[p.id] = (frozenset(regions), capacity)
        from tests.factories import make_customer, make_policy, make_product  # the policy the claim is on

        policy = make_policy(s, today=NOW.date() - dt.timedelta(days=200), customer=make_customer(s),
                             product=make_product(s))
        start = NOW.date() - dt.timedelta(days=10)
        claim = claims.report_claim(
            s, principal=ADJUSTER, policy_id=policy.id, event_date=start, admission_date=start,
            discharge_date=start + dt.timedelta(days=2), hospital="浙江省人民医院", diagnosis_code="J18.9",
            claimed_amount=Decimal("9000.00"), channel=claims.ClaimChannel.AGENT, items=[], today=NOW.date(), now=NOW)
        table = Investigation.__table__
        rows = [{"claim_id": claim.id, "state": InvestigationState.PENDING, "trigger": InvestigationTrigger.RISK_RULE,
                 "checks": ["billing"], "rules": [], "region": rng.choice(REGIONS), "requested_by": "bench",
                 "requested_at": NOW, "report_due_at": NOW + dt.timedelta(days=14), "escalation_level": 0,
                 "version": 1, "row_uid": f"{i:032x}", "created_at": NOW, "updated_at": NOW}
                for i in range(investigations)]
        for chunk in range(0, len(rows), 2000):
            s.execute(insert(table), rows[chunk:chunk + 2000])
    engine.dispose()
    return profile


def check(sessions: sessionmaker[Session], profile: dict[int, tuple[frozenset[str], int]]) -> dict[str, Any]:
    """The property after a run: capacity never exceeded, regions covered, one live offer per investigation."""
    a, inv = InvestigationAssignment, Investigation
    with transaction(sessions) as s:
        live = list(s.execute(select(a.investigation_id, a.partner_id, inv.region).join(inv, inv.id == a.investigation_id)
                              .where(a.state == AssignmentState.OFFERED)).all())
    per_firm = Counter(p for _, p, _ in live)
    over = {p: (n, profile[p][1]) for p, n in per_firm.items() if n > profile[p][1]}
    outside = [(i, p) for i, p, r in live if r not in profile[p][0]]
    doubled = [i for i, n in Counter(i for i, _, _ in live).items() if n > 1]
    assert not over and not outside and not doubled, (over, outside[:5], doubled[:5])
    return {"offers": len(live), "firms_used": len(per_firm), "fullest": max(
        (n / profile[p][1] for p, n in per_firm.items()), default=0.0)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--firms", type=int, default=200)
    ap.add_argument("--investigations", type=int, default=10_000)
    ap.add_argument("--requests", type=int, default=1_000, help="sample size of the one-request-each run")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--database-url", default=None, help="PostgreSQL URL (both runs rebuild it); default SQLite")
    args = ap.parse_args()
    install_field_keys(FieldKeys.generate())
    install_audit_key(AuditKey.generate())
    with tempfile.TemporaryDirectory() as tmp, moved_clock(NOW):
        url = args.database_url or f"sqlite:///{tmp}/job.db"
        t = time.perf_counter()
        profile = build(url, firms_count=args.firms, investigations=args.investigations, seed=args.seed)
        print(f"built {args.firms} firms (capacity {sum(c for _, c in profile.values())}) and "
              f"{args.investigations} pending investigations in {time.perf_counter() - t:.1f} s")
        if args.database_url is None:
            shutil.copyfile(f"{tmp}/job.db", f"{tmp}/each.db")

        engine = make_engine(url)
        sessions = make_session_factory(engine)
        t = time.perf_counter()
        with transaction(sessions) as s:
            offered, left = dispatch.dispatch_pending(s, now=NOW)
        job_s = time.perf_counter() - t
        job_check = check(sessions, profile)
        engine.dispose()
        job_rate = offered / job_s
        print(f"(a) one job:        {offered} offered, {left} left without a firm, {job_s:.2f} s, "
              f"{job_rate:,.0f} investigations/s; capacity held ({job_check})")

        if args.database_url is None:
            url = f"sqlite:///{tmp}/each.db"
        else:
            profile = build(url, firms_count=args.firms, investigations=args.investigations, seed=args.seed)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        with transaction(sessions) as s:
            ids = list(s.scalars(select(Investigation.id).where(Investigation.state == InvestigationState.PENDING)
                                 .order_by(Investigation.id).limit(args.requests)))
        t = time.perf_counter()
        done = 0
        for inv_id in ids:
            with transaction(sessions) as s:
                service.assign(s, principal=ADJUSTER, investigation_id=inv_id, partner_id=None, expected_version=None,
                               now=NOW)
            done += 1
        each_s = time.perf_counter() - t
        each_check = check(sessions, profile)
        with transaction(sessions) as s:
            assert s.scalar(select(func.count()).select_from(InvestigationAssignment)) == done
        engine.dispose()
        each_rate = done / each_s
        print(f"(b) one request each: {done} offered in {each_s:.2f} s, {each_rate:,.0f} investigations/s; "
              f"capacity held ({each_check})")
        print(f"job / one-each: {job_rate / each_rate:.1f}x the investigations per second")


if __name__ == "__main__":
    main()
