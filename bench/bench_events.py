"""The domain event stream: appending overhead, delivery latency across processes, catch-up speed.

1. **Overhead.** A business transaction as a mutation runs it (``endorse_contact``: load the
   policy, validate, seal the new phone, write the endorsement, an audit row, commit) with
   its ``policy.endorsed`` event appended, against the same transaction with the append
   switched off (``resolvers.policies.events.endorsed`` replaced by a no-op), in
   alternating rounds in one process; sequential and with ``--threads`` writers.
   Target: overhead <= 10%.
2. **Latency.** Another process (this script, ``_subscriber``) runs the process tail with
   its listener and a durable consumer; this process appends one event per transaction
   every few milliseconds; the subscriber reports append-to-delivery times (wall clock; same
   machine). Baseline: a bare ``NOTIFY`` to a ``LISTEN``ing connection (PostgreSQL).
3. **Catch-up.** ``--events`` (1,000,000) events in the outbox, a consumer drains them from
   the start (its handler decodes each typed payload). Baseline: reading the same rows
   with one plain ``SELECT`` per batch, no consumer.

Usage::

    python bench/bench_events.py                                    # SQLite in a temp dir
    python bench/bench_events.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/opsure_bench
    python bench/bench_events.py --only latency --database-url ...

The PostgreSQL database given is wiped (schema ``public`` dropped and migrated again).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bench.common import percentile
from core.audit import AuditKey, append_audit, digest_input, install_audit_key
from core.auth import Principal, Role
from core.crypto import FieldKeys, install_field_keys
from core.db import make_engine, make_session_factory, read_only_session, transaction
from core.event_stream import (
    Actor,
    Aggregate,
    Consumer,
    ConsumerRunner,
    EventPayload,
    EventTail,
    StoredEvent,
    append,
    drain,
    register_event_type,
    wakeup,
)
from core.event_stream.outbox import EVENTS, NOTIFY_CHANNEL
from core.event_stream.wakeup import PgListener
from core.roles import STAFF
from opsure.migrate import upgrade
from resolvers.policies import events as policy_events
from resolvers.policies import service as policy_service

TODAY = dt.date(2026, 6, 1)
AGENT = Principal(subject="bench-agent", role=Role.AGENT)


class Probe(EventPayload):
    """A latency probe: its sequence number and the wall-clock instant it was appended."""

    seq: int
    sent_at: float


register_event_type("bench.probe", 1, Probe, aggregate="Bench", readers=STAFF)


def _engine(url: str | None, tmp: Path) -> tuple[Engine, str]:
    url = url or f"sqlite:///{tmp / 'bench.db'}"
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    return engine, url


# --- 1. overhead of appending in a business transaction ---------------------------------------


def _policies(factory: sessionmaker[Session], count: int) -> list[int]:
    from tests.factories import make_customer, make_policy, make_product

    ids = []
    with transaction(factory) as s:
        product = make_product(s)
        for _ in range(count):
            ids.append(make_policy(s, today=TODAY, customer=make_customer(s), product=product).id)
    return ids


def _endorse(factory: sessionmaker[Session], policy_id: int, n: int) -> None:
    with transaction(factory) as s:
        policy_service.endorse_contact(s, principal=AGENT, policy_id=policy_id, expected_version=None,
                                       phone=f"139{n % 10**8:08d}", email=None, today=TODAY)
        append_audit(s, actor=AGENT.subject, role="agent", action="endorseContact",
                     input_digest=digest_input({"policyId": policy_id, "n": n}))


def _rate(factory: sessionmaker[Session], policies: list[int], count: int, threads: int, start: int) -> float:
    """Endorsements per second, ``threads`` writers, each on its own policies."""
    per = count // threads

    def work(t: int) -> None:
        mine = policies[t::threads]
        for i in range(per):
            _endorse(factory, mine[i % len(mine)], start + t * per + i)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return per * threads / (time.perf_counter() - t0)


def overhead(factory: sessionmaker[Session], *, rounds: int, per_round: int, threads: int) -> None:
    """Print endorsements/s with and without the event, alternating rounds."""
    policies = _policies(factory, max(16, threads * 4))
    real_append = policy_events.endorsed
    no_append: Any = lambda *_a, **_k: None  # noqa: E731
    for label, t in (("sequential", 1), (f"{threads} threads", threads)):
        rates: dict[str, list[float]] = {"with events": [], "without": []}
        n = 0
        _rate(factory, policies, per_round // 4, t, 10**7)  # warm-up
        for _ in range(rounds):
            for name, publish in (("with events", real_append), ("without", no_append)):
                policy_events.endorsed = publish  # type: ignore[assignment]
                rates[name].append(_rate(factory, policies, per_round, t, n))
                n += per_round
        policy_events.endorsed = real_append  # type: ignore[assignment]
        with_, without = percentile(rates["with events"], 0.5), percentile(rates["without"], 0.5)
        paired = percentile([w / o for w, o in zip(rates["with events"], rates["without"], strict=True)], 0.5)
        print(f"  {label:<12} with events {with_:8.1f} tx/s   without {without:8.1f} tx/s   "
              f"overhead {100 * (1 - paired):+.1f}%  (median of {rounds} paired rounds of {per_round})")


# --- 2. append-to-delivery latency across processes -------------------------------------------


def subscriber(url: str, count: int) -> None:
    """Child: the tail (with its listener) and a durable consumer; prints their latencies as JSON."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    tail_at: dict[int, float] = {}  # probe seq -> wall-clock instant of delivery
    consumer_at: dict[int, float] = {}
    done = threading.Event()

    def handle(_s: Session, ev: StoredEvent) -> None:
        payload = ev.payload
        assert isinstance(payload, Probe)
        consumer_at[payload.seq] = time.time()

    tmp = Path(tempfile.mkdtemp(prefix="opsure-bench-sub-"))
    consumer = Consumer("bench-latency", handle, types=frozenset({"bench.probe"}), start_from="now")
    runner = ConsumerRunner(consumer, engine, factory, tmp, wakeup, poll_seconds=1.0)
    listener = PgListener(wakeup, engine.url.set(drivername="postgresql").render_as_string(hide_password=False),
                          NOTIFY_CHANNEL) if engine.dialect.name == "postgresql" else None
    if listener is not None:
        listener.start()
        listener.connected.wait(10)
    tail = EventTail(factory, wakeup, poll_seconds=1.0)
    tail.start()
    runner.start()
    runner.leading.wait(10)

    async def listen() -> None:
        async for ev in tail.subscribe(types={"bench.probe"}):
            payload = ev.payload
            assert isinstance(payload, Probe)
            tail_at[payload.seq] = time.time()
            if len(tail_at) >= count:
                return

    import asyncio

    def run() -> None:
        asyncio.run(listen())
        done.set()

    threading.Thread(target=run, daemon=True).start()
    time.sleep(0.3)
    print("ready", flush=True)
    done.wait(120)
    deadline = time.monotonic() + 30
    while len(consumer_at) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    runner.stop()
    tail.stop()
    if listener is not None:
        listener.stop()
    shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps({"tail": tail_at, "consumer": consumer_at}), flush=True)


