"""Reports defined without code: metrics x dimensions x filters x period, run into a table.

A report names up to ``MAX_METRICS`` metrics, up to two dimensions, filters, a bucket and a
period — rolling (the last N business days up to the run's end day) or fixed (start, end) —
and how its chart draws (line or bar). ``run_report`` gives a table: one row per bucket and
group, a column per dimension and per metric (values as the series API gives them; None
where undefined). ``render.py`` turns a table into CSV or an SVG chart, served over HTTP.

Every input error is refused at once (codes: INVALID_KEY, DUPLICATE_KEY, BAD_TITLE,
UNKNOWN_METRIC, NO_METRICS, TOO_MANY_METRICS, TOO_MANY_DIMENSIONS, BAD_PERIOD, INVERTED_PERIOD,
RANGE_TOO_LARGE, HOURLY_RANGE_TOO_LARGE, BUCKET_TOO_FINE, TOO_MANY_POINTS, UNKNOWN_PRODUCT,
UNKNOWN_AGE_BAND), so a saved report always runs.

Example::

    spec = ReportSpec(key="double-11", title="Double 11 by product", metrics=("written_premium",),
                      dimensions=(Dimension.PRODUCT,), bucket=Bucket.HOUR, start=date(2026, 11, 11),
                      end=date(2026, 11, 11))
    report = create_report(session, principal=p, spec=spec)
    table = run_report(session, report, today=date(2026, 11, 28))
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from core.auth import Principal
from core.errors import ConflictError, DomainError, NotFoundError, ValidationError, collect_errors
from resolvers.analytics.metrics import METRICS, Bucket, Dimension, Metric
from resolvers.analytics.models import Report, ReportChart
from resolvers.analytics.query import MAX_POINTS, SeriesFilter, series

__all__ = ["MAX_METRICS", "ReportSpec", "ReportTable", "create_report", "delete_report", "get_report",
           "report_period", "reports_query", "run_report"]

MAX_METRICS = 10
MAX_DIMENSIONS = 2
_KEY = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")


@dataclass(frozen=True)
class ReportSpec:
    """A report's definition (see module docstring); a rolling period sets ``last_days``, a fixed one start/end."""

    key: str
    title: str
    metrics: tuple[str, ...]
    dimensions: tuple[Dimension, ...] = ()
    bucket: Bucket = Bucket.DAY
    last_days: int | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    chart: ReportChart = ReportChart.LINE
    products: tuple[str, ...] = ()
    age_bands: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportTable:
    """A report's result: metrics and dimensions, one row per bucket start and group."""

    title: str
    start: dt.date
    end: dt.date
    bucket: Bucket
    dimensions: tuple[Dimension, ...]
    metrics: tuple[Metric, ...]
    rows: list[tuple[dt.datetime, tuple[str, ...], tuple[Decimal | None, ...]]]


def _filters(report: Report) -> SeriesFilter:
    return SeriesFilter.from_stored(report.filters)


def report_period(report: Report, today: dt.date) -> tuple[dt.date, dt.date]:
    """The dates a run covers: the fixed period, or the last ``last_days`` days up to ``today``."""
    if report.last_days is not None:
        return today - dt.timedelta(days=report.last_days - 1), today
    assert report.start is not None and report.end is not None
    return report.start, report.end


def _row(spec: ReportSpec, principal: Principal) -> Report:
    filters = {k: list(v) for k, v in (("products", spec.products), ("age_bands", spec.age_bands),
                                        ("regions", spec.regions)) if v}
    return Report(key=spec.key, title=spec.title.strip(), metrics=list(spec.metrics),
                  dimensions=[d.value for d in spec.dimensions], filters=filters, bucket=spec.bucket.value,
                  last_days=spec.last_days, start=spec.start, end=spec.end, chart=spec.chart,
                  created_by=principal.subject)


