"""The analytics contract: what build_schema takes (AnalyticsQuery, AnalyticsMutation, AnalyticsSubscription, NODES)."""

from __future__ import annotations

from schema.analytics.mutations import AnalyticsMutation
from schema.analytics.queries import NODES, AnalyticsQuery
from schema.analytics.subscriptions import AnalyticsSubscription

__all__ = ["NODES", "AnalyticsMutation", "AnalyticsQuery", "AnalyticsSubscription"]
