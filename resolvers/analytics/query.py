"""Series of a metric: by time bucket and dimension, over a period of business dates, bounded.

``series`` reads the rollups (never the source tables): flow facts summed per bucket, level
facts carried day by day from their value before the period. Each group (one combination of
the requested dimensions' values) gets a value for every bucket; a ratio over zero is None.
Buckets are clipped to the period (a week bucket of a period starting on a Wednesday starts
on that Wednesday).

Bad input is a ``ValidationError`` with a code: INVERTED_PERIOD, RANGE_TOO_LARGE (more than
``MAX_DAYS``), HOURLY_RANGE_TOO_LARGE (hourly over more than ``MAX_HOURLY_DAYS``),
BUCKET_TOO_FINE (hourly for a metric that reads a level), TOO_MANY_POINTS (more than
``MAX_POINTS`` values), UNKNOWN_METRIC, UNKNOWN_PRODUCT, UNKNOWN_AGE_BAND.

Example::

    s = series(session, metric="written_premium", start=date(2026, 11, 11), end=date(2026, 11, 11),
               bucket=Bucket.HOUR, by=[Dimension.PRODUCT])
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from core.clock import business_zone
from core.errors import ValidationError
from resolvers.analytics.facts import AGE_BANDS, Fact
from resolvers.analytics.metrics import (
    METRICS,
    Bucket,
    Cell,
    Dimension,
    Metric,
    Unit,
    evaluate,
    flow_facts,
    level_facts,
)
from resolvers.analytics.models import AnalyticsRollup
from resolvers.policies.facts import product_codes, product_ids_by_code

__all__ = ["MAX_DAYS", "MAX_HOURLY_DAYS", "MAX_POINTS", "Point", "Series", "SeriesFilter", "series"]

MAX_DAYS = 3 * 366 + 1
MAX_HOURLY_DAYS = 31
MAX_POINTS = 20_000
_COLUMN = {Dimension.PRODUCT: AnalyticsRollup.product_id, Dimension.AGE_BAND: AnalyticsRollup.age_band,
           Dimension.REGION: AnalyticsRollup.region}
_PLACES = {Unit.MONEY: Decimal("0.01"), Unit.COUNT: Decimal("0.01"), Unit.RATIO: Decimal("0.0001")}


@dataclass(frozen=True)
class SeriesFilter:
    """Which rows count: product codes, age bands, regions (each: all when empty)."""

    products: tuple[str, ...] = ()
    age_bands: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    @classmethod
    def from_stored(cls, filters: dict[str, list[str]] | None) -> SeriesFilter:
        """The filter a saved rule or report keeps as JSON ({"products": [...], "age_bands": [...], ...})."""
        f = filters or {}
        return cls(products=tuple(f.get("products", ())), age_bands=tuple(f.get("age_bands", ())),
                   regions=tuple(f.get("regions", ())))


@dataclass(frozen=True)
class Point:
    """One value: a bucket [start, end) of one group (dimension -> value)."""

    start: dt.datetime
    end: dt.datetime
    group: tuple[tuple[Dimension, str], ...]
    value: Decimal | None


@dataclass(frozen=True)
class Series:
    """A metric's values per bucket and group, in bucket then group order."""

    metric: Metric
    bucket: Bucket
    by: tuple[Dimension, ...]
    start: dt.date
    end: dt.date
    points: list[Point] = field(default_factory=list)


def _bucket_of(bucket: Bucket, day: dt.date, hour: int, start: dt.date) -> tuple[dt.date, int]:
    if bucket is Bucket.PERIOD:
        return start, 0
    if bucket is Bucket.HOUR:
        return day, hour
    if bucket is Bucket.WEEK:
        return day - dt.timedelta(days=day.weekday()), 0
    if bucket is Bucket.MONTH:
        return day.replace(day=1), 0
    return day, 0


def _next(bucket: Bucket, key: tuple[dt.date, int], end: dt.date) -> tuple[dt.date, int]:
    day, hour = key
    if bucket is Bucket.PERIOD:
        return end + dt.timedelta(days=1), 0
    if bucket is Bucket.HOUR:
        return (day, hour + 1) if hour < 23 else (day + dt.timedelta(days=1), 0)
    if bucket is Bucket.WEEK:
        return day + dt.timedelta(days=7), 0
    if bucket is Bucket.MONTH:
        return (day.replace(year=day.year + 1, month=1) if day.month == 12 else day.replace(month=day.month + 1)), 0
    return day + dt.timedelta(days=1), 0


