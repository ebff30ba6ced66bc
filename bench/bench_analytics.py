"""Analytics: the management dashboard from the rollups against raw SQL over the source tables, same run.

One process, a fresh database (a temporary SQLite file, or ``--database-url``: its ``public``
schema is dropped and re-created), filled fast by bulk inserts straight into the source
tables (``generate``): 10 products, a few thousand customers (encrypted columns sealed with
a key generated for the run), ``--policies`` policies (default 1,000,000) issued over two
years in business time (Asia/Shanghai), a share renewed (``renewed_from_id``, chains
allowed), cancelled in the cooling-off period, surrendered or lapsed (``ended_on``),
expired; ``--claims`` claims (300,000) with their ``claim_event`` timeline (reported; the
paid ones a ``to_state='paid'`` event, a few paid twice), fast-track flags; ``--events``
behaviour events (5,000,000) so the database has its realistic size. ``--scale 0.1``
multiplies the three sizes.

Then, measured:

(a) the offline build: ``rollups.rebuild`` over every policy and claim (s, source rows/s);
(b) the dashboard: ten KPIs (``KPIS``) for the last 90 days by DAY and PRODUCT through
    ``query.series`` (reads only ``analytics_rollup``), against a hand-written raw SQL
    aggregation of the same numbers over ``policy``, ``claim`` and ``claim_event``
    (``raw_dashboard``: five statements; the level metrics join every policy to the
    days it covers). The two alternate, ``--rounds`` rounds after a warm-up; p50/p95 per
    side and the ratio raw/rollups.

Numbers equal: every (metric, day, product) value of both sides, rounded to the unit's
places (money and counts 0.01, ratios 0.0001, half-even as ``query`` rounds), is compared;
the mismatch count is printed (and the run exits non-zero when it is not 0). The raw side
follows ``resolvers/analytics/facts.py``'s definitions: business dates in Asia/Shanghai (on
SQLite a fixed +8 hours: the zone has had no DST since 1991); earned premium is each
covered day's ``round(premium / period days, 8)`` (days: start to end inclusive; the last
covered day is the end date clamped to the period for surrendered and lapsed policies;
cancelled ones earn nothing), summed exactly (PostgreSQL numeric; on SQLite integers of
1e-8 yuan, since SQLite stores money as binary floats); policies in force is the count of
covered policies on the day; loss ratio is claims paid / earned premium (null on zero) -
the division and the rounding are done in Python with ``Decimal`` on both sides. PostgreSQL
rounds half away from zero where Python rounds half to even; a premium in cents over a
period of 365, 366 or 181-184 days never lands on the tie (it would take 128 or 256 days).

Nothing asserts on time. Run::

    .venv/bin/python bench/bench_analytics.py --scale 0.1
    .venv/bin/python bench/bench_analytics.py                       # 1M policies, 300k claims, 5M events
    .venv/bin/python bench/bench_analytics.py --scale 0.1 --database-url postgresql+psycopg://postgres@127.0.0.1:5432/opsure_bench
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import functools
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bench.common import percentile
from core.clock import business_zone
from core.crypto import FieldKeys, bind_row, field_keys_installed, install_field_keys
from core.db import make_engine, make_session_factory, read_only_session, transaction
from opsure.migrate import upgrade
from resolvers.analytics import rollups
from resolvers.analytics.metrics import METRICS, Bucket, Dimension, Unit
from resolvers.analytics.models import AnalyticsRollup
from resolvers.analytics.query import series
from resolvers.policies.models import Customer, Gender, Product

__all__ = ["KPIS", "NOW", "TODAY", "Sizes", "compare", "dashboard_period", "generate", "raw_dashboard",
           "rollup_dashboard"]

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)  # 20:00 in Beijing
TODAY = dt.date(2026, 11, 27)  # the business date of NOW
KPIS = ("policies_issued", "policies_renewed", "written_premium", "earned_premium", "policies_in_force",
        "surrenders", "cancellations", "claims_reported", "claims_paid_amount", "loss_ratio")
CITIES = ["杭州", "上海", "北京", "深圳", "成都", "广州", "武汉", None]
EVENT_NAMES = ["page.viewed", "quote.viewed", "purchase", "claim.started", "app.opened"]
_PLACES = {Unit.MONEY: Decimal("0.01"), Unit.COUNT: Decimal("0.01"), Unit.RATIO: Decimal("0.0001")}
_CHUNK = 20_000
Values = dict[tuple[str, dt.date, str], Decimal | None]


@dataclass(frozen=True)
class Sizes:
    """How much to generate."""

    policies: int
    claims: int
    events: int
    customers: int


def dashboard_period(today: dt.date = TODAY) -> tuple[dt.date, dt.date]:
    """The dashboard's last 90 days (business dates, inclusive)."""
    return today - dt.timedelta(days=89), today


