"""GraphQL object types of the analytics domain: metric definitions and series of values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from core.roles import ANALYTICS_READERS
from resolvers.analytics import service as m
from schema.analytics.enums import (
    AlertKind,
    AlertOperator,
    AlertState,
    AnalyticsDimension,
    MetricKey,
    MetricUnit,
    TimeBucket,
)
from schema.context import Context
from schema.permissions import access
from schema.relay import (
    PAGING,
    After,
    Before,
    Connection,
    First,
    Last,
    Node,
    encode_global_id,
    keyset_connection,
)
from schema.scalars import Money

__all__ = ["AlertHistoryEntry", "AlertRule", "AlertRuleFilter", "AnalyticsForecast", "AnalyticsMetric", "AnalyticsPoint",
           "AnalyticsSeries", "DimensionValue", "ForecastPoint"]


@strawberry.type(description="A business metric: what it measures and in what unit.")
@access(ANALYTICS_READERS)
class AnalyticsMetric:
    key: MetricKey = strawberry.field(description="Its key.")  # type: ignore[valid-type]
    title: str = strawberry.field(description="A short English title.")
    description: str = strawberry.field(description="What it counts, and how it is dated.")
    unit: MetricUnit = strawberry.field(description="What its values are.")  # type: ignore[valid-type]
    hourly: bool = strawberry.field(description="Whether it can be bucketed by HOUR (false for metrics that read a "
                                                "level, which changes once a day).")

    @classmethod
    def from_metric(cls, metric: m.Metric) -> AnalyticsMetric:
        from resolvers.analytics.metrics import level_facts
        return cls(key=m.MetricKey(metric.key), title=metric.title, description=metric.description,
                   unit=metric.unit, hourly=not level_facts(metric.measure))


@strawberry.type(description="The value of one dimension in a group.")
@access(ANALYTICS_READERS)
class DimensionValue:
    dimension: AnalyticsDimension = strawberry.field(description="The dimension.")  # type: ignore[valid-type]
    value: str = strawberry.field(description="Its value: a product code, an age band or a city.")


@strawberry.type(description="One value of a series: one bucket of one group.")
@access(ANALYTICS_READERS)
class AnalyticsPoint:
    start: dt.datetime = strawberry.field(description="The bucket's first instant (clipped to the period).")
    end: dt.datetime = strawberry.field(description="The instant after the bucket (clipped to the period).")
    group: list[DimensionValue] = strawberry.field(description="The group's dimension values, in the order asked for "
                                                               "(empty when not grouped).")
    value: float | None = strawberry.field(description="The value (yuan, a count or a ratio, per the metric's unit); "
                                                       "null where it is undefined, e.g. a ratio over zero.")
    money: Money | None = strawberry.field(description="The exact amount when the metric's unit is MONEY, else null.")


@strawberry.type(description="A metric's values per time bucket and group over a period.")
@access(ANALYTICS_READERS)
class AnalyticsSeries:
    metric: AnalyticsMetric = strawberry.field(description="The metric.")
    bucket: TimeBucket = strawberry.field(description="The time bucket.")  # type: ignore[valid-type]
    dimensions: list[AnalyticsDimension] = strawberry.field(  # type: ignore[valid-type]
        description="What the values are grouped by.")
    start: dt.date = strawberry.field(description="The period's first business date.")
    end: dt.date = strawberry.field(description="The period's last business date.")
    points: list[AnalyticsPoint] = strawberry.field(description="Every bucket of every group, in bucket then group "
                                                                "order (at most 20,000).")

    @classmethod
    def from_series(cls, s: m.Series) -> AnalyticsSeries:
        money = s.metric.unit is m.Unit.MONEY
        points = [AnalyticsPoint(start=p.start, end=p.end,
                                 group=[DimensionValue(dimension=d, value=v) for d, v in p.group],
                                 value=None if p.value is None else float(p.value),
                                 money=p.value if money else None) for p in s.points]
        return cls(metric=AnalyticsMetric.from_metric(s.metric), bucket=s.bucket, dimensions=list(s.by),
                   start=s.start, end=s.end, points=points)


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


@strawberry.type(description="One state change of an alert rule, with the value (and a forecast's interval) behind "
                             "it.")
@access(ANALYTICS_READERS)
class AlertHistoryEntry:
    at: dt.datetime = strawberry.field(description="When the rule moved.")
    from_state: AlertState = strawberry.field(description="The state before.")  # type: ignore[valid-type]
    to_state: AlertState = strawberry.field(description="The state after.")  # type: ignore[valid-type]
    value: float | None = strawberry.field(description="The value evaluated (null when undefined).")
    low: float | None = strawberry.field(description="FORECAST rules: the interval's lower bound.")
    high: float | None = strawberry.field(description="FORECAST rules: the interval's upper bound.")

    @classmethod
    def from_row(cls, row: m.AlertHistory) -> AlertHistoryEntry:
        return cls(at=row.at, from_state=row.from_state, to_state=row.to_state, value=_float(row.value),
                   low=_float(row.low), high=_float(row.high))


@strawberry.type(description="Which facts an alert rule counts (empty lists: all).")
@access(ANALYTICS_READERS)
class AlertRuleFilter:
    products: list[str] = strawberry.field(description="Product codes.")
    age_bands: list[str] = strawberry.field(description="Age bands.")
    regions: list[str] = strawberry.field(description="Cities.")


@strawberry.type(description="An alert rule on a metric, evaluated by the worker (states OK, PENDING, FIRING, "
                             "RESOLVED); firing and resolving notify the subscription and the rule's webhook.")
@access(ANALYTICS_READERS)
class AlertRule(Node):
    key: str = strawberry.field(description="Its unique key.")
    metric: MetricKey = strawberry.field(description="The metric it watches.")  # type: ignore[valid-type]
    kind: AlertKind = strawberry.field(description="What breaches it.")  # type: ignore[valid-type]
    window_days: int = strawberry.field(description="THRESHOLD: the value is the metric over this many business days "
                                                    "up to today; FORECAST: days of history fitted (at least 28).")
    operator: AlertOperator | None = strawberry.field(description="THRESHOLD: how it compares.")  # type: ignore[valid-type]
    threshold: float | None = strawberry.field(description="THRESHOLD: the threshold, in the metric's unit.")
    grace_minutes: int = strawberry.field(description="How long a breach lasts before the rule fires.")
    filter: AlertRuleFilter = strawberry.field(description="Which facts count.")
    webhook_url: str | None = strawberry.field(description="Where firing and resolving are POSTed, HMAC-signed "
                                                           "(null: subscription only).")
    active: bool = strawberry.field(description="Whether the worker evaluates it.")
    state: AlertState = strawberry.field(description="Where it stands.")  # type: ignore[valid-type]
    state_since: dt.datetime | None = strawberry.field(description="Since when.")
    last_value: float | None = strawberry.field(description="The value at the last evaluation.")
    last_evaluated_at: dt.datetime | None = strawberry.field(description="When it was last evaluated.")
    version: int = strawberry.field(description="Optimistic-locking version: pass it as expectedVersion.")
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: m.AlertRule) -> AlertRule:
        f = row.filters or {}
        return cls(id=strawberry.ID(encode_global_id("AlertRule", row.id)), pk=row.id, key=row.key, metric=m.MetricKey(row.metric), kind=row.kind,
                   window_days=row.window_days, operator=row.operator, threshold=_float(row.threshold),
                   grace_minutes=row.grace_minutes,
                   filter=AlertRuleFilter(products=list(f.get("products", [])), age_bands=list(f.get("age_bands", [])),
                                          regions=list(f.get("regions", []))),
                   webhook_url=row.webhook_url, active=row.active, state=row.state, state_since=row.state_since,
                   last_value=_float(row.last_value), last_evaluated_at=row.last_evaluated_at, version=row.version)

    @strawberry.field(description="Its state changes, oldest first. " + PAGING)
    def history(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                before: Before = None) -> Connection[AlertHistoryEntry]:
        ctx = info.context
        return keyset_connection(ctx.session, m.history_query(rule_id=self.pk), wrap=AlertHistoryEntry.from_row,
                                 settings=ctx.settings, first=first, after=after, last=last, before=before)


@strawberry.type(description="One forecast day: the mean and the prediction interval.")
@access(ANALYTICS_READERS)
class ForecastPoint:
    day: dt.date = strawberry.field(description="The business date.")
    mean: float = strawberry.field(description="The forecast value.")
    low: float = strawberry.field(description="The interval's lower bound.")
    high: float = strawberry.field(description="The interval's upper bound.")


@strawberry.type(description="A metric's trend forecast with prediction intervals (an ETS model fitted on its daily "
                             "values).")
@access(ANALYTICS_READERS)
class AnalyticsForecast:
    metric: AnalyticsMetric = strawberry.field(description="The metric.")
    end: dt.date = strawberry.field(description="The last day of the history fitted (the forecast starts after it).")
    history_days: int = strawberry.field(description="Days of history fitted.")
    level: float = strawberry.field(description="The intervals' level, e.g. 0.95.")
    model: str = strawberry.field(description="The model fitted, e.g. \"ETS(A,Ad,A) weekly\" (free text for people).")
    points: list[ForecastPoint] = strawberry.field(description="One per forecast day (at most 90).")

    @classmethod
    def from_forecast(cls, f: m.Forecast) -> AnalyticsForecast:
        return cls(metric=AnalyticsMetric.from_metric(m.METRICS[f.metric]), end=f.end, history_days=f.history_days,
                   level=f.level, model=f.model,
                   points=[ForecastPoint(day=p.day, mean=float(p.mean), low=float(p.low), high=float(p.high))
                           for p in f.points])