def _buckets(bucket: Bucket, start: dt.date, end: dt.date) -> list[tuple[dt.date, int]]:
    keys, key, stop = [], _bucket_of(bucket, start, 0, start), (end + dt.timedelta(days=1), 0)
    while key < stop:
        keys.append(key)
        key = _next(bucket, key, end)
    return keys


def _check(metric: str, start: dt.date, end: dt.date, bucket: Bucket) -> Metric:
    m = METRICS.get(metric)
    if m is None:
        raise ValidationError(f"no metric {metric!r}", field="metric", code="UNKNOWN_METRIC")
    if end < start:
        raise ValidationError("the period ends before it starts", field="period", code="INVERTED_PERIOD")
    days = (end - start).days + 1
    if days > MAX_DAYS:
        raise ValidationError(f"a period has at most {MAX_DAYS} days", field="period", code="RANGE_TOO_LARGE")
    if bucket is Bucket.HOUR:
        if level_facts(m.measure):
            raise ValidationError(f"{metric} changes once a day: use DAY or longer buckets", field="bucket",
                                  code="BUCKET_TOO_FINE")
        if days > MAX_HOURLY_DAYS:
            raise ValidationError(f"hourly series cover at most {MAX_HOURLY_DAYS} days", field="period",
                                  code="HOURLY_RANGE_TOO_LARGE")
    return m