# --- bulk writing ---------------------------------------------------------------------------------


class _Writer:
    """Rows straight into a table: ``executemany`` on SQLite, ``COPY`` on PostgreSQL (triggers off)."""

    def __init__(self, engine: Engine) -> None:
        self.pg = engine.dialect.name == "postgresql"
        self.pooled = engine.raw_connection()
        raw: Any = self.pooled.driver_connection  # the DBAPI connection itself (psycopg: COPY)
        self.raw = raw
        if self.pg:
            with raw.cursor() as cur:
                cur.execute("SET session_replication_role = replica")  # the generator keeps the FKs itself

    def value(self, v: Any) -> Any:
        """``v`` as the table stores it (SQLite: SQLAlchemy's formats; PostgreSQL: psycopg adapts)."""
        if self.pg:
            return v
        if isinstance(v, dt.datetime):
            return v.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(v, dt.date):
            return v.isoformat()
        if isinstance(v, Decimal):
            return float(v)
        if isinstance(v, bool):
            return int(v)
        return v

    def write(self, table: str, columns: Sequence[str], chunks: Iterable[list[tuple[Any, ...]]]) -> int:
        n = 0
        if self.pg:
            with self.raw.cursor() as cur:
                for rows in chunks:
                    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                    n += len(rows)
                if columns[0] == "id":
                    cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                f"(SELECT coalesce(max(id), 1) FROM {table}))")
            self.raw.commit()
            return n
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        cur = self.raw.cursor()
        for rows in chunks:
            cur.execute("BEGIN")
            cur.executemany(sql, [tuple(self.value(v) for v in row) for row in rows])
            cur.execute("COMMIT")
            n += len(rows)
        cur.close()
        return n

    def close(self) -> None:
        self.pooled.close()


def _chunks(rows: Iterable[tuple[Any, ...]], size: int = _CHUNK) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- the data set ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Policy:
    id: int
    customer_id: int
    product_id: int
    renewed_from_id: int | None
    issued_at: dt.datetime
    period_start: dt.date
    period_end: dt.date
    premium_cents: int
    insured_age: int
    status: str = "active"
    ended_on: dt.date | None = None


def _add_months(day: dt.date, months: int) -> dt.date:
    m = day.month - 1 + months
    year, month = day.year + m // 12, m % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def _local_midnight_utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), business_zone()).astimezone(dt.UTC)


