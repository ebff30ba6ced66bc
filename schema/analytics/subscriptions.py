"""Subscriptions of the analytics domain: alerts firing and resolving, live, from the process's event tail."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from strawberry.types import Info

from core.event_stream import process_tail
from core.roles import ANALYTICS_READERS
from resolvers.analytics import service as m
from resolvers.analytics.events import AlertChanged
from schema.analytics.enums import AlertState, MetricKey
from schema.context import Context
from schema.permissions import access, allow
from schema.relay import encode_global_id

__all__ = ["AlertEvent", "AnalyticsSubscription"]


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


@strawberry.type
class AnalyticsSubscription:
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