def create_report(session: Session, *, principal: Principal, spec: ReportSpec, today: dt.date) -> Report:
    """Save a report after a dry run of every metric (so it always runs); every error at once."""
    with collect_errors() as errors:
        if not _KEY.match(spec.key):
            errors.add(ValidationError("a key is 2-64 of a-z, 0-9, - and _ starting with a letter", field="key",
                                       code="INVALID_KEY"))
        elif session.scalar(select(Report.id).where(Report.key == spec.key)) is not None:
            errors.add(ConflictError(f"a report {spec.key!r} exists", field="key", code="DUPLICATE_KEY"))
        if not 0 < len(spec.title.strip()) <= 200:
            errors.add(ValidationError("a title has 1 to 200 characters", field="title", code="BAD_TITLE"))
        if not spec.metrics:
            errors.add(ValidationError("a report shows at least one metric", field="metrics", code="NO_METRICS"))
        if len(spec.metrics) > MAX_METRICS:
            errors.add(ValidationError(f"a report shows at most {MAX_METRICS} metrics", field="metrics",
                                       code="TOO_MANY_METRICS"))
        unknown = [m for m in spec.metrics if m not in METRICS]
        if unknown:
            errors.add(ValidationError(f"no metric {unknown[0]!r}", field="metrics", code="UNKNOWN_METRIC"))
        if len(set(spec.dimensions)) > MAX_DIMENSIONS:
            errors.add(ValidationError(f"a report groups by at most {MAX_DIMENSIONS} dimensions", field="dimensions",
                                       code="TOO_MANY_DIMENSIONS"))
        rolling, fixed = spec.last_days is not None, spec.start is not None or spec.end is not None
        if rolling == fixed or (fixed and (spec.start is None or spec.end is None)) or \
                (rolling and not 1 <= (spec.last_days or 0) <= 1096):
            errors.add(ValidationError("a period is either lastDays (1-1096) or both start and end", field="period",
                                       code="BAD_PERIOD"))
        elif not unknown and spec.metrics and len(set(spec.dimensions)) <= MAX_DIMENSIONS:
            row = _row(spec, principal)
            start, end = report_period(row, today)
            seen: set[str] = set()
            for metric in dict.fromkeys(spec.metrics):
                try:  # the dry run: the same bounds a run meets
                    series(session, metric=metric, start=start, end=end, bucket=spec.bucket,
                           by=spec.dimensions, filters=_filters(row))
                except DomainError as exc:
                    if exc.code not in seen:
                        seen.add(exc.code)
                        errors.add(exc)
    report = _row(spec, principal)
    session.add(report)
    session.flush()
    return report


def get_report(session: Session, *, report_id: int) -> Report:
    """A report by id (NOT_FOUND when absent)."""
    row = session.get(Report, report_id)
    if row is None:
        raise NotFoundError("no such report", field="reportId")
    return row


def delete_report(session: Session, *, report_id: int) -> int:
    """Delete a report; its id."""
    row = get_report(session, report_id=report_id)
    session.delete(row)
    session.flush()
    return report_id


def reports_query() -> Select[Report]:
    """Reports, oldest first."""
    return select(Report)


def run_report(session: Session, report: Report, *, today: dt.date) -> ReportTable:
    """Run a report for the period ending ``today`` (rolling) or its fixed period."""
    start, end = report_period(report, today)
    dims = tuple(Dimension(d) for d in report.dimensions)
    bucket = Bucket(report.bucket)
    keys = tuple(dict.fromkeys(report.metrics))
    cells: dict[tuple[dt.datetime, tuple[str, ...]], dict[str, Decimal | None]] = {}
    for key in keys:
        s = series(session, metric=key, start=start, end=end, bucket=bucket, by=dims, filters=_filters(report))
        for p in s.points:
            cells.setdefault((p.start, tuple(v for _, v in p.group)), {})[key] = p.value
    if len(cells) * len(keys) > MAX_POINTS:
        raise ValidationError(f"at most {MAX_POINTS} values a run", field="report", code="TOO_MANY_POINTS")
    rows = [(at, group, tuple(values.get(k) for k in keys)) for (at, group), values in sorted(cells.items())]
    return ReportTable(report.title, start, end, bucket, dims, tuple(METRICS[k] for k in keys), rows)
