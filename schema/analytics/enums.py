"""GraphQL enums of the analytics domain, each value described."""

from __future__ import annotations

from resolvers.analytics import service as m
from schema.enums import described_enum as _described

__all__ = ["AnalyticsDimension", "MetricKey", "MetricUnit", "TimeBucket"]

MetricKey = _described(m.MetricKey, name="MetricKey", description="A business metric (`analyticsMetrics` describes "
                       "each).", values={k.upper(): f"{v.title}: {v.description}" for k, v in m.METRICS.items()})
AnalyticsDimension = _described(m.Dimension, name="AnalyticsDimension", description="What a series is grouped by.",
                                values={
    "PRODUCT": "The product (its code).",
    "AGE_BAND": "The insured's age band when the policy started (0-17, 18-24, 25-34, 35-44, 45-54, 55-64, 65+).",
    "REGION": "The customer's city (\"unknown\" when not given).",
})
TimeBucket = _described(m.Bucket, name="TimeBucket", description="The time bucket of a series, in the business time "
                        "zone (Asia/Shanghai).", values={
    "HOUR": "An hour (at most 31 days; not for metrics that read a level such as earned premium).",
    "DAY": "A business date.",
    "WEEK": "A week, Monday to Sunday.",
    "MONTH": "A calendar month.",
})
MetricUnit = _described(m.Unit, name="MetricUnit", description="What a metric's values are.", values={
    "COUNT": "A number of things (an average over days may be fractional).",
    "MONEY": "An amount in yuan.",
    "RATIO": "A ratio, usually 0 to 1 (the metric's description says when it may exceed 1).",
})
