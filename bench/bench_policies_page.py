"""Latency of a page of policies: hand-written SQL + JSON versus the real Opsure /graphql.

One process builds demo data in a temporary directory (SQLite; ``--database-url`` for
PostgreSQL), mounts a hand-written baseline endpoint inside the real app, and measures
sequential requests over HTTP: uvicorn on 127.0.0.1 with an httpx client (keep-alive),
and in-process through httpx's ASGITransport. It prints p50/p95 of each, the ratio
GraphQL/baseline, and the SQL statements per request for page sizes 10 and 50.

Run::

    .venv/bin/python bench/bench_policies_page.py                # 300 customers, 300 iterations
    .venv/bin/python bench/bench_policies_page.py --iterations 1000 --transport uvicorn
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.common import (
    QUERY,
    BenchEnv,
    StatementCounter,
    bench_app,
    build_data,
    free_port,
    interleaved,
    report_ratio,
    serve_in_thread,
)
from opsure.serving import tune_gc_for_serving

PATHS = {"baseline": "/baseline", "graphql": "/graphql"}


def _body(first: int) -> dict[str, Any]:
    return {"query": QUERY, "variables": {"first": first}}


def bench_uvicorn(env: BenchEnv, first: int, iterations: int, warmup: int) -> dict[str, list[float]]:
    """Sequential requests to uvicorn on loopback over one keep-alive connection."""
    port = free_port()
    body = _body(first)
    with serve_in_thread(bench_app(env), port), httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:

        def send(path: str) -> None:
            resp = client.post(path, json=body, headers=env.headers)
            if resp.status_code != 200 or b'"errors"' in resp.content[:20]:
                raise RuntimeError(f"{path}: {resp.status_code} {resp.text[:300]}")

        return interleaved(send, PATHS, iterations, warmup)


def bench_asgi(env: BenchEnv, first: int, iterations: int, warmup: int) -> dict[str, list[float]]:
    """Sequential requests in process through httpx's ASGITransport (no sockets)."""
    app = bench_app(env)
    body = _body(first)

    async def main() -> dict[str, list[float]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            results: dict[str, list[float]] = {name: [] for name in PATHS}
            for i in range(warmup + iterations):
                for name, path in PATHS.items():
                    t0 = time.perf_counter()
                    resp = await client.post(path, json=body, headers=env.headers)
                    if resp.status_code != 200:
                        raise RuntimeError(f"{path}: {resp.status_code} {resp.text[:300]}")
                    if i >= warmup:
                        results[name].append(time.perf_counter() - t0)
            return results

    return asyncio.run(main())


def statement_counts(env: BenchEnv) -> dict[tuple[str, int], int]:
    """SQL statements per request for page sizes 10 and 50, and that both answer alike."""
    from starlette.testclient import TestClient

    counter = StatementCounter(env.runtime.engine)
    out: dict[tuple[str, int], int] = {}
    try:
        with TestClient(bench_app(env)) as client:
            for first in (10, 50):
                bodies = {}
                for name, path in {**PATHS, "baseline-orjson": "/baseline-orjson"}.items():
                    client.post(path, json=_body(first), headers=env.headers)  # plan warm
                    counter.reset()
                    resp = client.post(path, json=_body(first), headers=env.headers)
                    out[(name, first)] = counter.count
                    bodies[name] = resp.content
                # /baseline encodes with json.dumps (ASCII escapes, spaces): same JSON, other bytes
                same = "identical" if json.loads(bodies["graphql"]) == json.loads(bodies["baseline"]) else "DIFFERENT"
                exact = "identical" if bodies["graphql"] == bodies["baseline-orjson"] else "DIFFERENT"
                print(f"  first={first}: JSON of graphql and baseline {same}; bytes of graphql and "
                      f"baseline-orjson {exact} ({len(bodies['graphql'])} bytes)")
    finally:
        counter.close()
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=300)
    ap.add_argument("--first", type=int, default=50)
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--transport", choices=("both", "uvicorn", "asgi"), default="both")
    ap.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite in a temp dir)")
    ap.add_argument("--data-dir", default=None, help="reuse this data directory (default: a temp dir)")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="opsure-bench-") as tmp:
        data_dir = Path(args.data_dir) if args.data_dir else Path(tmp) / "data"
        t0 = time.perf_counter()
        env = build_data(data_dir, customers=args.customers, database_url=args.database_url)
        print(f"data: {env.runtime.engine.url.render_as_string(hide_password=True)} "
              f"({args.customers} customers, ready in {time.perf_counter() - t0:.1f} s)")
        print("SQL statements per request:")
        counts = statement_counts(env)
        tune_gc_for_serving()  # as opsure serve runs
        for name in PATHS:
            c10, c50 = counts[(name, 10)], counts[(name, 50)]
            flag = "equal" if c10 == c50 else "NOT EQUAL"
            print(f"  {name:<9} first=10: {c10}   first=50: {c50}   ({flag})")
        if args.transport in ("both", "uvicorn"):
            report_ratio(f"uvicorn on 127.0.0.1, first={args.first}, sequential, {args.iterations} iterations:",
                    bench_uvicorn(env, args.first, args.iterations, args.warmup))
        if args.transport in ("both", "asgi"):
            report_ratio(f"in process (httpx ASGITransport), first={args.first}, {args.iterations} iterations:",
                    bench_asgi(env, args.first, args.iterations, args.warmup))
        env.runtime.close()


if __name__ == "__main__":
    main()
