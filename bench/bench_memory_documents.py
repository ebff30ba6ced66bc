"""Resident memory while many distinct, comment-padded GraphQL documents arrive.

Every document is ``query Qn { __typename }`` padded with comment lines to ``--size``
bytes, distinct by its number: the shape that grew a process by 515 MiB for 200
documents when the parser, validation and plan caches kept raw documents. One process
builds the real app over an empty migrated SQLite database in a temporary directory and
sends the documents in process (httpx ASGITransport: the whole ASGI stack, no sockets),
as anonymous and, with ``--roles 2``, as an admin too (one plan per role). It prints the
resident set size (``VmRSS``) after a warm-up and at every checkpoint, the growth, the
ratio against the warm-up figure, how the responses were answered (200 / 413 ...), and
what each cache holds (entries, estimated MiB) where the code has bounded caches.

Only the app's public interface is used, so the same script measures an older checkout.
Nothing asserts on memory. Run::

    .venv/bin/python bench/bench_memory_documents.py                      # 10,000 x 16 KB
    .venv/bin/python bench/bench_memory_documents.py --size 65000 --documents 3000
    .venv/bin/python bench/bench_memory_documents.py --size 1000000 --documents 200   # over the cap
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from core.auth import Role, issue_token
from core.settings import Settings
from opsure.migrate import upgrade
from opsure.runtime import open_runtime

MIB = 1024 * 1024


def rss_bytes() -> int:
    """The process's resident set size now (Linux ``/proc/self/status``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def document(n: int, size: int) -> str:
    """A valid, distinct document of ``size`` bytes: a query and comment lines of 1,000 bytes."""
    head = f"query Q{n} {{ __typename }}\n"
    line = "# " + "padding " * 124 + "pad\n"  # 1,000 bytes: 1,000 comments in a megabyte
    room = max(0, size - len(head))
    return head + line * (room // len(line)) + "#" * min(room % len(line), room)


def cache_report(app: Any) -> str:
    """What the app's bounded caches hold (empty on code without them)."""
    schema = getattr(app.state, "schema", None)
    parts = []
    store = getattr(schema, "documents", None)
    if store is not None:
        parts.extend(store.stats())
    try:
        from schema import fastexec

        parts.append(fastexec.plan_cache_stats(schema))
    except (ImportError, AttributeError):
        pass
    return "; ".join(f"{s.name} {s.entries}/{s.max_entries} entries {s.bytes / MIB:.1f}/{s.max_bytes / MIB:.0f} MiB"
                     for s in parts)


async def run(args: argparse.Namespace, data_dir: Path) -> None:
    from opsure.app import create_app

    settings = Settings(data_dir=data_dir, ledger_mode="off", anchoring_in_process=False, graphiql=False)
    runtime = open_runtime(settings)
    upgrade(runtime.engine)
    app = create_app(settings, runtime)
    token = issue_token(runtime.token_keys, settings, subject="bench-admin", role=Role.ADMIN, ttl_seconds=86400)
    roles = [{}, {"authorization": f"Bearer {token}"}][: args.roles]
    statuses: collections.Counter[int] = collections.Counter()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=60) as client:

        async def send(n: int, size: int) -> None:
            for headers in roles:
                for _ in range(args.repeat):
                    resp = await client.post("/graphql", json={"query": document(n, size)}, headers=headers)
                    statuses[resp.status_code] += 1

        for n in range(args.warmup):  # small documents: the code paths, not the caches, warm up
            await send(-1 - n, 200)
        gc.collect()
        base = rss_bytes()
        print(f"documents of {args.size} bytes, {len(roles)} role(s), each sent {args.repeat}x; "
              f"RSS after warm-up: {base / MIB:.1f} MiB")
        print(f"{'documents':>10} {'RSS MiB':>9} {'growth':>8} {'ratio':>6} {'s':>6}")
        t0 = time.perf_counter()
        marks: dict[int, int] = {}
        for n in range(1, args.documents + 1):
            await send(n, args.size)
            if n % args.checkpoint == 0 or n == args.documents:
                gc.collect()
                rss = marks[n] = rss_bytes()
                print(f"{n:>10} {rss / MIB:>9.1f} {(rss - base) / MIB:>+8.1f} {rss / base:>6.2f} "
                      f"{time.perf_counter() - t0:>6.0f}")
        print("responses:", dict(sorted(statuses.items())))
        report = cache_report(app)
        if report:
            print("caches:", report)
        first = min(marks)
        print(f"RSS {base / MIB:.1f} MiB -> {marks[args.documents] / MIB:.1f} MiB after {args.documents} documents "
              f"(ratio {marks[args.documents] / base:.2f}); from {first} to {args.documents} documents: "
              f"{(marks[args.documents] - marks[first]) / MIB:+.1f} MiB")
    runtime.close()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--documents", type=int, default=10_000)
    ap.add_argument("--size", type=int, default=16_384, help="bytes per document (the cap is 65536)")
    ap.add_argument("--roles", type=int, choices=(1, 2), default=1, help="anonymous, and an admin with 2")
    ap.add_argument("--repeat", type=int, default=1, help="requests per document and role (2: the plan runs)")
    ap.add_argument("--checkpoint", type=int, default=1_000)
    ap.add_argument("--warmup", type=int, default=50)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="opsure-bench-memory-") as tmp:
        asyncio.run(run(args, Path(tmp) / "data"))


if __name__ == "__main__":
    main()
