"""What other layers use of analytics: metric definitions, series, rollup upkeep."""

from __future__ import annotations

from core.clock import business_date
from resolvers.analytics.alerts import (
           AlertRuleSpec,
           create_rule,
           evaluate_rules,
           get_rule,
           history_query,
           rules_query,
           set_rule_active,
)
from resolvers.analytics.facts import AGE_BANDS, Fact
from resolvers.analytics.forecast import Forecast, ForecastPoint, forecast, forecastable
from resolvers.analytics.metrics import METRICS, Bucket, Dimension, Metric, MetricKey, Unit
from resolvers.analytics.models import (
           AlertHistory,
           AlertKind,
           AlertOperator,
           AlertRule,
           AlertState,
           Report,
           ReportChart,
)
from resolvers.analytics.query import (
           MAX_DAYS,
           MAX_HOURLY_DAYS,
           MAX_POINTS,
           Point,
           Series,
           SeriesFilter,
           series,
)
from resolvers.analytics.rollups import rebuild, refresh, rollup_totals

__all__ = [
           "AGE_BANDS",
           "MAX_DAYS",
           "MAX_HOURLY_DAYS",
           "MAX_POINTS",
           "METRICS",
           "AlertHistory",
           "AlertKind",
           "AlertOperator",
           "AlertRule",
           "AlertRuleSpec",
           "AlertState",
           "Bucket",
           "Dimension",
           "Fact",
           "Forecast",
           "ForecastPoint",
           "Metric",
           "MetricKey",
           "Point",
           "Report",
           "ReportChart",
           "Series",
           "SeriesFilter",
           "Unit",
           "business_date",
           "create_rule",
           "evaluate_rules",
           "forecast",
           "forecastable",
           "get_rule",
           "history_query",
           "rebuild",
           "refresh",
           "rollup_totals",
           "rules_query",
           "series",
           "set_rule_active",
]
