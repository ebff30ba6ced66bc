"""Root query fields of the analytics domain, and how its types are fetched by global id (``NODES``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.clock import business_today
from core.errors import DomainError
from core.roles import ANALYTICS_READERS
from resolvers.analytics import service as m
from schema.analytics.enums import AlertState, AnalyticsDimension, MetricKey, TimeBucket
from schema.analytics.inputs import AnalyticsFilter, DatePeriodInput
from schema.analytics.types import AlertRule, AnalyticsForecast, AnalyticsMetric, AnalyticsSeries
from schema.context import Context
from schema.node import NodeFetcher
from schema.permissions import allow
from schema.relay import PAGING, After, Before, Connection, First, Last, decode_global_id, keyset_connection

__all__ = ["METRIC_NODES", "MetricsQuery"]



def _rule(ctx: Context, pk: int) -> AlertRule | None:
    if ctx.principal.role not in ANALYTICS_READERS:
        return None
    try:
        return AlertRule.from_row(m.get_rule(ctx.session, rule_id=pk))
    except DomainError:
        return None


#: How ``node(id:)`` fetches this domain's types (analytics readers only).
METRIC_NODES: dict[str, NodeFetcher] = {"AlertRule": _rule}


def _filter(f: AnalyticsFilter | None) -> m.SeriesFilter:
    f = f or AnalyticsFilter()
    return m.SeriesFilter(products=tuple(f.products or ()), age_bands=tuple(f.age_bands or ()),
                          regions=tuple(f.regions or ()))


@strawberry.type
class MetricsQuery:
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
        s = m.series(info.context.session, metric=m.MetricKey(metric).value, start=period.start, end=period.end,
                     bucket=m.Bucket(bucket), by=[m.Dimension(d) for d in by or ()], filters=_filter(filter))
        return AnalyticsSeries.from_series(s)

    @strawberry.field(description="A metric's daily trend forecast with prediction intervals (an ETS model fitted on "
                                  "its daily values up to `end`). Refusals: FORECAST_UNSUPPORTED (ratios), "
                                  "NOT_ENOUGH_HISTORY (under 21 days), RANGE_TOO_LARGE, HORIZON_OUT_OF_RANGE, "
                                  "LEVEL_OUT_OF_RANGE.", metadata=allow(ANALYTICS_READERS))
    def analytics_forecast(
        self, info: Info[Context, Any],
        metric: Annotated[MetricKey, strawberry.argument(description="The metric (a count or an amount).")],  # type: ignore[valid-type]
        end: Annotated[dt.date | None, strawberry.argument(
            description="The last day of history (default: yesterday, the last complete business day).")] = None,
        history_days: Annotated[int, strawberry.argument(description="Days of history to fit (21-730).")] = 365,
        horizon: Annotated[int, strawberry.argument(description="Days to forecast (1-90).")] = 14,
        level: Annotated[float, strawberry.argument(description="The intervals' level (0.5 to below 1).")] = 0.95,
        filter: Annotated[AnalyticsFilter | None, strawberry.argument(description="Which facts count.")] = None,
    ) -> AnalyticsForecast:
        ctx = info.context
        last = end or business_today(ctx.now()) - dt.timedelta(days=1)
        f = m.forecast(ctx.session, metric=m.MetricKey(metric).value, end=last, horizon=horizon,
                       history_days=history_days, level=level, filters=_filter(filter))
        return AnalyticsForecast.from_forecast(f)

    @strawberry.field(description="An alert rule by global id (null when absent).", metadata=allow(ANALYTICS_READERS))
    def alert_rule(self, info: Info[Context, Any], id: Annotated[strawberry.ID, strawberry.argument(
            description="The rule's global id.")]) -> AlertRule | None:
        return _rule(info.context, decode_global_id(id, "AlertRule"))

    @strawberry.field(description="Alert rules, oldest first, filtered. " + PAGING, metadata=allow(ANALYTICS_READERS))
    def alert_rules(self, info: Info[Context, Any], first: First = None, after: After = None, last: Last = None,
                    before: Before = None,
                    states: Annotated[list[AlertState] | None, strawberry.argument(  # type: ignore[valid-type]
                        description="Only rules in these states (all when absent).")] = None,
                    active: Annotated[bool | None, strawberry.argument(
                        description="Only active (true) or paused (false) rules.")] = None) -> Connection[AlertRule]:
        ctx = info.context
        stmt = m.rules_query(active=active, states=[m.AlertState(s) for s in states or ()])
        return keyset_connection(ctx.session, stmt, wrap=AlertRule.from_row, settings=ctx.settings, first=first,
                                 after=after, last=last, before=before)
