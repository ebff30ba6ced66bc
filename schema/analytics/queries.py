"""Root query fields of the analytics domain (no Node types: metrics are keyed, series computed)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.roles import ANALYTICS_READERS
from resolvers.analytics import service as m
from schema.analytics.enums import AnalyticsDimension, MetricKey, TimeBucket
from schema.analytics.inputs import AnalyticsFilter, DatePeriodInput
from schema.analytics.types import AnalyticsMetric, AnalyticsSeries
from schema.context import Context
from schema.node import NodeFetcher
from schema.permissions import allow

__all__ = ["NODES", "AnalyticsQuery"]

#: How ``node(id:)`` fetches this domain's types: none are addressable.
NODES: dict[str, NodeFetcher] = {}


@strawberry.type
class AnalyticsQuery:
    @strawberry.field(description="Every business metric, with what it measures.", metadata=allow(ANALYTICS_READERS))
    def analytics_metrics(self) -> list[AnalyticsMetric]:
        return [AnalyticsMetric.from_metric(metric) for metric in m.METRICS.values()]

    @strawberry.field(description="A metric per time bucket and group over a period of business dates, from the live "
                                  "rollups. Refusals: INVERTED_PERIOD, RANGE_TOO_LARGE, HOURLY_RANGE_TOO_LARGE, "
                                  "BUCKET_TOO_FINE, TOO_MANY_POINTS, UNKNOWN_PRODUCT, UNKNOWN_AGE_BAND.",
                      metadata=allow(ANALYTICS_READERS))
    def analytics_series(
        self, info: Info[Context, Any],
        metric: Annotated[MetricKey, strawberry.argument(description="The metric.")],  # type: ignore[valid-type]
        period: Annotated[DatePeriodInput, strawberry.argument(description="The business dates.")],
        bucket: Annotated[TimeBucket, strawberry.argument(description="The time bucket.")],  # type: ignore[valid-type]
        by: Annotated[list[AnalyticsDimension] | None, strawberry.argument(  # type: ignore[valid-type]
            description="Group by these dimensions (none: one group).")] = None,
        filter: Annotated[AnalyticsFilter | None, strawberry.argument(description="Which facts count.")] = None,
    ) -> AnalyticsSeries:
        f = filter or AnalyticsFilter()
        s = m.series(info.context.session, metric=m.MetricKey(metric).value, start=period.start, end=period.end,
                     bucket=m.Bucket(bucket), by=[m.Dimension(d) for d in by or ()],
                     filters=m.SeriesFilter(products=tuple(f.products or ()), age_bands=tuple(f.age_bands or ()),
                                            regions=tuple(f.regions or ())))
        return AnalyticsSeries.from_series(s)
