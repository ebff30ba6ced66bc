"""What other layers use of analytics: metric definitions, series, rollup upkeep."""

from __future__ import annotations

from resolvers.analytics.facts import AGE_BANDS, Fact
from resolvers.analytics.metrics import METRICS, Bucket, Dimension, Metric, MetricKey, Unit
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

__all__ = ["AGE_BANDS", "MAX_DAYS", "MAX_HOURLY_DAYS", "MAX_POINTS", "METRICS", "Bucket", "Dimension", "Fact",
           "Metric", "MetricKey", "Point", "Series", "SeriesFilter", "Unit", "rebuild", "refresh", "rollup_totals",
           "series"]
