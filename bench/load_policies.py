"""Requests per second for the policies page under concurrent load, over loopback.

Three processes: this one prepares demo data, starts the server (uvicorn serving the real
Opsure app with the hand-written baseline endpoint mounted, ``bench.common:create_bench_app``)
as a subprocess on 127.0.0.1, then runs the load generator as another subprocess (asyncio
with N concurrent keep-alive connections, aiohttp when installed, else httpx) for a fixed
duration per endpoint: first the baseline, then /graphql. Prints requests/s, latency
percentiles and the ratio.

Run::

    .venv/bin/python bench/load_policies.py                       # 10 s each, 16 connections
    .venv/bin/python bench/load_policies.py --duration 20 --connections 32 --first 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import QUERY, build_data, free_port, percentile  # noqa: E402


async def _drive(
    post: Callable[[], Awaitable[bool]], connections: int, duration: float, warmup: float
) -> dict[str, Any]:
    """Run ``connections`` closed-loop workers; keep latencies of requests started after warm-up."""
    latencies: list[float] = []
    errors = 0
    measure_from = time.perf_counter() + warmup
    stop = measure_from + duration

    async def worker() -> None:
        nonlocal errors
        while True:
            t0 = time.perf_counter()
            if t0 >= stop:
                return
            ok = await post()
            t1 = time.perf_counter()
            if t0 >= measure_from:
                if ok:
                    latencies.append(t1 - t0)
                else:
                    errors += 1

    await asyncio.gather(*(worker() for _ in range(connections)))
    return {"latencies": latencies, "errors": errors}


async def _client_aiohttp(
    url: str, body: bytes, headers: dict[str, str], connections: int, duration: float, warmup: float
) -> dict[str, Any]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def post() -> bool:
            async with session.post(url, data=body) as resp:
                await resp.read()
                return resp.status == 200

        return await _drive(post, connections, duration, warmup)


async def _client_httpx(
    url: str, body: bytes, headers: dict[str, str], connections: int, duration: float, warmup: float
) -> dict[str, Any]:
    import httpx

    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, headers=headers) as client:

        async def post() -> bool:
            return (await client.post(url, content=body)).status_code == 200

        return await _drive(post, connections, duration, warmup)


def client_main(spec: dict[str, Any]) -> None:
    """Load generator (run in its own process): prints one JSON line of results."""
    try:
        import aiohttp  # noqa: F401

        run, kind = _client_aiohttp, "aiohttp"
    except ImportError:  # pragma: no cover - aiohttp ships with web3 here
        run, kind = _client_httpx, "httpx"
    body = json.dumps({"query": QUERY, "variables": {"first": spec["first"]}}).encode()
    out = asyncio.run(
        run(spec["url"], body, spec["headers"], spec["connections"], spec["duration"], spec["warmup"])
    )
    lat = out["latencies"]
    print(
        json.dumps(
            {
                "client": kind,
                "requests": len(lat),
                "errors": out["errors"],
                "rps": len(lat) / spec["duration"],
                "p50_ms": percentile(lat, 0.5) * 1000 if lat else None,
                "p95_ms": percentile(lat, 0.95) * 1000 if lat else None,
                "p99_ms": percentile(lat, 0.99) * 1000 if lat else None,
            }
        )
    )


def _wait_ready(port: int, server: subprocess.Popen[bytes], timeout: float = 30) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("server exited early")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not become ready")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=300)
    ap.add_argument("--first", type=int, default=50)
    ap.add_argument("--duration", type=float, default=10.0, help="seconds measured per endpoint")
    ap.add_argument("--warmup", type=float, default=2.0, help="seconds of load before measuring")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite in a temp dir)")
    ap.add_argument("--data-dir", default=None, help="reuse this data directory (default: a temp dir)")
    ap.add_argument("--client", default=None, help=argparse.SUPPRESS)  # internal: run as load generator
    args = ap.parse_args(argv)
    if args.client:
        client_main(json.loads(args.client))
        return

    with tempfile.TemporaryDirectory(prefix="opsure-load-") as tmp:
        data_dir = Path(args.data_dir) if args.data_dir else Path(tmp) / "data"
        env = build_data(data_dir, customers=args.customers, database_url=args.database_url)
        env.runtime.close()
        port = free_port()
        server_env = {**os.environ, "BENCH_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
        if args.database_url:
            server_env["OPSURE_DATABASE_URL"] = args.database_url
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.common:create_bench_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            cwd=ROOT,
            env=server_env,
        )
        results: dict[str, dict[str, Any]] = {}
        try:
            _wait_ready(port, server)
            print(
                f"server: uvicorn pid {server.pid} on 127.0.0.1:{port}; first={args.first}, "
                f"{args.connections} connections, {args.duration:g} s per endpoint"
            )
            for name, path in (("baseline", "/baseline"), ("graphql", "/graphql")):
                spec = {
                    "url": f"http://127.0.0.1:{port}{path}",
                    "headers": env.headers,
                    "first": args.first,
                    "connections": args.connections,
                    "duration": args.duration,
                    "warmup": args.warmup,
                }
                proc = subprocess.run(
                    [sys.executable, __file__, "--client", json.dumps(spec)],
                    capture_output=True,
                    text=True,
                    timeout=args.duration + args.warmup + 120,
                    check=True,
                )
                r = results[name] = json.loads(proc.stdout.strip().splitlines()[-1])
                print(
                    f"  {name:<9} {r['rps']:8.1f} req/s   p50 {r['p50_ms']:7.2f} ms   p95 {r['p95_ms']:7.2f} ms"
                    f"   p99 {r['p99_ms']:7.2f} ms   errors {r['errors']}   ({r['client']})"
                )
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        print(
            f"  ratio graphql/baseline: {results['graphql']['rps'] / results['baseline']['rps']:.2f}x req/s"
        )


if __name__ == "__main__":
    main()
