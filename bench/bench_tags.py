"""Customer tags: the incremental update per behaviour event against a full rebuild, in the same run.

One process, a fresh database with N customers (default 100,000; bulk inserts, attributes
spread over ages and cities) and about three behaviour events each, five rule tags (count in
a window, never, first time, stopped, and a tag reading a tag with an age band). Measured in turn:

(a) the full rebuild (``tags.rebuild``): every customer evaluated, tags written, recheck times
    stored; the baseline;
(b) the incremental path, one event at a time: store one event of a random customer and run
    ``apply_new_events`` (the job's step) in its own transaction, for ``--events`` events;
(c) the same with the events in batches of 100 per step;
(d) time passing: ``expire`` one week later (only the customers whose window closed).

After (b)-(d) a rebuild at the same instant must change nothing (checked; the run stops
otherwise). Ratios: rebuild time over the incremental time per event. Nothing asserts on time::

    .venv/bin/python bench/bench_tags.py
    .venv/bin/python bench/bench_tags.py --customers 20000 --database-url postgresql+psycopg://postgres@127.0.0.1:5432/opsure_bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select, text

from core.auth import Principal, Role
from core.crypto import bind_row
from core.db import make_engine, transaction
from core.settings import Settings
from opsure.migrate import upgrade
from opsure.runtime import open_runtime
from resolvers.operations.models import BehaviourEvent
from resolvers.operations.tags import service as tags
from resolvers.operations.tags.models import TagChange, TagHistory
from resolvers.policies.models import Customer, Gender

NOW = dt.datetime(2026, 11, 11, 2, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
MANAGER = Principal(subject="bench", role=Role.MANAGER)
CITIES = ["杭州", "上海", "北京", "深圳", "成都"]
NAMES = ["quote.viewed", "page.viewed", "purchase"]
RULES = {
    "browser": {"op": "did", "event": "quote.viewed", "atLeast": 3, "withinDays": 30},
    "never-bought": {"op": "never", "event": "purchase"},
    "new-buyer": {"op": "firstTime", "event": "purchase", "withinDays": 14},
    "lapsed": {"op": "stopped", "event": "page.viewed", "withinDays": 60},
    "young-browser": {"op": "all", "of": [{"op": "tag", "tag": "browser"}, {"op": "age", "min": 18, "max": 35}]},
}


def _load(factory: object, customers: int, rng: random.Random) -> None:
    seq = 0
    with transaction(factory) as s:  # type: ignore[arg-type]
        for start in range(0, customers, 5000):
            rows = [{"name": bind_row("客户", f"bench-{i}"), "id_number": bind_row(f"B{i:017d}", f"bench-{i}"),
                     "id_number_bidx": f"bench-{i}", "phone": bind_row("13800000000", f"bench-{i}"),
                     "email": None, "birth_date": bind_row("1990-01-01", f"bench-{i}"),
                     "birth_year": rng.randint(1950, 2006),
                     "gender": rng.choice([Gender.MALE, Gender.FEMALE]), "city": rng.choice(CITIES),
                     "row_uid": f"bench-{i}", "version": 1, "created_at": NOW, "updated_at": NOW}
                    for i in range(start, min(customers, start + 5000))]
            s.execute(insert(Customer), rows)
        first = int(s.scalar(select(func.min(Customer.id))) or 1)
        for start in range(0, customers, 5000):
            events = []
            for cid in range(first + start, first + min(customers, start + 5000)):
                for _ in range(rng.choice((0, 1, 2, 3, 4, 5))):
                    seq += 1
                    name = rng.choice(NAMES)
                    at = NOW - dt.timedelta(days=rng.uniform(0, 90))
                    events.append({"event_id": f"bench-{seq:010d}", "name": name, "customer_id": cid,
                                   "anonymous_id": None, "occurred_at": at, "received_at": at,
                                   "properties": {}, "source": "bench"})
            if events:
                s.execute(insert(BehaviourEvent), events)
    print(f"loaded {customers:,} customers and {seq:,} behaviour events")


def _timed(label: str, run: object) -> float:
    start = time.perf_counter()
    done = run()  # type: ignore[operator]
    seconds = time.perf_counter() - start
    print(f"{label:<62} {seconds:>9.3f} s   (changes {done:,})")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        if args.database_url:
            with make_engine(url).begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        runtime = open_runtime(Settings(data_dir=Path(tmp) / "data", database_url=url))  # keys for sealed columns
        engine, factory = runtime.engine, runtime.session_factory
        upgrade(engine)
        with transaction(factory) as s:
            for key, rule in RULES.items():  # defined on an empty database: nothing to evaluate yet
                tags.define_tag(s, principal=MANAGER, key=key, kind=tags.TagKind.RULE, rule=rule, now=NOW)
        _load(factory, args.customers, rng)
        with factory() as s:
            first = int(s.scalar(select(func.min(Customer.id))) or 1)

        def rebuild() -> int:
            with transaction(factory) as s:
                return tags.rebuild(s, now=NOW)

        full = _timed(f"(a) full rebuild, {args.customers:,} customers", rebuild)
        seq = [0]

        def one_event(now: dt.datetime) -> int:
            seq[0] += 1
            cid = first + rng.randrange(args.customers)
            with transaction(factory) as s:
                s.execute(insert(BehaviourEvent), [{
                    "event_id": f"inc-{seq[0]:010d}", "name": rng.choice(NAMES), "customer_id": cid,
                    "anonymous_id": None, "occurred_at": now, "received_at": now, "properties": {}, "source": "bench"}])
                return tags.apply_new_events(s, now=now)

        def incremental() -> int:
            return sum(one_event(NOW + dt.timedelta(seconds=i)) for i in range(args.events))

        def batched() -> int:
            done = 0
            for b in range(args.events // 100):
                now = NOW + dt.timedelta(hours=1, seconds=b)
                with transaction(factory) as s:
                    for _ in range(100):
                        seq[0] += 1
                        s.execute(insert(BehaviourEvent), [{
                            "event_id": f"inc-{seq[0]:010d}", "name": rng.choice(NAMES),
                            "customer_id": first + rng.randrange(args.customers), "anonymous_id": None,
                            "occurred_at": now, "received_at": now, "properties": {}, "source": "bench"}])
                    done += tags.apply_new_events(s, now=now)
            return done

        later = NOW + 7 * DAY

        def expire() -> int:
            with transaction(factory) as s:
                return tags.expire(s, now=later)

        with factory() as s:
            rebuilt_before = s.scalar(select(func.count()).select_from(TagHistory)
                                      .where(TagHistory.cause == TagChange.REBUILD))
        inc = _timed(f"(b) incremental, {args.events:,} events one at a time", incremental)
        bat = _timed(f"(c) incremental, {args.events:,} events in steps of 100", batched)
        exp = _timed("(d) expiry one week later", expire)
        with transaction(factory) as s:
            changed = tags.rebuild(s, now=later)
            healed = s.scalar(select(func.count()).select_from(TagHistory)
                              .where(TagHistory.cause == TagChange.REBUILD)) - rebuilt_before
        if changed or healed:
            sys.exit(f"MISMATCH: a rebuild after the incremental path changed {changed} tags")
        print("    a rebuild afterwards changes nothing: incremental == rebuild")
        per_event = inc / args.events
        per_batched = bat / max(1, (args.events // 100) * 100)
        print(f"per event: incremental {per_event * 1000:.2f} ms (one step each), {per_batched * 1000:.2f} ms "
              f"(steps of 100); full rebuild {full:.2f} s")
        print(f"ratios: a rebuild costs {full / per_event:,.0f} single-event steps or {full / per_batched:,.0f} "
              f"batched events; expiry after a week {exp / full:.2f}x a rebuild")
        engine.dispose()


if __name__ == "__main__":
    main()
