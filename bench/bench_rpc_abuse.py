"""GraphQL latency while anonymous clients abuse /rpc, against the same server idle.

Three processes: this one prepares demo data and measures; the server (uvicorn serving
the real app with the embedded ledger, ``bench.bench_rpc_abuse:create_abuse_app``) runs
as a subprocess; the abusers run as another subprocess. The abusers are N closed-loop
anonymous clients, each from its own address (``X-Forwarded-For`` through a trusted
proxy, so per-client bounds do not help: a distributed attack), alternating an endless
loop ``eth_call`` (init code ``JUMPDEST PUSH0 JUMP``, no contract needed) and an
``eth_getLogs`` over the widest range allowed. This process sends a simple authenticated
GraphQL query (5 policies) one at a time: first for ``--duration`` seconds with /rpc idle,
then for as long while the abusers run. It prints p50/p95 of both and the ratio, and what
the abusers got back.

Run::

    .venv/bin/python bench/bench_rpc_abuse.py                        # 4 abusers, 10 s per phase
    .venv/bin/python bench/bench_rpc_abuse.py --abusers 8 --duration 20
    .venv/bin/python bench/bench_rpc_abuse.py --read-processes 0     # EVM reads on API threads
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import build_data, free_port, percentile  # noqa: E402

GRAPHQL = "query Few { policies(first: 5) { edges { node { id number status } } } }"
ENDLESS_CALL = {"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": [{"data": "0x5b5f56"}, "latest"]}
WIDE_LOGS = {"jsonrpc": "2.0", "id": 2, "method": "eth_getLogs", "params": [{"fromBlock": "0x0", "toBlock": "latest"}]}


def create_abuse_app() -> Any:
    """uvicorn factory: the real app (embedded ledger) over ``BENCH_DATA_DIR``, settings from env."""
    from core.settings import Settings
    from opsure.app import create_app

    settings = Settings.from_env().with_(data_dir=Path(os.environ["BENCH_DATA_DIR"]), graphiql=False)
    return create_app(settings)


def _outcome(status: int, body: bytes) -> str:
    if status != 200:
        return f"http {status}"
    try:
        answer = json.loads(body)
    except ValueError:
        return "not json"
    if "error" in answer:
        message = str(answer["error"].get("message", ""))
        return f"{answer['error']['code']} {message.split(':')[0].split('(')[0].strip()[:40]}"
    return "result"


async def _abuse(url: str, abusers: int, seconds: float) -> dict[str, int]:
    import httpx

    counts: collections.Counter[str] = collections.Counter()
    stop = time.perf_counter() + seconds

    async def one(n: int) -> None:
        headers = {"x-forwarded-for": f"198.51.{n // 250}.{n % 250 + 1}", "content-type": "application/json"}
        bodies = [json.dumps(ENDLESS_CALL).encode(), json.dumps(WIDE_LOGS).encode()]
        async with httpx.AsyncClient(timeout=60, headers=headers) as client:
            i = n
            while time.perf_counter() < stop:
                try:
                    resp = await client.post(url, content=bodies[i % 2])
                    counts[("eth_call " if i % 2 == 0 else "eth_getLogs ") + _outcome(resp.status_code, resp.content)] += 1
                except httpx.HTTPError as exc:
                    counts[f"transport {type(exc).__name__}"] += 1
                i += 1

    await asyncio.gather(*(one(n) for n in range(abusers)))
    return dict(counts)


def abuser_main(spec: dict[str, Any]) -> None:
    """The abusers (run in their own process): prints one JSON line of answer counts."""
    print(json.dumps(asyncio.run(_abuse(spec["url"], spec["abusers"], spec["seconds"]))))


def _measure(url: str, headers: dict[str, str], seconds: float) -> list[float]:
    import httpx

    body = json.dumps({"query": GRAPHQL}).encode()
    out: list[float] = []
    with httpx.Client(headers=headers, timeout=60) as client:
        stop = time.perf_counter() + seconds
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            resp = client.post(url, content=body)
            elapsed = time.perf_counter() - t0
            assert resp.status_code == 200 and "errors" not in resp.json(), resp.text
            out.append(elapsed)
    return out


def _wait_ready(port: int, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("server exited early")
        try:
            if httpx.post(f"http://127.0.0.1:{port}/rpc", json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"},
                          timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not become ready")


def _line(name: str, samples: list[float]) -> tuple[float, float]:
    p50, p95 = percentile(samples, 0.5) * 1000, percentile(samples, 0.95) * 1000
    print(f"  {name:<8} p50 {p50:8.2f} ms   p95 {p95:8.2f} ms   (n={len(samples)})")
    return p50, p95


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--abusers", type=int, default=4, help="anonymous /rpc clients, each its own address")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds measured per phase (idle, abused)")
    ap.add_argument("--rounds", type=int, default=2, help="idle/abused alternations sharing --duration")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds of abuse before measuring")
    ap.add_argument("--customers", type=int, default=50)
    ap.add_argument("--read-processes", type=int, default=None, help="OPSURE_RPC_READ_PROCESSES for the server")
    ap.add_argument("--abuser", default=None, help=argparse.SUPPRESS)  # internal: run as the abusers
    args = ap.parse_args(argv)
    if args.abuser:
        abuser_main(json.loads(args.abuser))
        return

    with tempfile.TemporaryDirectory(prefix="opsure-rpc-abuse-") as tmp:
        data_dir = Path(tmp) / "data"
        env = build_data(data_dir, customers=args.customers)
        env.runtime.close()
        port = free_port()
        server_env = {k: v for k, v in os.environ.items() if not k.startswith("OPSURE_")}
        server_env.update({"BENCH_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT), "OPSURE_LEDGER": "embedded",
                           "OPSURE_TRUSTED_PROXIES": "127.0.0.1/32", "OPSURE_LOG_LEVEL": "WARNING"})
        if args.read_processes is not None:
            server_env["OPSURE_RPC_READ_PROCESSES"] = str(args.read_processes)
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bench.bench_rpc_abuse:create_abuse_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"],
            cwd=ROOT, env=server_env,
        )
        try:
            _wait_ready(port, server)
            base = f"http://127.0.0.1:{port}"
            headers = {**env.headers, "accept": "application/json"}
            _measure(f"{base}/graphql", headers, 4.0)  # warm caches, plans, the anchorer's first round
            print(f"server: uvicorn pid {server.pid}, embedded ledger, {args.abusers} abusers, "
                  f"{args.duration:g} s per phase, read processes "
                  f"{args.read_processes if args.read_processes is not None else 'default (1)'}")
            idle: list[float] = []
            abused: list[float] = []
            counts: collections.Counter[str] = collections.Counter()
            cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            for _ in range(args.rounds):  # alternate, so drift on a shared machine hits both alike
                idle += _measure(f"{base}/graphql", headers, args.duration / args.rounds)
                spec = {"url": f"{base}/rpc", "abusers": args.abusers,
                        "seconds": args.warmup + args.duration / args.rounds}
                abusers = subprocess.Popen([sys.executable, __file__, "--abuser", json.dumps(spec)],
                                           stdout=subprocess.PIPE, text=True)
                time.sleep(args.warmup)
                abused += _measure(f"{base}/graphql", headers, args.duration / args.rounds)
                out, _ = abusers.communicate(timeout=args.duration + 120)
                counts.update(json.loads(out.strip().splitlines()[-1]))
            cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
            abuser_cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
            abuse_seconds = args.rounds * args.warmup + args.duration
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        print("GraphQL (5 policies, admin token, one request at a time)")
        idle_p50, idle_p95 = _line("idle", idle)
        abused_p50, abused_p95 = _line("abused", abused)
        print(f"  ratio abused/idle: p50 {abused_p50 / idle_p50:.2f}x   p95 {abused_p95 / idle_p95:.2f}x")
        print(f"/rpc answers to the abusers (their own process used {abuser_cpu:.1f} s CPU in "
              f"{abuse_seconds:.0f} s, on this machine's {os.cpu_count()} cores)")
        for outcome, n in sorted(counts.items(), key=lambda kv: -kv[1]):
            print(f"  {n:6d}  {outcome}")


if __name__ == "__main__":
    main()