def _filters(session: Session, f: SeriesFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.products:
        ids = product_ids_by_code(session, codes=f.products)
        unknown = sorted(set(f.products) - set(ids))
        if unknown:
            raise ValidationError(f"no product {unknown[0]!r}", field="filter.products", code="UNKNOWN_PRODUCT")
        where.append(AnalyticsRollup.product_id.in_(sorted(ids.values())))
    if f.age_bands:
        bands = {b for b, _ in AGE_BANDS}
        bad = sorted(set(f.age_bands) - bands)
        if bad:
            raise ValidationError(f"no age band {bad[0]!r} (bands: {', '.join(b for b, _ in AGE_BANDS)})",
                                  field="filter.ageBands", code="UNKNOWN_AGE_BAND")
        where.append(AnalyticsRollup.age_band.in_(sorted(f.age_bands)))
    if f.regions:
        where.append(AnalyticsRollup.region.in_(sorted(set(f.regions))))
    return where


def _cell() -> Cell:
    return Cell(counts=defaultdict(int), amounts=defaultdict(Decimal), level_counts=defaultdict(Decimal),
                level_amounts=defaultdict(Decimal), days=0)


def series(session: Session, *, metric: str, start: dt.date, end: dt.date, bucket: Bucket,
           by: Sequence[Dimension] = (), filters: SeriesFilter | None = None) -> Series:
    """The metric's values per bucket and group over [start, end] (business dates; see module docstring)."""
    m = _check(metric, start, end, bucket)
    dims = tuple(dict.fromkeys(by))
    where = _filters(session, filters or SeriesFilter())
    dim_cols = [_COLUMN[d] for d in dims]
    keys = _buckets(bucket, start, end)
    cells: dict[tuple[Any, ...], dict[tuple[dt.date, int], Cell]] = defaultdict(dict)

    def cell(group: tuple[Any, ...], key: tuple[dt.date, int]) -> Cell:
        got = cells[group].get(key)
        if got is None:
            got = cells[group][key] = _cell()
        return got

    flows = flow_facts(m.measure)
    if flows:
        hour_col = [AnalyticsRollup.hour] if bucket is Bucket.HOUR else []
        stmt = (select(AnalyticsRollup.fact, AnalyticsRollup.day, *hour_col, *dim_cols, func.sum(AnalyticsRollup.count),
                       func.sum(AnalyticsRollup.amount))
                .where(AnalyticsRollup.fact.in_(sorted(f.value for f in flows)), AnalyticsRollup.day >= start,
                       AnalyticsRollup.day <= end, *where)
                .group_by(AnalyticsRollup.fact, AnalyticsRollup.day, *hour_col, *dim_cols))
        for row in session.execute(stmt):
            fact, day = Fact(row[0]), row[1]
            hour = row[2] if hour_col else 0
            group = tuple(row[2 + len(hour_col):2 + len(hour_col) + len(dims)])
            c = cell(group, _bucket_of(bucket, day, hour, start))
            c.counts[fact] += int(row[-2] or 0)
            c.amounts[fact] += Decimal(str(row[-1] or 0))
    levels = level_facts(m.measure)
    if levels:
        _levels(session, levels, start, end, bucket, dims, dim_cols, where, cell)
    groups = sorted(cells, key=lambda g: tuple(str(v) for v in g)) or ([()] if not dims else [])
    if len(groups) * len(keys) > MAX_POINTS:
        raise ValidationError(f"{len(groups) * len(keys)} values asked for, at most {MAX_POINTS}: use longer buckets, "
                              "fewer dimensions or filters", field="bucket", code="TOO_MANY_POINTS")
    return Series(m, bucket, dims, start, end, _points(session, m, bucket, dims, start, end, keys, groups, cells))


def _levels(session: Session, levels: frozenset[Fact], start: dt.date, end: dt.date, bucket: Bucket,
            dims: tuple[Dimension, ...], dim_cols: list[Any], where: list[ColumnElement[bool]], cell: Any) -> None:
    facts = sorted(f.value for f in levels)
    base_stmt = (select(AnalyticsRollup.fact, *dim_cols, func.sum(AnalyticsRollup.count), func.sum(AnalyticsRollup.amount))
                 .where(AnalyticsRollup.fact.in_(facts), AnalyticsRollup.day < start, *where)
                 .group_by(AnalyticsRollup.fact, *dim_cols))
    level: dict[tuple[Any, ...], list[Decimal]] = {}
    for row in session.execute(base_stmt):
        level[(row[0], *row[1:1 + len(dims)])] = [Decimal(int(row[-2] or 0)), Decimal(str(row[-1] or 0))]
    deltas: dict[tuple[Any, ...], dict[dt.date, tuple[int, Decimal]]] = defaultdict(dict)
    delta_stmt = (select(AnalyticsRollup.fact, AnalyticsRollup.day, *dim_cols, func.sum(AnalyticsRollup.count),
                         func.sum(AnalyticsRollup.amount))
                  .where(AnalyticsRollup.fact.in_(facts), AnalyticsRollup.day >= start, AnalyticsRollup.day <= end,
                         *where)
                  .group_by(AnalyticsRollup.fact, AnalyticsRollup.day, *dim_cols))
    for row in session.execute(delta_stmt):
        deltas[(row[0], *row[2:2 + len(dims)])][row[1]] = (int(row[-2] or 0), Decimal(str(row[-1] or 0)))
    for key in set(level) | set(deltas):
        fact, group = Fact(key[0]), tuple(key[1:])
        count, amount = level.get(key, [Decimal(0), Decimal(0)])
        day = start
        while day <= end:
            dc, da = deltas[key].get(day, (0, Decimal(0)))
            count, amount = count + dc, amount + da
            if count or amount:
                c = cell(group, _bucket_of(bucket, day, 0, start))
                c.level_counts[fact] += count
                c.level_amounts[fact] += amount
            day += dt.timedelta(days=1)


def _points(session: Session, m: Metric, bucket: Bucket, dims: tuple[Dimension, ...], start: dt.date, end: dt.date,
            keys: list[tuple[dt.date, int]], groups: list[tuple[Any, ...]],
            cells: dict[tuple[Any, ...], dict[tuple[dt.date, int], Cell]]) -> list[Point]:
    zone = business_zone()
    codes = product_codes(session, product_ids=[g[dims.index(Dimension.PRODUCT)] for g in groups]) \
        if Dimension.PRODUCT in dims else {}
    period_start = dt.datetime.combine(start, dt.time(), zone)
    period_end = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), zone)
    places = _PLACES[m.unit]
    out = []
    for key in keys:
        b_start = max(dt.datetime.combine(key[0], dt.time(key[1]), zone), period_start)
        nxt = _next(bucket, key, end)
        b_end = min(dt.datetime.combine(nxt[0], dt.time(nxt[1]), zone), period_end)
        days = max(1, (b_end.date() - b_start.date()).days) if bucket is not Bucket.HOUR else 1
        for group in groups:
            c = cells.get(group, {}).get(key) or _cell()
            c.days = days
            value = evaluate(m.measure, c)
            labels = tuple((d, codes.get(v, str(v)) if d is Dimension.PRODUCT else str(v)) for d, v in zip(dims, group, strict=True))
            out.append(Point(b_start, b_end, labels, None if value is None else value.quantize(places)))
    return out
