"""Behaviour events: events ingested per second through ``POST /events`` in batches, against raw inserts.

One process, three fresh databases migrated alike (SQLite files in a temporary directory, or
``--database-url`` for PostgreSQL: its schemas ``public``, ``bench_raw`` and ``bench_floor``,
dropped and made again). N events (default 100,000) in batches of
500 (``behaviour.MAX_BATCH``), a mix of the registered names (page and quote views, underwriting
steps, declarations, purchases with a Decimal premium), half about customers (global ids), half
about anonymous visitors, sent by an agent's token (not bounded per address):

(a) ``POST /events`` through the real app in process (httpx ASGITransport: middleware, token
    auth, the route guard, body limits, JSON parsing, every check of every event, the insert
    with ON CONFLICT DO NOTHING, one audit row per batch, the commit);
(b) raw: the same rows (the columns (a) stores) inserted by SQLAlchemy Core ``insert(table)``
    executemany, one transaction per batch, into the second database;
(c) the floor: the driver's own executemany of the same rows made ready beforehand (text
    instants on SQLite, JSON text), one transaction per batch, into a third database.

Batches alternate (a), (b), (c), (a), ... so drift hits all alike; the rate is events per second
of each side's own time, the ratios (a)/(b) and (a)/(c). Then every batch is sent again (all duplicates)
and the stored rows are compared between the databases. ``--profile`` prints cProfile's top
functions of (a). Nothing asserts on time. Run::

    .venv/bin/python bench/bench_behaviour_ingest.py
    .venv/bin/python bench/bench_behaviour_ingest.py --events 20000 --profile
    .venv/bin/python bench/bench_behaviour_ingest.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/opsure_bench
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import io
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import orjson
from sqlalchemy import func, select, text

from core.audit import AuditEntry
from core.auth import Role, issue_token
from core.db import make_engine
from core.settings import Settings
from opsure.migrate import upgrade
from opsure.runtime import open_runtime
from resolvers.operations.behaviour import MAX_BATCH
from resolvers.operations.models import BehaviourEvent
from schema.relay import decode_global_id, encode_global_id

NAMES = [("page.viewed", lambda r: {"path": f"/products/{r.randrange(40)}"}),
         ("quote.viewed", lambda r: {"productCode": f"MED-{r.randrange(9)}"}),
         ("underwriting.step", lambda r: {"step": r.choice(["declaration", "review", "decision"])}),
         ("health_declaration.started", lambda r: {}),
         ("health_declaration.completed", lambda r: {}),
         ("purchase", lambda r: {"productCode": f"MED-{r.randrange(9)}", "premium": f"{r.randrange(200, 9000)}.00"})]


def make_batches(n: int, now: dt.datetime, seed: int = 7) -> list[list[dict[str, Any]]]:
    """``n`` events as frontends send them, in batches of MAX_BATCH."""
    r = random.Random(seed)
    events = []
    for i in range(n):
        name, props = NAMES[i % len(NAMES)]
        e: dict[str, Any] = {"eventId": f"bench-{i:010d}", "name": name,
                             "timestamp": (now - dt.timedelta(seconds=r.randrange(86_400 * 30))).isoformat(),
                             "properties": props(r)}
        if i % 2:
            e["customerId"] = encode_global_id("Customer", 1 + r.randrange(100_000))
        else:
            e["anonymousId"] = f"visitor-{r.randrange(1_000_000):08d}"
        events.append(e)
    return [events[i:i + MAX_BATCH] for i in range(0, n, MAX_BATCH)]


def raw_rows(batch: list[dict[str, Any]], now: dt.datetime, source: str) -> list[dict[str, Any]]:
    """The columns ``POST /events`` stores for ``batch`` (what the raw side inserts)."""
    out = []
    for e in batch:
        props = dict(e["properties"])
        customer = decode_global_id(e["customerId"], "Customer") if e.get("customerId") else None
        out.append({"event_id": e["eventId"], "name": e["name"], "customer_id": customer,
                    "anonymous_id": e.get("anonymousId"),
                    "occurred_at": dt.datetime.fromisoformat(e["timestamp"]).astimezone(dt.UTC),
                    "received_at": now, "properties": props, "source": source})
    return out


def _fresh(url: str, schema: str) -> str:
    """``url`` working in ``schema`` alone (dropped and made again)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return url if schema == "public" else f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL (its schemas public, bench_raw and bench_floor are dropped and made again)")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    now = dt.datetime.now(dt.UTC)
    batches = make_batches(args.events, now)
    bodies = [orjson.dumps({"events": b}) for b in batches]

    with tempfile.TemporaryDirectory() as tmp:
        app_url = args.database_url or f"sqlite:///{Path(tmp) / 'app.db'}"
        raw_url = f"sqlite:///{Path(tmp) / 'raw.db'}"
        floor_url = f"sqlite:///{Path(tmp) / 'floor.db'}"
        if args.database_url:
            app_url, raw_url, floor_url = (_fresh(args.database_url, schema)
                                           for schema in ("public", "bench_raw", "bench_floor"))
        settings = Settings(data_dir=Path(tmp) / "data", database_url=app_url, graphiql=False)
        runtime = open_runtime(settings)
        upgrade(runtime.engine)
        raw_engine = make_engine(raw_url)
        upgrade(raw_engine)
        floor_engine = make_engine(floor_url)
        upgrade(floor_engine)
        pg = floor_engine.dialect.name == "postgresql"
        marks = ", ".join(["%s"] * 6 + ["%s::json", "%s"]) if pg else ", ".join("?" * 8)
        floor_sql = (f"INSERT INTO behaviour_event (event_id, name, customer_id, anonymous_id, occurred_at, received_at, "
                     f"properties, source) VALUES ({marks}) ON CONFLICT (event_id) DO NOTHING")
        ready = [[(r["event_id"], r["name"], r["customer_id"], r["anonymous_id"],
                   r["occurred_at"] if pg else r["occurred_at"].replace(tzinfo=None).isoformat(" ", "microseconds"),
                   r["received_at"] if pg else r["received_at"].replace(tzinfo=None).isoformat(" ", "microseconds"),
                   orjson.dumps(r["properties"]).decode(), r["source"]) for r in batch_rows] for batch_rows in
                 (raw_rows(b, now, "bench-agent") for b in batches)]
        from opsure.app import create_app

        app = create_app(settings, runtime)
        token = issue_token(runtime.token_keys, settings, subject="bench-agent", role=Role.AGENT, ttl_seconds=3600)
        headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
        rows = [raw_rows(b, now, "bench-agent") for b in batches]
        table = BehaviourEvent.__table__
        profiler = cProfile.Profile() if args.profile else None
        timing = {"http": 0.0, "raw": 0.0, "floor": 0.0}

        async def run() -> None:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for _ in range(2):  # warm-up (not counted): one duplicate-only batch
                    await client.post("/events", content=orjson.dumps({"events": []}), headers=headers)
                for body, batch_rows, batch_ready in zip(bodies, rows, ready, strict=True):
                    t0 = time.perf_counter()
                    if profiler:
                        profiler.enable()
                    resp = await client.post("/events", content=body, headers=headers)
                    if profiler:
                        profiler.disable()
                    timing["http"] += time.perf_counter() - t0
                    answer = resp.json()
                    if resp.status_code != 200 or answer["rejected"] or answer["accepted"] != len(batch_rows):
                        raise SystemExit(f"POST /events: {resp.status_code} {str(answer)[:300]}")
                    t0 = time.perf_counter()
                    with raw_engine.begin() as conn:
                        conn.execute(table.insert(), batch_rows)
                    timing["raw"] += time.perf_counter() - t0
                    t0 = time.perf_counter()
                    dbapi = floor_engine.raw_connection()
                    try:
                        cursor = dbapi.cursor()
                        if not pg:  # core.db turns pysqlite's implicit transactions off: BEGIN as SQLAlchemy does
                            cursor.execute("BEGIN")
                        cursor.executemany(floor_sql, batch_ready)
                        dbapi.commit()
                    finally:
                        dbapi.close()
                    timing["floor"] += time.perf_counter() - t0
                t0 = time.perf_counter()
                for body in bodies:
                    answer = (await client.post("/events", content=body, headers=headers)).json()
                    if answer["accepted"] != 0:
                        raise SystemExit("a duplicate batch stored events")
                timing["dup"] = time.perf_counter() - t0

        asyncio.run(run())
        n = args.events
        http_rate, raw_rate, floor_rate = n / timing["http"], n / timing["raw"], n / timing["floor"]
        dialect = runtime.engine.dialect.name
        print(f"{n:,} events in {len(bodies)} batches of {MAX_BATCH}, {dialect}")
        print(f"(a) POST /events (validated, audited)       {http_rate:>10,.0f} events/s  ({timing['http']:.2f} s)")
        print(f"(b) raw Core insert of the same rows         {raw_rate:>10,.0f} events/s  ({timing['raw']:.2f} s)")
        print(f"(c) driver executemany of ready tuples      {floor_rate:>10,.0f} events/s  ({timing['floor']:.2f} s)")
        print(f"    the same batches again (all duplicates)  {n / timing['dup']:>10,.0f} events/s")
        print(f"ratios: (a)/(b) {http_rate / raw_rate:.2f}x, (a)/(c) {http_rate / floor_rate:.2f}x")
        cols = [table.c.event_id, table.c.name, table.c.customer_id, table.c.anonymous_id, table.c.occurred_at,
                table.c.properties]
        with runtime.engine.connect() as a, raw_engine.connect() as b, floor_engine.connect() as c:
            left = a.execute(select(*cols).order_by(table.c.event_id)).all()
            right = b.execute(select(*cols).order_by(table.c.event_id)).all()
            floor = c.execute(select(*cols).order_by(table.c.event_id)).all()
            audits = a.scalar(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.action == "postBehaviourEvents"))
        if left != right or left != floor or len(left) != n:
            raise SystemExit("MISMATCH: the endpoint stored other rows than the raw inserts")
        print(f"    stored rows identical ({n:,}); audit rows: {audits} (one per batch, duplicates included)")
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
            print(out.getvalue())
        raw_engine.dispose()
        floor_engine.dispose()
        runtime.engine.dispose()


if __name__ == "__main__":
    main()