def _between(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    return lo + dt.timedelta(days=rng.randint(0, (hi - lo).days))


def _fate(rng: random.Random, p: _Policy) -> bool:
    """Set the policy's status and end date; whether it is renewed."""
    u = rng.random()
    issued_on = (p.issued_at.astimezone(business_zone())).date()
    if u < 0.03:
        p.status, p.ended_on = "cancelled", min(issued_on + dt.timedelta(days=rng.randint(0, 14)), TODAY)
        return False
    if u < 0.12:
        lo = p.period_start if u < 0.085 and rng.random() < 0.05 else p.period_start + dt.timedelta(days=15)
        hi = min(p.period_end, TODAY)
        if lo <= hi:
            p.status = "surrendered" if u < 0.085 else "lapsed"
            p.ended_on = _between(rng, lo, hi)
            return False
    if p.period_end < TODAY:
        p.status = "expired"
        return rng.random() < 0.45
    return False


def _policies(rng: random.Random, n: int, customers: int, products: list[tuple[int, int]]) -> list[_Policy]:
    """``n`` policies (renewals follow their originals' ids); products: (id, term months)."""
    span = 730 * 24 * 3600
    out: list[_Policy] = []
    done = 0
    while len(out) < n:
        if done == len(out):
            pid, term = rng.choice(products)
            issued = NOW - dt.timedelta(seconds=rng.randrange(span))
            start = issued.astimezone(business_zone()).date() + dt.timedelta(days=rng.choice((0, 1, 1, 1, 3)))
            out.append(_Policy(len(out) + 1, rng.randint(1, customers), pid, None, issued, start,
                               _add_months(start, term) - dt.timedelta(days=1),
                               rng.randint(20_000, 900_000), rng.randint(0, 75)))
        p = out[done]
        done += 1
        if _fate(rng, p) and len(out) < n:
            term = next(t for i, t in products if i == p.product_id)
            issue_day = p.period_end - dt.timedelta(days=rng.randint(0, 20))
            issued = _local_midnight_utc(issue_day) + dt.timedelta(seconds=rng.randrange(24 * 3600))
            start = p.period_end + dt.timedelta(days=1)
            out.append(_Policy(len(out) + 1, p.customer_id, p.product_id, p.id, issued, start,
                               _add_months(start, term) - dt.timedelta(days=1),
                               p.premium_cents * rng.choice((100, 105, 110)) // 100, min(p.insured_age + 1, 80)))
    return out


def _money(cents: int) -> Decimal:
    return Decimal(cents) / 100


def generate(engine: Engine, sizes: Sizes, *, seed: int = 13, log: Callable[[str], None] = print) -> dict[str, int]:
    """Fill a migrated, empty database with the data set; rows written per table."""
    rng = random.Random(seed)
    if not field_keys_installed():
        install_field_keys(FieldKeys.generate())
    factory = make_session_factory(engine)
    counts: dict[str, int] = {}
    t0 = time.perf_counter()
    products = [(i, 6 if i % 4 == 0 else 12) for i in range(1, 11)]
    with transaction(factory) as s:
        s.execute(insert(Product), [{
            "id": i, "code": f"BENCH-{i:02d}", "name": f"Bench product {i}", "description": "", "annual_limit":
            Decimal(1_000_000), "deductible": Decimal(0), "copay_rate": Decimal("0.1"), "waiting_period_days": 30,
            "cooling_off_days": 15, "term_months": term, "min_age": 0, "max_age": 80, "active": True, "version": 1,
            "created_at": NOW, "updated_at": NOW} for i, term in products])
        for start in range(0, sizes.customers, 2000):
            s.execute(insert(Customer), [{
                "id": i, "row_uid": f"bench-customer-{i}", "name": bind_row("客户", f"bench-customer-{i}"),
                "id_number": bind_row(f"B{i:017d}", f"bench-customer-{i}"), "id_number_bidx": f"bench-{i}",
                "phone": bind_row("13800000000", f"bench-customer-{i}"), "email": None,
                "birth_date": bind_row("1990-01-01", f"bench-customer-{i}"), "birth_year": rng.randint(1950, 2020),
                "gender": rng.choice([Gender.MALE, Gender.FEMALE]), "city": rng.choice(CITIES), "version": 1,
                "created_at": NOW, "updated_at": NOW} for i in range(start + 1, min(sizes.customers, start + 2000) + 1)])
    counts["product"], counts["customer"] = len(products), sizes.customers
    policies = _policies(rng, sizes.policies, sizes.customers, products)
    w = _Writer(engine)
    try:
        counts["policy"] = w.write("policy", (
            "id", "number", "customer_id", "product_id", "renewed_from_id", "status", "period_start", "period_end",
            "issued_at", "premium", "insured_age", "exclusions", "ended_on", "row_uid", "version", "created_at",
            "updated_at"), _chunks(
            (p.id, f"BP{p.id:012d}", p.customer_id, p.product_id, p.renewed_from_id, p.status, p.period_start,
             p.period_end, p.issued_at, _money(p.premium_cents), p.insured_age, "[]", p.ended_on, f"bench-policy-{p.id}",
             1, p.issued_at, p.issued_at) for p in policies))
        log(f"    policies written ({time.perf_counter() - t0:.1f} s so far)")
        claimable = [p for p in policies if p.status != "cancelled" and p.period_start <= TODAY]
        claims: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        for cid in range(1, sizes.claims + 1):
            p = rng.choice(claimable)
            last = p.ended_on if p.status in ("surrendered", "lapsed") and p.ended_on else p.period_end
            lo = max(p.issued_at, _local_midnight_utc(p.period_start))
            hi = min(NOW, _local_midnight_utc(last + dt.timedelta(days=60)))
            reported = lo + dt.timedelta(seconds=rng.randrange(max(1, int((hi - lo).total_seconds()))))
            claimed = rng.randint(10_000, 5_000_000)
            u = rng.random()
            state, paid_cents, paid_at = "under_review", 0, None
            if u < 0.6:
                paid_at = reported + dt.timedelta(seconds=rng.randrange(3600, 20 * 86400))
                if paid_at > NOW:
                    paid_at = None
                else:
                    state, paid_cents = rng.choice(("paid",) * 9 + ("closed",)), rng.randint(100, claimed)
            elif u < 0.75:
                state = "rejected"
            elif u < 0.85:
                state = "approved"
            event_day = max(p.period_start, (reported - dt.timedelta(days=rng.randint(0, 10)))
                            .astimezone(business_zone()).date())
            claims.append((cid, f"BC{cid:012d}", p.id, p.customer_id, "app", state, event_day, event_day,
                           event_day, "浙江省人民医院", "J18.9", _money(claimed), _money(paid_cents), Decimal(0),
                           "bench", "[]", rng.random() < 0.3, 1, reported, paid_at or reported))
            events.append((cid, reported, "bench", "customer", "reported", None, "submitted", "REPORTED", "{}"))
            if paid_at is not None:
                events.append((cid, paid_at, "bench", "system", "transition", "approved", "paid", "PAID", "{}"))
                if rng.random() < 0.02:  # reopened and paid again: the first payment dates the claim
                    again = paid_at + dt.timedelta(days=rng.randint(1, 30))
                    if again <= NOW:
                        events.append((cid, again, "bench", "system", "transition", "reopened", "paid", "PAID", "{}"))
        counts["claim"] = w.write("claim", (
            "id", "number", "policy_id", "customer_id", "channel", "state", "event_date", "admission_date",
            "discharge_date", "hospital", "diagnosis_code", "claimed_amount", "paid_amount", "deductible_applied",
            "reported_by", "risk_hints", "fast_track", "version", "created_at", "updated_at"), _chunks(claims))
        counts["claim_event"] = w.write("claim_event", (
            "claim_id", "at", "actor", "role", "kind", "from_state", "to_state", "reason_code", "reason_params"),
            _chunks(events))
        del claims, events, claimable, policies
        log(f"    claims written ({time.perf_counter() - t0:.1f} s so far)")
        span = 730 * 24 * 3600

        def behaviour() -> Iterator[tuple[Any, ...]]:
            for i in range(1, sizes.events + 1):
                at = NOW - dt.timedelta(seconds=rng.randrange(span))
                anonymous = rng.random() < 0.2
                yield (f"bench-{i:010d}", rng.choice(EVENT_NAMES), None if anonymous else rng.randint(1, sizes.customers),
                       f"anon-{rng.randrange(sizes.events // 10 + 1)}" if anonymous else None, at,
                       at + dt.timedelta(seconds=rng.randint(0, 30)), '{"source":"app"}', "bench")

        counts["behaviour_event"] = w.write("behaviour_event", (
            "event_id", "name", "customer_id", "anonymous_id", "occurred_at", "received_at", "properties", "source"),
            _chunks(behaviour(), 50_000))
    finally:
        w.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("VACUUM ANALYZE")
        else:
            conn.exec_driver_sql("PRAGMA analysis_limit=1000")
            conn.exec_driver_sql("ANALYZE")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return counts


# --- the two dashboards ---------------------------------------------------------------------------


def rollup_dashboard(session: Session, start: dt.date, end: dt.date) -> Values:
    """The ten KPIs by day and product code, through ``query.series`` (rollups only)."""
    out: Values = {}
    for key in KPIS:
        s = series(session, metric=key, start=start, end=end, bucket=Bucket.DAY, by=[Dimension.PRODUCT])
        for point in s.points:
            out[(key, point.start.date(), dict(point.group)[Dimension.PRODUCT])] = point.value
    return out


_PG_LOCAL = "(({col}) AT TIME ZONE '{zone}')::date"
_SQLITE_LOCAL = "date({col}, '{offset} seconds')"
_LAST = ("CASE WHEN p.status IN ('surrendered', 'lapsed') AND p.ended_on IS NOT NULL "
         "THEN {least}({greatest}(p.ended_on, p.period_start), p.period_end) ELSE p.period_end END")


def _statements(pg: bool) -> dict[str, str]:
    zone = business_zone()
    if pg:
        def local(col: str) -> str:
            return _PG_LOCAL.format(col=col, zone=zone.key)
        money = "sum({col})"
        days = "SELECT CAST(:start AS date) + g.i FROM generate_series(0, :n - 1) AS g(i)"
        rate = "round(p.premium / (p.period_end - p.period_start + 1), 8)"
        last = _LAST.format(least="least", greatest="greatest")
        join = "JOIN"
        greatest, next_day = "greatest", "last + 1"
    else:
        offset = int(zone.utcoffset(NOW.replace(tzinfo=None)).total_seconds())  # type: ignore[union-attr]
        def local(col: str) -> str:  # type: ignore[misc]
            return _SQLITE_LOCAL.format(col=col, offset=f"{offset:+d}")
        money = "sum(CAST(round({col} * 100) AS INTEGER))"  # cents: SQLite stores money as binary floats
        days = "SELECT :start UNION ALL SELECT date(day, '+1 day') FROM days WHERE day < :end"
        # round(premium / days, 8) in integers of 1e-8 yuan, half up (exact; the tie never occurs, see docstring)
        n = "(CAST(julianday(p.period_end) - julianday(p.period_start) AS INTEGER) + 1)"
        rate = f"(CAST(round(p.premium * 100) AS INTEGER) * 2000000 + {n}) / (2 * {n})"
        last = _LAST.format(least="min", greatest="max")
        join = "CROSS JOIN"  # policies outside, the 90 days inside: one pass over the table (else a search per day)
        greatest, next_day = "max", "date(last, '+1 day')"
    return {
        "issued": f"""
            SELECT {local('p.issued_at')} AS day, p.product_id,
                   sum(CASE WHEN p.renewed_from_id IS NULL THEN 1 ELSE 0 END),
                   sum(CASE WHEN p.renewed_from_id IS NULL THEN 0 ELSE 1 END), {money.format(col='p.premium')}
            FROM policy p WHERE p.issued_at >= :lo AND p.issued_at < :hi GROUP BY 1, 2""",
        "ended": """
            SELECT p.ended_on, p.product_id, sum(CASE WHEN p.status = 'surrendered' THEN 1 ELSE 0 END),
                   sum(CASE WHEN p.status = 'cancelled' THEN 1 ELSE 0 END)
            FROM policy p WHERE p.status IN ('surrendered', 'cancelled') AND p.ended_on >= :start
              AND p.ended_on <= :end GROUP BY 1, 2""",
        "levels": f"""
            WITH RECURSIVE covered AS MATERIALIZED (
                SELECT p.product_id, p.period_start AS first, {last} AS last, {rate} AS rate FROM policy p
                WHERE p.status <> 'cancelled' AND p.period_start <= :end AND p.period_end >= :start),
            days(day) AS ({days})
            SELECT days.day, c.product_id, count(*), sum(c.rate)
            FROM covered c {join} days ON days.day >= c.first AND days.day <= c.last
            GROUP BY 1, 2""",
        "levels_window": f"""
            WITH RECURSIVE covered AS MATERIALIZED (
                SELECT p.product_id, {greatest}(p.period_start, :start) AS first, {last} AS last, {rate} AS rate
                FROM policy p
                WHERE p.status <> 'cancelled' AND p.period_start <= :end AND p.period_end >= :start),
            days(day) AS ({days}),
            changes(product_id, day, n, rate) AS (
                SELECT product_id, first, 1, rate FROM covered WHERE last >= first
                UNION ALL
                SELECT product_id, {next_day}, -1, -rate FROM covered WHERE last >= first AND last < :end
                UNION ALL
                SELECT pr.id, days.day, 0, 0 FROM product pr CROSS JOIN days),
            daily AS (SELECT product_id, day, sum(n) AS n, sum(rate) AS rate FROM changes GROUP BY product_id, day)
            SELECT day, product_id, sum(n) OVER w, sum(rate) OVER w FROM daily
            WINDOW w AS (PARTITION BY product_id ORDER BY day)""",
        "reported": f"""
            SELECT {local('c.created_at')}, p.product_id, count(*)
            FROM claim c JOIN policy p ON p.id = c.policy_id
            WHERE c.created_at >= :lo AND c.created_at < :hi GROUP BY 1, 2""",
        "paid": f"""
            SELECT {local('f.at')}, p.product_id, {money.format(col='c.paid_amount')}
            FROM (SELECT e.claim_id, min(e.at) AS at FROM claim_event e WHERE e.to_state = 'paid'
                  GROUP BY e.claim_id) f
            JOIN claim c ON c.id = f.claim_id JOIN policy p ON p.id = c.policy_id
            WHERE f.at >= :lo AND f.at < :hi GROUP BY 1, 2""",
    }


def raw_dashboard(engine: Engine, start: dt.date, end: dt.date, *, levels: str = "join") -> Values:
    """The same ten KPIs by hand: raw SQL over policy, claim and claim_event (see module docstring).

    ``levels``: how policies in force and earned premium are summed per day: ``join`` (every
    policy joined to the days it covers, the direct translation) or ``window`` (the changes
    on each day, then running sums by a window function: one pass over the policies).
    """
    pg = engine.dialect.name == "postgresql"
    sql = _statements(pg)
    lo, hi = _local_midnight_utc(start), _local_midnight_utc(end + dt.timedelta(days=1))
    params: dict[str, Any] = {"start": start, "end": end, "n": (end - start).days + 1, "lo": lo, "hi": hi}
    if not pg:
        params.update(start=start.isoformat(), end=end.isoformat(), lo=lo.strftime("%Y-%m-%d %H:%M:%S.%f"),
                      hi=hi.strftime("%Y-%m-%d %H:%M:%S.%f"))

    def cents(v: Any) -> Decimal:  # PostgreSQL: numeric yuan; SQLite: integer cents
        return Decimal(v) if pg else Decimal(int(v)) / 100

    def day(v: Any) -> dt.date:
        return v if pg else dt.date.fromisoformat(v)  # type: ignore[no-any-return]

    out: dict[tuple[str, dt.date, int], Decimal] = {}
    with engine.connect() as conn:
        codes = {r[0]: r[1] for r in conn.execute(text("SELECT id, code FROM product"))}
        for d, pid, issued, renewed, written in conn.execute(text(sql["issued"]), params):
            out[("policies_issued", day(d), pid)] = Decimal(issued)
            out[("policies_renewed", day(d), pid)] = Decimal(renewed)
            out[("written_premium", day(d), pid)] = cents(written)
        for d, pid, surrendered, cancelled in conn.execute(text(sql["ended"]), params):
            out[("surrenders", day(d), pid)] = Decimal(surrendered)
            out[("cancellations", day(d), pid)] = Decimal(cancelled)
        for d, pid, count, earned in conn.execute(text(sql["levels" if levels == "join" else "levels_window"]), params):
            out[("policies_in_force", day(d), pid)] = Decimal(count)
            out[("earned_premium", day(d), pid)] = Decimal(earned) if pg else Decimal(int(earned)).scaleb(-8)
        for d, pid, count in conn.execute(text(sql["reported"]), params):
            out[("claims_reported", day(d), pid)] = Decimal(count)
        for d, pid, paid in conn.execute(text(sql["paid"]), params):
            out[("claims_paid_amount", day(d), pid)] = cents(paid)
    values: Values = {(m, d, codes[p]): v for (m, d, p), v in out.items()}
    for d, p in {(d, p) for m, d, p in out if m in ("claims_paid_amount", "earned_premium")}:
        earned = out.get(("earned_premium", d, p), Decimal(0))
        paid = out.get(("claims_paid_amount", d, p), Decimal(0))
        values[("loss_ratio", d, codes[p])] = None if earned == 0 else paid / earned
    return values


def compare(rollup: Values, raw: Values) -> list[tuple[str, dt.date, str, Decimal | None, Decimal | None]]:
    """Every (metric, day, product) whose values differ at the unit's places: (key..., rollup, raw)."""
    bad = []
    for key in sorted(set(rollup) | set(raw)):
        unit = METRICS[key[0]].unit
        places = _PLACES[unit]
        zero = None if unit is Unit.RATIO else Decimal(0)
        a, b = rollup.get(key, zero), raw.get(key, zero)
        a = None if a is None else a.quantize(places)
        b = None if b is None else b.quantize(places)
        if a != b:
            bad.append((*key, a, b))
    return bad


# --- the run --------------------------------------------------------------------------------------


def _timed(run: Callable[[], Values]) -> tuple[float, Values]:
    t0 = time.perf_counter()
    got = run()
    return time.perf_counter() - t0, got


def _fresh(url: str | None, tmp: str) -> Engine:
    engine = make_engine(url or f"sqlite:///{Path(tmp) / 'bench.db'}")
    if url:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    return engine


def run(engine: Engine, sizes: Sizes, rounds: int, *, seed: int = 13, raw: Sequence[str] = ("join", "window")) -> int:
    """Generate, build, measure, compare (prints the figures); the mismatch count."""
    t0 = time.perf_counter()
    counts = generate(engine, sizes, seed=seed)
    took = time.perf_counter() - t0
    print(f"generated in {took:.1f} s: " + ", ".join(f"{n:,} {t}" for t, n in counts.items()))
    factory: sessionmaker[Session] = make_session_factory(engine)
    t0 = time.perf_counter()
    with transaction(factory) as s:
        seen = rollups.rebuild(s)
    took = time.perf_counter() - t0
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE analytics_rollup")  # as autovacuum would after the rebuild (untimed)
    with factory() as s:
        stored = int(s.scalar(select(func.count()).select_from(AnalyticsRollup)) or 0)
    print(f"(a) rollups.rebuild: {seen:,} policies and claims in {took:.1f} s ({seen / took:,.0f} rows/s), "
          f"{stored:,} rollup rows")
    start, end = dashboard_period()

    def from_rollups() -> Values:
        with read_only_session(factory) as s:
            return rollup_dashboard(s, start, end)

    sides: dict[str, Callable[[], Values]] = {"rollups": from_rollups}
    for levels in raw:
        sides[f"raw SQL ({levels})"] = functools.partial(raw_dashboard, engine, start, end, levels=levels)
    values = {name: _timed(side)[1] for name, side in sides.items()}  # warm-up, and the values compared
    samples: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, side in sides.items():
            samples[name].append(_timed(side)[0])
    ours = values["rollups"]
    print(f"(b) dashboard: {len(KPIS)} KPIs, {start} to {end}, by day and product ({len(ours):,} values), "
          f"{rounds} alternating rounds")
    p = {name: (percentile(v, 0.5) * 1000, percentile(v, 0.95) * 1000) for name, v in samples.items()}
    for name, (p50, p95) in p.items():
        print(f"  {name:<17} p50 {p50:10.1f} ms   p95 {p95:10.1f} ms   (n={len(samples[name])})")
    bad: list[Any] = []
    for name in sides:
        if name == "rollups":
            continue
        print(f"  ratio {name}/rollups: p50 {p[name][0] / p['rollups'][0]:.2f}x   "
              f"p95 {p[name][1] / p['rollups'][1]:.2f}x")
        wrong = compare(ours, values[name])
        print(f"  numbers, rollups vs {name}: {len(set(ours) | set(values[name])):,} (metric, day, product) values "
              f"compared, {len(wrong)} mismatches")
        for row in wrong[:10]:
            print(f"    MISMATCH {row[0]} {row[1]} {row[2]}: rollups {row[3]} raw {row[4]}")
        bad += wrong
    return len(bad)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policies", type=int, default=1_000_000)
    parser.add_argument("--claims", type=int, default=300_000)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the three sizes")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--raw", default="join,window", help="raw SQL variants measured: join, window (see raw_dashboard)")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite in a temp dir)")
    args = parser.parse_args()
    policies = int(args.policies * args.scale)
    sizes = Sizes(policies, int(args.claims * args.scale), int(args.events * args.scale), max(50, policies // 200))
    with tempfile.TemporaryDirectory(prefix="opsure-analytics-") as tmp:
        engine = _fresh(args.database_url, tmp)
        print(f"{engine.dialect.name}: {sizes.policies:,} policies, {sizes.claims:,} claims, {sizes.events:,} "
              f"behaviour events, {sizes.customers:,} customers")
        try:
            bad = run(engine, sizes, args.rounds, seed=args.seed, raw=[v for v in args.raw.split(",") if v])
        finally:
            engine.dispose()
    if bad:
        sys.exit(f"{bad} mismatches between the rollups and raw SQL")


if __name__ == "__main__":
    main()
