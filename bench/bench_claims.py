"""Claims: fast-claim auto-adjudication throughput, and the adjuster queue vs hand-written SQL.

One process builds demo data (``opsure.demo.load_demo``, fixed seed and date) in a
temporary directory, then generates claims through the claims services: reported by the
customer with structured line items, an invoice (a small PDF stored like an upload, so a
ledger record too), then submitted. Measured, in the same process:

(a) fast-claim throughput: ``service.submit_claim`` of small, complete, low-risk drafts,
    one transaction each (risk profile + zen-engine decision tables + model scoring +
    benefit calculation + payment + commit), as claims/s; also the cost per claim of the
    decision tables alone and of the model alone, over the same claims' facts;
(b) the adjuster queue: 50 claims under review or investigation with policy, customer,
    documents, risk hints, amounts and state, through the real app's ``/graphql`` (an
    adjuster's token) versus a hand-written Starlette endpoint (``POST /baseline-claims``)
    answering the same JSON from hand-written SQL over the same database (the customer's
    name decrypted by the same ``core.crypto`` column type); p50/p95 and the ratio, and the
    SQL statements per request for page sizes 10 and 50.

Nothing asserts on time. Run::

    .venv/bin/python bench/bench_claims.py                    # 300 customers, 600 claims
    .venv/bin/python bench/bench_claims.py --claims 1000 --iterations 500 --transport asgi
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import hashlib
import json
import math
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import anyio.to_thread
import httpx
from sqlalchemy import select
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.common import (
    DEMO_TODAY,
    BenchEnv,
    StatementCounter,
    build_data,
    free_port,
    interleaved,
    percentile,
    report_ratio,
    serve_in_thread,
)
from core.auth import Principal, Role, issue_token

QUEUE_QUERY = """
query AdjusterQueue($first: Int!) {
  claims(first: $first, filter: {states: [UNDER_REVIEW, INVESTIGATING]}) {
    edges {
      node {
        id number state claimedAmount approvedAmount paidAmount riskLevel riskScore
        riskHints { source code level score message }
        policy { number product { code } }
        customer { name }
        documents { edges { node { kind sha256 } } }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
QUEUE_STATES = ("under_review", "investigating")
PATHS = {"baseline": "/baseline-claims", "graphql": "/graphql"}
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
HOSPITALS = ["浙江大学医学院附属第一医院", "北京协和医院", "四川大学华西医院", "复旦大学附属中山医院",
             "中山大学附属第一医院", "华中科技大学同济医学院附属协和医院"]
DIAGNOSES = ["J18.9", "K35.8", "S52.5", "A09.9", "N39.0", "J20.9", "K80.2"]
# covered categories per demo product (see opsure.demo.DEMO_PRODUCTS); small claims avoid MEDI-BASIC
# (its 10,000 deductible leaves nothing to pay) and dental (2,000 sublimit: a partial approval)
CATEGORIES = {"MEDI-BASIC": ["inpatient", "outpatient", "drugs"], "OUTPATIENT-PLUS": ["outpatient", "dental"],
              "CRITICAL-CARE": ["inpatient", "special"]}
SMALL_CATEGORIES = {"OUTPATIENT-PLUS": ["outpatient"], "CRITICAL-CARE": ["inpatient", "special"]}


# --- data --------------------------------------------------------------------------------------


def _items(rng: random.Random, categories: Sequence[str], total_cents: int) -> list[Any]:
    from resolvers.claims.service import LineItemSpec

    n = rng.randint(1, 4)
    cuts = sorted(rng.sample(range(1, total_cents), n - 1)) if n > 1 else []
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, total_cents], strict=True)]
    return [LineItemSpec(f"ITEM-{i:02d}", rng.choice(list(categories)), Decimal(p) / 100, rng.randint(1, 5),
                         f"line {i}") for i, p in enumerate(parts)]


def generate_claims(env: BenchEnv, *, claims: int, seed: int = 11) -> dict[str, list[int]]:
    """Report drafts with line items and an invoice; split into fast-claim and queue candidates.

    Returns claim ids: ``fast`` (small, complete: meant for the fast path) and ``queue``
    (large amounts, or a non-disease diagnosis: meant for a human). None is submitted yet.
    """
    from core.db import transaction
    from resolvers.claims import documents, service
    from resolvers.claims.envelope import SealedWriter
    from resolvers.claims.models import ClaimChannel, DocumentKind
    from resolvers.claims.storage import LocalStorage
    from resolvers.policies.models import Policy, PolicyStatus, Product

    rng = random.Random(seed)
    storage = LocalStorage(env.runtime.settings.data_dir / "documents")
    today = DEMO_TODAY
    now = dt.datetime.combine(today, dt.time(9), dt.UTC)
    with env.runtime.session_factory() as s:
        rows = s.execute(
            select(Policy.id, Policy.customer_id, Product.code)
            .join(Product, Product.id == Policy.product_id)
            .where(Policy.status == PolicyStatus.ACTIVE, Policy.period_start <= today - dt.timedelta(days=120),
                   Policy.period_end >= today)
            .order_by(Policy.id)
        ).all()
    if not rows:
        raise RuntimeError("no active demo policies old enough to claim on")
    small = [r for r in rows if r.code in SMALL_CATEGORIES]
    out: dict[str, list[int]] = {"fast": [], "queue": []}
    for i in range(claims):
        queue = i % 3 == 2
        pool = rows if queue else small
        pol = pool[i % len(pool)]
        lap = i // len(pool)  # the same policy again: other dates and hospital, so no duplicate
        amount_cents = rng.randint(600_000, 4_000_000) if queue else rng.randint(30_000, 450_000)
        start = today - dt.timedelta(days=5 + 9 * lap + rng.randint(0, 3))
        diagnosis = "Z09" if queue and i % 9 == 2 else rng.choice(DIAGNOSES)
        items = _items(rng, (CATEGORIES if queue else SMALL_CATEGORIES)[pol.code], amount_cents)
        customer = Principal(subject=f"customer-{pol.customer_id}", role=Role.CUSTOMER, customer_id=pol.customer_id)
        with transaction(env.runtime.session_factory) as s:
            claim = service.report_claim(
                s, principal=customer, policy_id=pol.id, event_date=start, admission_date=start,
                discharge_date=start + dt.timedelta(days=rng.randint(0, 4)),
                hospital=HOSPITALS[(i + lap) % len(HOSPITALS)], diagnosis_code=diagnosis,
                claimed_amount=Decimal(amount_cents) / 100, channel=ClaimChannel.APP, items=items, today=today,
                now=now)
            writer = SealedWriter(storage)
            writer.write(PDF + f"% claim {claim.number}\n".encode())
            stored = writer.commit()
            documents.attach_document(s, principal=customer, claim_id=claim.id, kind=DocumentKind.INVOICE,
                                      filename=f"invoice-{i}.pdf", content_type="application/pdf", stored=stored,
                                      now=now)
            out["queue" if queue else "fast"].append(claim.id)
    return out


def submit_all(env: BenchEnv, ids: Sequence[int]) -> tuple[list[float], dict[str, int]]:
    """Submit each draft in its own transaction; seconds per claim and the outcomes."""
    from core.db import transaction
    from partners.risk import consortium_key
    from resolvers.claims import service

    submitter = Principal(subject="bench-adjuster", role=Role.ADJUSTER)
    today = DEMO_TODAY
    now = dt.datetime.combine(today, dt.time(10), dt.UTC)
    extra = dict(env.runtime.settings.extra)
    consortium = consortium_key(env.runtime.settings.keys_dir)  # shared risk flags looked up, as over /graphql
    times: list[float] = []
    outcomes: dict[str, int] = {}
    for cid in ids:
        t0 = time.perf_counter()
        with transaction(env.runtime.session_factory) as s:
            claim = service.submit_claim(s, principal=submitter, claim_id=cid, expected_version=None, today=today,
                                         now=now, extra=extra, consortium=consortium)
            key = claim.state.value + (" (fast-claim)" if claim.fast_track else "")
        times.append(time.perf_counter() - t0)
        outcomes[key] = outcomes.get(key, 0) + 1
    return times, outcomes


def component_costs(env: BenchEnv, ids: Sequence[int], repeat: int = 5) -> dict[str, float]:
    """Seconds per claim of the decision tables alone and of the model alone (same facts as risk control)."""
    from resolvers.claims.models import Claim, ClaimLineItem
    from resolvers.claims.risk.model import risk_model
    from resolvers.claims.risk.rules import rule_library
    from resolvers.policies.models import Policy

    rule_inputs: list[dict[str, Any]] = []
    model_inputs: list[dict[str, float]] = []
    with env.runtime.session_factory() as s:
        for c in s.scalars(select(Claim).where(Claim.id.in_(list(ids)))):
            lines = [float(a) for a in s.scalars(select(ClaimLineItem.amount).where(ClaimLineItem.claim_id == c.id))]
            start = s.scalar(select(Policy.period_start).where(Policy.id == c.policy_id))
            assert start is not None
            amount = float(c.claimed_amount)
            share = max(lines, default=0.0) / (sum(lines) or 1.0)
            days = (c.event_date - start).days
            delay = (DEMO_TODAY - c.event_date).days
            rule_inputs.append({
                "claim": {"amount": amount, "itemCount": len(lines), "duplicate": False, "diagnosis": c.diagnosis_code,
                          "maxLineShare": share, "reportDelayDays": delay,
                          "weekendAdmission": c.admission_date.weekday() >= 5},
                "policy": {"ageDays": days}, "history": {"claims365": 0, "sharedFlags": 0},
            })
            model_inputs.append({
                "log_amount": math.log1p(amount), "policy_age_years": max(days, 0) / 365.0, "claims_365": 0.0,
                "log_amount_365": 0.0, "item_count": float(len(lines)), "max_line_share": share,
                "report_delay_months": max(delay, 0) / 30.0, "weekend_admission": float(c.admission_date.weekday() >= 5),
                "rejected_365": 0.0,
            })
    library, model = rule_library(), risk_model()
    library.evaluate(rule_inputs[0])
    t0 = time.perf_counter()
    for _ in range(repeat):
        for facts in rule_inputs:
            library.evaluate(facts)
    rules = (time.perf_counter() - t0) / (repeat * len(rule_inputs))
    t0 = time.perf_counter()
    for _ in range(repeat * 20):
        for values in model_inputs:
            model.score(values)
    model_cost = (time.perf_counter() - t0) / (repeat * 20 * len(model_inputs))
    return {"rules": rules, "model": model_cost}


# --- the hand-written baseline -------------------------------------------------------------------


def _gid(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def _cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([pk]).encode()).decode()


def _level(value: Any) -> str | None:
    return str(value).upper() if value in ("low", "medium", "high") else None  # a model feature has none


def baseline_queue(engine: Engine, first: int) -> dict[str, Any]:
    """The queue page as the GraphQL query answers it for an adjuster, by hand (4 statements)."""
    from resolvers.claims.models import Claim, ClaimDocument
    from resolvers.policies.models import Customer, Policy, Product

    c, d = Claim.__table__.c, ClaimDocument.__table__.c
    p, pr, cu = Policy.__table__.c, Product.__table__.c, Customer.__table__.c
    with engine.connect() as conn:
        rows: Sequence[Any] = conn.execute(
            select(c.id, c.number, c.state, c.claimed_amount, c.approved_amount, c.paid_amount, c.risk_level,
                   c.risk_score, c.risk_hints, c.policy_id, c.customer_id)
            .where(c.state.in_(QUEUE_STATES)).order_by(c.id).limit(first + 1)
        ).all()
        has_next = len(rows) > first
        rows = rows[:first]
        policies: dict[int, Any] = {}
        customers: dict[int, str] = {}
        docs: dict[int, list[dict[str, str]]] = {}
        if rows:
            policies = {r.id: r for r in conn.execute(
                select(p.id, p.number, pr.code).join_from(Policy.__table__, Product.__table__, pr.id == p.product_id)
                .where(p.id.in_(sorted({r.policy_id for r in rows}))))}
            customers = {r.id: r.name for r in conn.execute(
                select(cu.id, cu.name).where(cu.id.in_(sorted({r.customer_id for r in rows}))))}
            for doc in conn.execute(select(d.claim_id, d.kind, d.sha256)
                                    .where(d.claim_id.in_([r.id for r in rows])).order_by(d.id)):
                docs.setdefault(doc.claim_id, []).append({"kind": doc.kind.name, "sha256": doc.sha256})
    edges = []
    for r in rows:
        pol = policies[r.policy_id]
        edges.append({"node": {
            "id": _gid("Claim", r.id), "number": r.number, "state": r.state.name,
            "claimedAmount": str(r.claimed_amount),
            "approvedAmount": None if r.approved_amount is None else str(r.approved_amount),
            "paidAmount": str(r.paid_amount), "riskLevel": None if r.risk_level is None else r.risk_level.name,
            "riskScore": r.risk_score,
            "riskHints": [{"source": str(h.get("source", "")).upper(), "code": str(h.get("code", "")),
                           "level": _level(h.get("level")), "score": float(h.get("score", 0)),
                           "message": str(h.get("message", ""))} for h in (r.risk_hints or [])],
            "policy": {"number": pol.number, "product": {"code": pol.code}},
            "customer": {"name": customers[r.customer_id]},
            "documents": {"edges": [{"node": doc} for doc in docs.get(r.id, [])[:20]]},
        }})
    return {"data": {"claims": {
        "edges": edges,
        "pageInfo": {"hasNextPage": has_next, "endCursor": _cursor(rows[-1].id) if rows else None},
    }}}


ADJUSTERS = frozenset({Role.ADJUSTER, Role.MANAGER, Role.ADMIN})


def baseline_route(engine: Engine) -> Route:
    """POST /baseline-claims: the queue page's JSON for adjusters, by hand."""

    async def endpoint(request: Request) -> Response:
        principal: Principal = request.scope["principal"]
        if principal.role not in ADJUSTERS:
            return Response('{"errors":[{"message":"adjusters only"}]}', status_code=403)
        params = json.loads(await request.body())
        first = int((params.get("variables") or {}).get("first", 20))
        body = await anyio.to_thread.run_sync(baseline_queue, engine, first)
        return Response(json.dumps(body), media_type="application/graphql-response+json")

    return Route("/baseline-claims", endpoint, methods=["POST"])


def claims_app(env: BenchEnv) -> Starlette:
    """The real Opsure app with the claims baseline mounted next to /graphql."""
    from opsure.app import create_app

    app = create_app(env.runtime.settings, env.runtime)
    app.router.routes.insert(0, baseline_route(env.runtime.engine))
    return app


# --- measuring ------------------------------------------------------------------------------------


def _body(first: int) -> dict[str, Any]:
    return {"query": QUEUE_QUERY, "variables": {"first": first}}


def bench_uvicorn(env: BenchEnv, headers: dict[str, str], first: int, iterations: int,
                  warmup: int) -> dict[str, list[float]]:
    """Sequential requests to uvicorn on loopback over one keep-alive connection."""
    port = free_port()
    body = _body(first)
    with serve_in_thread(claims_app(env), port), httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:

        def send(path: str) -> None:
            resp = client.post(path, json=body, headers=headers)
            if resp.status_code != 200 or b'"errors"' in resp.content[:20]:
                raise RuntimeError(f"{path}: {resp.status_code} {resp.text[:300]}")

        return interleaved(send, PATHS, iterations, warmup)


def bench_asgi(env: BenchEnv, headers: dict[str, str], first: int, iterations: int,
               warmup: int) -> dict[str, list[float]]:
    """Sequential requests in process through httpx's ASGITransport (no sockets)."""
    app = claims_app(env)
    body = _body(first)

    async def main() -> dict[str, list[float]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            results: dict[str, list[float]] = {name: [] for name in PATHS}
            for i in range(warmup + iterations):
                for name, path in PATHS.items():
                    t0 = time.perf_counter()
                    resp = await client.post(path, json=body, headers=headers)
                    if resp.status_code != 200:
                        raise RuntimeError(f"{path}: {resp.status_code} {resp.text[:300]}")
                    if i >= warmup:
                        results[name].append(time.perf_counter() - t0)
            return results

    return asyncio.run(main())


def statement_counts(env: BenchEnv, headers: dict[str, str]) -> dict[tuple[str, int], int]:
    """SQL statements per request for page sizes 10 and 50, and whether both answer alike."""
    from starlette.testclient import TestClient

    counter = StatementCounter(env.runtime.engine)
    out: dict[tuple[str, int], int] = {}
    try:
        client = TestClient(claims_app(env))  # not entered: no lifespan, so no anchoring job in the counts
        for first in (10, 50):
            bodies = {}
            for name, path in PATHS.items():
                client.post(path, json=_body(first), headers=headers)  # plan warm
                counter.reset()
                resp = client.post(path, json=_body(first), headers=headers)
                out[(name, first)] = counter.count
                if os.environ.get("BENCH_SHOW_SQL"):
                    for st in counter.statements:
                        print(f"    {name} {first}: {' '.join(st.split())[:160]}")
                bodies[name] = resp.content
            same = "identical" if bodies["graphql"] == bodies["baseline"] else "DIFFERENT"
            edges = len(json.loads(bodies["graphql"])["data"]["claims"]["edges"])
            print(f"  first={first}: JSON of graphql and baseline {same} "
                  f"({len(bodies['graphql'])} bytes, {edges} claims)")
            if same == "DIFFERENT":
                for name, b in bodies.items():
                    print(f"    {name}: sha256 {hashlib.sha256(b).hexdigest()[:16]} {b[:300]!r}")
    finally:
        counter.close()
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=300)
    ap.add_argument("--claims", type=int, default=600)
    ap.add_argument("--first", type=int, default=50)
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--transport", choices=("both", "uvicorn", "asgi"), default="both")
    ap.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite in a temp dir)")
    ap.add_argument("--skip-throughput", action="store_true", help="submit untimed; only the queue")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="opsure-bench-claims-") as tmp:
        t0 = time.perf_counter()
        env = build_data(Path(tmp) / "data", customers=args.customers, database_url=args.database_url)
        drafts = generate_claims(env, claims=args.claims)
        print(f"data: {env.runtime.engine.url.render_as_string(hide_password=True)} ({args.customers} customers, "
              f"{len(drafts['fast'])} small + {len(drafts['queue'])} large claims reported with invoices, "
              f"ready in {time.perf_counter() - t0:.1f} s)")

        times, outcomes = submit_all(env, drafts["fast"])
        q_times, q_outcomes = submit_all(env, drafts["queue"])
        if not args.skip_throughput:
            # approved with its payout instructed on the rail (PAID when the bank settles; no account: not paid)
            fast = outcomes.get("paid (fast-claim)", 0) + outcomes.get("approved (fast-claim)", 0)
            print("fast-claim (submit_claim, one transaction per claim: risk profile, decision tables, model, "
                  "benefit calculation, payment, commit):")
            print(f"  small claims: {len(times)} submitted, outcomes {dict(sorted(outcomes.items()))}")
            print(f"  {fast / sum(times):7.1f} claims/s auto-adjudicated and paid ({fast} of {len(times)}), "
                  f"{len(times) / sum(times):.1f} submissions/s end to end   (p50 {percentile(times, 0.5) * 1000:.2f} ms,"
                  f" p95 {percentile(times, 0.95) * 1000:.2f} ms per submission)")
            print(f"  large claims: {len(q_times)} submitted, outcomes {dict(sorted(q_outcomes.items()))}, "
                  f"{len(q_times) / sum(q_times):.1f} claims/s routed")
            costs = component_costs(env, drafts["fast"])
            print(f"  per claim: decision tables (zen-engine) {costs['rules'] * 1e6:.1f} µs, "
                  f"model scoring {costs['model'] * 1e6:.2f} µs")

        token = issue_token(env.runtime.token_keys, env.runtime.settings, subject="bench-adjuster",
                            role=Role.ADJUSTER, ttl_seconds=24 * 3600)
        headers = {"authorization": f"Bearer {token}", "accept": "application/graphql-response+json",
                   "content-type": "application/json"}
        print("adjuster queue, SQL statements per request:")
        counts = statement_counts(env, headers)
        for name in PATHS:
            c10, c50 = counts[(name, 10)], counts[(name, 50)]
            flag = "equal" if c10 == c50 else "NOT EQUAL"
            print(f"  {name:<9} first=10: {c10}   first=50: {c50}   ({flag})")
        if args.transport in ("both", "uvicorn"):
            report_ratio(f"adjuster queue, uvicorn on 127.0.0.1, first={args.first}, {args.iterations} iterations:",
                    bench_uvicorn(env, headers, args.first, args.iterations, args.warmup))
        if args.transport in ("both", "asgi"):
            report_ratio(f"adjuster queue, in process (httpx ASGITransport), first={args.first}, "
                    f"{args.iterations} iterations:",
                    bench_asgi(env, headers, args.first, args.iterations, args.warmup))
        env.runtime.close()


if __name__ == "__main__":
    main()
