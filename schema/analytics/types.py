"""GraphQL object types of the analytics domain: metric definitions and series of values."""

from __future__ import annotations

import datetime as dt

import strawberry

from core.roles import ANALYTICS_READERS
from resolvers.analytics import service as m
from schema.analytics.enums import AnalyticsDimension, MetricKey, MetricUnit, TimeBucket
from schema.permissions import access
from schema.scalars import Money

__all__ = ["AnalyticsMetric", "AnalyticsPoint", "AnalyticsSeries", "DimensionValue"]


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
