"""Subscriptions of the analytics domain: alerts firing and resolving (from the process's event tail) and live
metric values (read from the rollups, sent when they change)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncGenerator
from typing import Annotated, Any

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.types import Info

from core.clock import business_today
from core.db import read_only_session
from core.event_stream import process_tail
from core.roles import ANALYTICS_READERS
from resolvers.analytics import service as m
from resolvers.analytics.events import AlertChanged
from schema.analytics.enums import AlertState, MetricKey
from schema.analytics.inputs import AnalyticsFilter
from schema.context import Context
from schema.permissions import access, allow
from schema.relay import encode_global_id

__all__ = ["AlertEvent", "AnalyticsSubscription", "LiveMetric"]


@strawberry.type(description="An alert rule fired or resolved.")
@access(ANALYTICS_READERS)
class AlertEvent:
    rule_id: strawberry.ID = strawberry.field(description="The AlertRule's global id.")
    rule_key: str = strawberry.field(description="The rule's key.")
    metric: MetricKey = strawberry.field(description="The metric it watches.")  # type: ignore[valid-type]
    from_state: AlertState = strawberry.field(description="The state before.")  # type: ignore[valid-type]
    to_state: AlertState = strawberry.field(description="FIRING or RESOLVED.")  # type: ignore[valid-type]
    occurred_at: dt.datetime = strawberry.field(description="When the rule moved.")
    value: float | None = strawberry.field(description="The value evaluated (null when undefined).")


@strawberry.type(description="A metric's value for today so far (business date), sent when it changes.")
@access(ANALYTICS_READERS)
class LiveMetric:
    metric: MetricKey = strawberry.field(description="The metric.")  # type: ignore[valid-type]
    day: dt.date = strawberry.field(description="The business date.")
    value: float | None = strawberry.field(description="Its value so far today (null when undefined).")
    at: dt.datetime = strawberry.field(description="When it was read.")


def _today_value(ctx: Context, metric: str, filters: m.SeriesFilter) -> tuple[dt.date, float | None]:
    day = business_today(ctx.now())
    with read_only_session(ctx.session_factory) as session:
        point = m.series(session, metric=metric, start=day, end=day, bucket=m.Bucket.PERIOD, filters=filters).points[0]
    return day, None if point.value is None else float(point.value)


@strawberry.type
class AnalyticsSubscription:
    @strawberry.subscription(description="A metric's value for today, live: sent at once, then whenever the rollups "
                                         "change it (read every `everySeconds`, 2-60).",
                             metadata=allow(ANALYTICS_READERS))
    async def live_metric(
        self, info: Info[Context, Any],
        metric: Annotated[MetricKey, strawberry.argument(description="The metric.")],  # type: ignore[valid-type]
        every_seconds: Annotated[int, strawberry.argument(description="How often to read (2-60 seconds).")] = 5,
        filter: Annotated[AnalyticsFilter | None, strawberry.argument(description="Which facts count.")] = None,
    ) -> AsyncGenerator[LiveMetric, None]:
        ctx = info.context
        key = m.MetricKey(metric).value
        f = filter or AnalyticsFilter()
        filters = m.SeriesFilter(products=tuple(f.products or ()), age_bands=tuple(f.age_bands or ()),
                                 regions=tuple(f.regions or ()))
        every = min(60, max(2, every_seconds))
        last: tuple[dt.date, float | None] | None = None
        while True:
            now = await run_in_threadpool(_today_value, ctx, key, filters)
            if now != last:
                last = now
                yield LiveMetric(metric=m.MetricKey(key), day=now[0], value=now[1], at=ctx.now())
            await asyncio.sleep(every)

    @strawberry.subscription(description="Alert rules firing and resolving from now on (graphql-transport-ws).",
                             metadata=allow(ANALYTICS_READERS))
    async def analytics_alerts(self, info: Info[Context, Any]) -> AsyncGenerator[AlertEvent, None]:
        role = info.context.principal.role.value if info.context.principal.role else None
        async for ev in process_tail().subscribe(types=frozenset({"analytics.alert_changed"}),
                                                 aggregate_type="AlertRule", role=role):
            p = ev.payload
            assert isinstance(p, AlertChanged)
            yield AlertEvent(rule_id=strawberry.ID(encode_global_id("AlertRule", p.rule_id)), rule_key=p.rule_key,
                             metric=m.MetricKey(p.metric), from_state=m.AlertState(p.from_state),
                             to_state=m.AlertState(p.to_state), occurred_at=p.at,
                             value=None if p.value is None else float(p.value))
