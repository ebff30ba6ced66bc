"""Shared pieces of the policies-page benchmarks: data set, query, baseline endpoint, servers.

The baseline is a hand-written Starlette endpoint answering the same JSON as the GraphQL
query below from the same database, with hand-written SQL (SQLAlchemy Core over the same
tables, so encrypted columns are decrypted by the same ``core.crypto`` column type). It is
mounted inside the real Opsure app, so both go through the same ASGI stack and middleware
(bearer-token auth, request id, metrics). ``POST /baseline`` encodes with the stdlib's
``json.dumps`` (the yardstick the figures in ``bench/README.md`` use); ``POST
/baseline-orjson`` is the same endpoint encoding as ``/graphql`` does (byte-identical body).

Example::

    env = build_data(Path(tmp), customers=300)
    app = bench_app(env)              # Opsure app + POST /baseline, /baseline-orjson
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.auth import Principal, Role, issue_token
from core.settings import Settings
from opsure.runtime import Runtime, open_runtime

__all__ = [
    "QUERY",
    "BenchEnv",
    "StatementCounter",
    "baseline_route",
    "bench_app",
    "build_data",
    "create_bench_app",
    "free_port",
    "percentile",
    "serve_in_thread",
]

DEMO_TODAY = dt.date(2026, 6, 1)

QUERY = """
query PoliciesPage($first: Int!) {
  policies(first: $first) {
    edges {
      node {
        id number status periodStart periodEnd issuedAt premium insuredAge exclusions
        endedOn endReason refund beneficiaryRelationship version inForce
        contactPhone contactEmail beneficiaryName
        customer { name idNumber phone }
        product { code name annualLimit coverageItems { code } }
        endorsements { edges { node { kind effectiveOn changedFields } } }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""


@dataclass
class BenchEnv:
    """A data directory with demo data, its runtime and an admin token."""

    data_dir: Path
    runtime: Runtime
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """Request headers of an admin asking for a GraphQL response."""
        return {
            "authorization": f"Bearer {self.token}",
            "accept": "application/graphql-response+json",
            "content-type": "application/json",
        }


def build_data(data_dir: Path, *, customers: int = 300, database_url: str | None = None,
               load: bool = True) -> BenchEnv:
    """Open (and on first use migrate and fill with demo data) the data directory."""
    from opsure.demo import load_demo
    from opsure.migrate import upgrade
    from resolvers.policies.models import Customer

    if database_url is None:
        database_url = os.environ.get("OPSURE_DATABASE_URL") or None
    settings = Settings(data_dir=data_dir, database_url=database_url, graphiql=False)
    runtime = open_runtime(settings)
    if load:
        upgrade(runtime.engine)
        with runtime.session_factory() as s:
            have = int(s.scalar(select(func.count()).select_from(Customer)) or 0)
        if have == 0:
            load_demo(runtime, customers=customers, years=2, seed=7, today=DEMO_TODAY)
    token = issue_token(runtime.token_keys, settings, subject="bench-admin", role=Role.ADMIN,
                        ttl_seconds=24 * 3600)
    return BenchEnv(data_dir=data_dir, runtime=runtime, token=token)


# --- the hand-written baseline ---------------------------------------------------------------


def _gid(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def _cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([pk]).encode()).decode()


def _dec(value: Any) -> str | None:
    return None if value is None else str(value)


def _day(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


_CHANGE_ORDER = ["phone", "email", "name", "relationship"]  # EndorsementField's order


def _upper(value: str | None) -> str | None:
    return None if value is None else value.upper()


def baseline_page(engine: Engine, first: int, today: dt.date) -> dict[str, Any]:
    """The policies page as the GraphQL query answers it for an admin, by hand (5 statements)."""
    from resolvers.policies.models import CoverageItem, Customer, Endorsement, Policy, Product
    from resolvers.policies.reasons import end_reason, render_end_reason

    p, c, pr = Policy.__table__.c, Customer.__table__.c, Product.__table__.c
    ci, en = CoverageItem.__table__.c, Endorsement.__table__.c
    with engine.connect() as conn:
        rows: Sequence[Any] = conn.execute(
            select(p.id, p.number, p.customer_id, p.product_id, p.status, p.period_start, p.period_end,
                   p.issued_at, p.premium, p.insured_age, p.exclusions, p.ended_on, p.end_reason,
                   p.refund, p.beneficiary_relationship, p.version, p.contact_phone, p.contact_email,
                   p.beneficiary_name).order_by(p.id).limit(first + 1)
        ).all()
        has_next = len(rows) > first
        rows = rows[:first]
        customers: dict[int, Any] = {}
        products: dict[int, Any] = {}
        items: dict[int, list[str]] = {}
        endorsements: dict[int, list[dict[str, Any]]] = {}
        if rows:
            cids = sorted({r.customer_id for r in rows})
            pids = sorted({r.product_id for r in rows})
            customers = {r.id: r for r in conn.execute(
                select(c.id, c.name, c.id_number, c.phone).where(c.id.in_(cids)))}
            products = {r.id: r for r in conn.execute(
                select(pr.id, pr.code, pr.name, pr.annual_limit).where(pr.id.in_(pids)))}
            for it in conn.execute(select(ci.product_id, ci.code).where(ci.product_id.in_(pids)).order_by(ci.id)):
                items.setdefault(it.product_id, []).append(it.code)
            for e in conn.execute(
                select(en.policy_id, en.kind, en.effective_on, en.changes)
                .where(en.policy_id.in_([r.id for r in rows])).order_by(en.id)
            ):
                endorsements.setdefault(e.policy_id, []).append({"node": {
                    "kind": e.kind.name, "effectiveOn": e.effective_on.isoformat(),
                    "changedFields": [f"{'CONTACT' if e.kind.name == 'CONTACT' else 'BENEFICIARY'}_{k.upper()}"
                                      for k in sorted(json.loads(e.changes), key=_CHANGE_ORDER.index)],
                }})
    edges = []
    for r in rows:
        cu = customers[r.customer_id]
        prod = products[r.product_id]
        edges.append({"node": {
            "id": _gid("Policy", r.id), "number": r.number, "status": r.status.name,
            "periodStart": r.period_start.isoformat(), "periodEnd": r.period_end.isoformat(),
            "issuedAt": r.issued_at.isoformat(), "premium": str(r.premium), "insuredAge": r.insured_age,
            "exclusions": list(r.exclusions or ()), "endedOn": _day(r.ended_on),
            "endReason": None if (why := end_reason(r.status)) is None else render_end_reason(why, locale="en"),
            "refund": _dec(r.refund), "beneficiaryRelationship": _upper(r.beneficiary_relationship),
            "version": r.version,
            "inForce": r.status.value == "active" and r.period_start <= today <= r.period_end,
            "contactPhone": r.contact_phone, "contactEmail": r.contact_email,
            "beneficiaryName": r.beneficiary_name,
            "customer": {"name": cu.name, "idNumber": cu.id_number, "phone": cu.phone},
            "product": {"code": prod.code, "name": prod.name, "annualLimit": str(prod.annual_limit),
                        "coverageItems": [{"code": x} for x in items.get(prod.id, [])]},
            "endorsements": {"edges": endorsements.get(r.id, [])},
        }})
    return {"data": {"policies": {
        "edges": edges,
        "pageInfo": {"hasNextPage": has_next, "endCursor": _cursor(rows[-1].id) if rows else None},
    }}}


def _stdlib_json(body: Any) -> bytes:
    return json.dumps(body, default=str).encode()


def baseline_route(runtime: Runtime, path: str = "/baseline",
                   encode: Callable[[Any], bytes] = _stdlib_json) -> Route:
    """POST ``path``: the same JSON as the GraphQL query, for admins, by hand, encoded by ``encode``."""

    async def endpoint(request: Request) -> Response:
        principal: Principal = request.scope["principal"]
        if principal.role is not Role.ADMIN:
            return Response('{"errors":[{"message":"admins only"}]}', status_code=403)
        params = json.loads(await request.body())
        first = int((params.get("variables") or {}).get("first", 20))
        today = dt.datetime.now(dt.UTC).date()
        body = await anyio.to_thread.run_sync(baseline_page, runtime.engine, first, today)
        return Response(encode(body), media_type="application/graphql-response+json")

    return Route(path, endpoint, methods=["POST"])


def bench_app(env: BenchEnv) -> Starlette:
    """The real Opsure app with the baseline endpoints mounted next to /graphql."""
    from opsure.app import create_app
    from opsure.graphql_http import encode_json

    app = create_app(env.runtime.settings, env.runtime)
    app.router.routes.insert(0, baseline_route(env.runtime))
    app.router.routes.insert(0, baseline_route(env.runtime, "/baseline-orjson", encode_json))
    return app


def create_bench_app() -> Starlette:
    """uvicorn factory: the bench app over ``BENCH_DATA_DIR`` (already filled), tuned as ``opsure serve``."""
    from opsure.serving import tune_gc_for_serving

    data_dir = Path(os.environ["BENCH_DATA_DIR"])
    env = build_data(data_dir, load=False)
    app = bench_app(env)
    tune_gc_for_serving()
    return app


# --- measuring helpers -----------------------------------------------------------------------


class StatementCounter:
    """Counts SQL statements sent through an engine (``before_cursor_execute``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.count = 0
        self.statements: list[str] = []
        event.listen(engine, "before_cursor_execute", self._on)

    def _on(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.count += 1
        self.statements.append(statement)

    def reset(self) -> None:
        """Start counting from zero."""
        self.count = 0
        self.statements.clear()

    def close(self) -> None:
        """Stop listening."""
        event.remove(self.engine, "before_cursor_execute", self._on)


def percentile(samples: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``samples`` (nearest rank)."""
    ordered = sorted(samples)
    idx = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[idx]


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve_in_thread(app: Any, port: int) -> Iterator[None]:
    """Serve ``app`` with uvicorn on 127.0.0.1:``port`` in a background thread."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                            lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=5)



def report_ratio(title: str, results: dict[str, list[float]]) -> None:
    """Print p50/p95 of each endpoint and the graphql/baseline ratios."""
    print(title)
    summary: dict[str, dict[str, float]] = {}
    for name, samples in results.items():
        p50, p95 = percentile(samples, 0.5) * 1000, percentile(samples, 0.95) * 1000
        print(f"  {name:<9} p50 {p50:7.3f} ms   p95 {p95:7.3f} ms   (n={len(samples)})")
        summary[name] = {"p50": p50, "p95": p95}
    print(f"  ratio graphql/baseline: p50 {summary['graphql']['p50'] / summary['baseline']['p50']:.2f}x"
          f"   p95 {summary['graphql']['p95'] / summary['baseline']['p95']:.2f}x")


def interleaved(send: Callable[[str], None], paths: dict[str, str], iterations: int,
                warmup: int) -> dict[str, list[float]]:
    """Alternate the endpoints so drift (GC, caches, CPU) hits them alike; seconds per request."""
    for _ in range(warmup):
        for path in paths.values():
            send(path)
    results: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(iterations):
        for name, path in paths.items():
            t0 = time.perf_counter()
            send(path)
            results[name].append(time.perf_counter() - t0)
    return results
