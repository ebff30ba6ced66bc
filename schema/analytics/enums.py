"""GraphQL enums of the analytics domain, each value described."""

from __future__ import annotations

from resolvers.analytics import service as m
from schema.enums import described_enum as _described

__all__ = ["AlertKind", "AlertOperator", "AlertState", "AnalyticsDimension", "MetricKey", "MetricUnit", "TimeBucket"]

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
    "PERIOD": "The whole period as one bucket (a KPI tile's one figure).",
})
MetricUnit = _described(m.Unit, name="MetricUnit", description="What a metric's values are.", values={
    "COUNT": "A number of things (an average over days may be fractional).",
    "MONEY": "An amount in yuan.",
    "RATIO": "A ratio, usually 0 to 1 (the metric's description says when it may exceed 1).",
})
AlertKind = _described(m.AlertKind, name="AlertKind", description="What makes an alert rule breach.", values={
    "THRESHOLD": "The metric's value over the rule's window compared with its threshold.",
    "FORECAST": "Yesterday's daily value outside the prediction interval forecast from the days before (99%).",
})
AlertOperator = _described(m.AlertOperator, name="AlertOperator", description="How a threshold rule compares.", values={
    "GT": "Breached when the value is above the threshold.",
    "GTE": "Breached when the value is at or above the threshold.",
    "LT": "Breached when the value is below the threshold.",
    "LTE": "Breached when the value is at or below the threshold.",
})
AlertState = _described(m.AlertState, name="AlertState", description="Where an alert rule stands.", values={
    "OK": "Not breached (or paused, or never evaluated).",
    "PENDING": "Breached for less than the grace period: not notified yet.",
    "FIRING": "Breached for the grace period or longer: notified.",
    "RESOLVED": "Was firing and is no longer breached: notified; the next breach starts PENDING again.",
})
