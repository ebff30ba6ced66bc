"""The analytics contract: what build_schema takes (AnalyticsQuery, AnalyticsMutation, AnalyticsSubscription, NODES).

Each part of the domain (series, forecasts and alerts; reports; risk monitoring) has its own
query and mutation classes; they are merged here into the domain's one root type each.
"""

from __future__ import annotations

from strawberry.tools import merge_types

from schema.analytics.mutations import AlertMutations
from schema.analytics.queries import METRIC_NODES, MetricsQuery
from schema.analytics.reports import REPORT_NODES, ReportMutations, ReportsQuery
from schema.analytics.robot import RobotQuery
from schema.analytics.subscriptions import AnalyticsSubscription

__all__ = ["NODES", "AnalyticsMutation", "AnalyticsQuery", "AnalyticsSubscription"]

#: How ``node(id:)`` fetches this domain's types (analytics readers only).
NODES = {**METRIC_NODES, **REPORT_NODES}
AnalyticsQuery = merge_types("AnalyticsQuery", (MetricsQuery, ReportsQuery, RobotQuery))
AnalyticsMutation = merge_types("AnalyticsMutation", (AlertMutations, ReportMutations))