def _notify_baseline(engine: Engine, count: int) -> list[float]:
    """Seconds from a bare NOTIFY's commit to its arrival on a LISTENing connection."""
    import psycopg

    conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    out = []
    with psycopg.connect(conninfo, autocommit=True) as listen, psycopg.connect(conninfo, autocommit=True) as talk:
        listen.execute("LISTEN bench_baseline")
        for _ in range(count):
            t0 = time.perf_counter()
            talk.execute("NOTIFY bench_baseline")
            next(listen.notifies(timeout=5, stop_after=1))
            out.append(time.perf_counter() - t0)
            time.sleep(0.002)
    return out


def latency(engine: Engine, url: str, *, count: int, gap: float) -> None:
    """Print p50/p99 append-to-delivery across two processes."""
    child = subprocess.Popen([sys.executable, __file__, "_subscriber", "--database-url", url, "--count", str(count)],
                             stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1],
                             env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    factory = make_session_factory(engine)
    actor = Actor.system("bench")
    appended: list[float] = []
    committed: list[float] = []
    for seq in range(count):
        appended.append(time.time())
        with transaction(factory) as s:
            append(s, Probe(seq=seq, sent_at=appended[-1]), aggregate=Aggregate("Bench", seq + 1), actor=actor)
        committed.append(time.time())
        time.sleep(gap)
    out, _ = child.communicate(timeout=180)
    got = json.loads(out.strip().splitlines()[-1])
    for name, delivered in (("tail subscriber", got["tail"]), ("durable consumer", got["consumer"])):
        at = {int(k): v for k, v in delivered.items()}
        for since, start in (("append", appended), ("commit", committed)):
            samples = [at[seq] - start[seq] for seq in at]
            if samples:
                print(f"  {name:<17} {since:>6} to delivery  p50 {percentile(samples, 0.5) * 1000:7.2f} ms   p99 "
                      f"{percentile(samples, 0.99) * 1000:7.2f} ms   ({len(samples)} of {count} events)")
    commits = [c - a for a, c in zip(appended, committed, strict=True)]
    print(f"  {'(the commit itself':<17} {'':>6}              p50 {percentile(commits, 0.5) * 1000:7.2f} ms   p99 "
          f"{percentile(commits, 0.99) * 1000:7.2f} ms)")
    if engine.dialect.name == "postgresql":
        base = _notify_baseline(engine, min(count, 500))
        print(f"  {'bare NOTIFY':<17} {'':>6}              p50 {percentile(base, 0.5) * 1000:7.2f} ms   p99 "
              f"{percentile(base, 0.99) * 1000:7.2f} ms   (baseline: LISTEN/NOTIFY alone)")


