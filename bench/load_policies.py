"""Requests per second for the policies page under concurrent load, over loopback.

Three kinds of process: this one prepares demo data and starts the server (uvicorn
serving the real Opsure app with the hand-written baseline endpoints mounted,
``bench.common:create_bench_app``, tuned for serving as ``opsure serve`` tunes it; with
``--workers N`` N worker processes on one socket) as a subprocess on 127.0.0.1; the load
generator is another subprocess (asyncio with N concurrent keep-alive connections, aiohttp
when installed, else httpx) run for a fixed duration per endpoint and round.

The endpoints are measured in rounds, one after the other within a round (baseline first),
so drift on a shared machine (other processes, CPU frequency) hits them alike; the ratio
graphql/baseline is computed per round. Printed per endpoint: the median over rounds of
requests/s, p50 and p95 latency and the server's CPU time per request (user + system of
the server processes, from /proc); then the per-round ratios, their median and range.

Run::

    .venv/bin/python bench/load_policies.py                       # 3 rounds of 8 s, 16 connections
    .venv/bin/python bench/load_policies.py --workers 2 --rounds 5
    .venv/bin/python bench/load_policies.py --connections 1       # sequential, for the cost per request
    .venv/bin/python bench/load_policies.py --endpoints baseline,baseline-orjson,graphql
    .venv/bin/python bench/load_policies.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/opsure_bench
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
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

ENDPOINTS = {"baseline": "/baseline", "baseline-orjson": "/baseline-orjson", "graphql": "/graphql"}


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


def process_tree_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) used so far by ``pid`` and its live children; None without /proc."""
    proc = Path("/proc")
    if not (proc / str(pid) / "stat").exists():
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # fields[1]: parent pid
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _wait_ready(port: int, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
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


def _measure(name: str, port: int, server_pid: int, args: argparse.Namespace,
             headers: dict[str, str]) -> dict[str, Any]:
    spec = {
        "url": f"http://127.0.0.1:{port}{ENDPOINTS[name]}",
        "headers": headers,
        "first": args.first,
        "connections": args.connections,
        "duration": args.duration,
        "warmup": args.warmup,
    }
    cpu0 = process_tree_cpu(server_pid)
    proc = subprocess.run(
        [sys.executable, __file__, "--client", json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=args.duration + args.warmup + 120,
        check=True,
    )
    cpu1 = process_tree_cpu(server_pid)
    r: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    served = r["rps"] * (args.duration + args.warmup)  # the warm-up's requests used CPU too
    r["cpu_ms"] = (cpu1 - cpu0) * 1000 / served if cpu0 is not None and cpu1 is not None and served else None
    return r


def _median(rows: list[dict[str, Any]], key: str) -> float:
    values = [r[key] for r in rows if r[key] is not None]
    return statistics.median(values) if values else float("nan")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=300)
    ap.add_argument("--first", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=8.0, help="seconds measured per endpoint and round")
    ap.add_argument("--warmup", type=float, default=1.0, help="seconds of load before measuring")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument("--endpoints", default="baseline,graphql",
                    help=f"comma-separated, measured in this order: {', '.join(ENDPOINTS)}")
    ap.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite in a temp dir)")
    ap.add_argument("--data-dir", default=None, help="reuse this data directory (default: a temp dir)")
    ap.add_argument("--client", default=None, help=argparse.SUPPRESS)  # internal: run as load generator
    args = ap.parse_args(argv)
    if args.client:
        client_main(json.loads(args.client))
        return
    names = [n.strip() for n in args.endpoints.split(",") if n.strip()]
    unknown = [n for n in names if n not in ENDPOINTS]
    if unknown:
        ap.error(f"unknown endpoints {unknown}; choose from {list(ENDPOINTS)}")

    with tempfile.TemporaryDirectory(prefix="opsure-load-") as tmp:
        data_dir = Path(args.data_dir) if args.data_dir else Path(tmp) / "data"
        env = build_data(data_dir, customers=args.customers, database_url=args.database_url)
        env.runtime.close()
        port = free_port()
        server_env = {**os.environ, "BENCH_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
        if args.database_url:
            server_env["OPSURE_DATABASE_URL"] = args.database_url
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bench.common:create_bench_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers),
             "--log-level", "warning", "--no-access-log"],
            cwd=ROOT,
            env=server_env,
        )
        results: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
        try:
            _wait_ready(port, server)
            print(f"server: uvicorn pid {server.pid} on 127.0.0.1:{port}, {args.workers} worker(s); "
                  f"first={args.first}, {args.connections} connections, {args.rounds} rounds of "
                  f"{args.duration:g} s per endpoint")
            for round_no in range(args.rounds):
                for name in names:
                    r = _measure(name, port, server.pid, args, env.headers)
                    results[name].append(r)
                    cpu = f"{r['cpu_ms']:6.2f}" if r["cpu_ms"] is not None else "     ?"
                    print(f"  round {round_no + 1} {name:<16} {r['rps']:7.1f} req/s   p50 {r['p50_ms']:7.2f} ms"
                          f"   p95 {r['p95_ms']:7.2f} ms   server CPU {cpu} ms/req   errors {r['errors']}",
                          flush=True)
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        print(f"median of {args.rounds} rounds ({results[names[0]][0]['client']} client):")
        for name in names:
            rows = results[name]
            print(f"  {name:<16} {_median(rows, 'rps'):7.1f} req/s   p50 {_median(rows, 'p50_ms'):7.2f} ms"
                  f"   p95 {_median(rows, 'p95_ms'):7.2f} ms   server CPU {_median(rows, 'cpu_ms'):6.2f} ms/req")
        for name in names:
            if name == "graphql" or "graphql" not in results:
                continue
            ratios = [g["rps"] / b["rps"] for g, b in zip(results["graphql"], results[name], strict=True)]
            print(f"  ratio graphql/{name} req/s per round: {' '.join(f'{x:.2f}' for x in ratios)}"
                  f"   median {statistics.median(ratios):.2f}x (range {min(ratios):.2f}-{max(ratios):.2f})")


if __name__ == "__main__":
    main()