# --- 3. a consumer catching up ------------------------------------------------------------------


def _fill(engine: Engine, factory: sessionmaker[Session], count: int) -> float:
    """Append ``count`` probes, 1,000 per transaction; returns events appended per second."""
    actor = Actor.system("bench")
    t0 = time.perf_counter()
    done = 0
    while done < count:
        with transaction(factory) as s:
            for _ in range(min(1000, count - done)):
                done += 1
                append(s, Probe(seq=done, sent_at=0.0), aggregate=Aggregate("Bench", done), actor=actor)
    return count / (time.perf_counter() - t0)


def catchup(engine: Engine, *, events: int, batch: int) -> None:
    """Print events/s of a consumer draining ``events`` from the start, and of plain reads."""
    factory = make_session_factory(engine)
    print(f"  appended {events:,} events at {_fill(engine, factory, events):,.0f}/s (1,000 per transaction)")
    t0 = time.perf_counter()
    position, rows = 0, 0
    with read_only_session(factory) as s:
        while True:
            chunk = s.execute(select(EVENTS).where(EVENTS.c.id > position).order_by(EVENTS.c.id).limit(batch)).all()
            if not chunk:
                break
            rows += len(chunk)
            position = chunk[-1].id
    plain = rows / (time.perf_counter() - t0)
    seen = 0

    def handle(_s: Session, ev: StoredEvent) -> None:
        nonlocal seen
        assert isinstance(ev.payload, Probe)
        seen += 1

    t0 = time.perf_counter()
    handled = drain(factory, Consumer("bench-catchup", handle, batch_size=batch))
    rate = handled / (time.perf_counter() - t0)
    assert handled == seen == events, (handled, seen)
    print(f"  consumer (batch {batch}) {rate:10,.0f} events/s   plain SELECT {plain:10,.0f} rows/s   "
          f"ratio {rate / plain:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", nargs="?", default="all", choices=["all", "_subscriber"])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--only", choices=["overhead", "latency", "catchup"], default=None)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--per-round", type=int, default=200)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--count", type=int, default=1000, help="latency probes")
    parser.add_argument("--gap", type=float, default=0.005, help="seconds between latency probes")
    parser.add_argument("--events", type=int, default=1_000_000, help="events to catch up on")
    parser.add_argument("--batch", type=int, default=1000, help="consumer batch size when catching up")
    args = parser.parse_args()
    if args.mode == "_subscriber":
        subscriber(args.database_url, args.count)
        return
    install_field_keys(FieldKeys.generate())
    install_audit_key(AuditKey.generate())
    tmp = Path(tempfile.mkdtemp(prefix="opsure-bench-events-"))
    try:
        engine, url = _engine(args.database_url, tmp)
        print(f"database: {engine.dialect.name}")
        if args.only in (None, "overhead"):
            print("1. business transactions (endorse contact + audit) with and without their event")
            overhead(make_session_factory(engine), rounds=args.rounds, per_round=args.per_round,
                     threads=args.threads)
        if args.only in (None, "latency"):
            print("2. append-to-delivery across two processes")
            latency(engine, url, count=args.count, gap=args.gap)
        if args.only in (None, "catchup"):
            print(f"3. a consumer catching up on {args.events:,} events")
            with engine.begin() as conn:
                conn.execute(EVENTS.delete())
            catchup(engine, events=args.events, batch=args.batch)
        engine.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
