"""Input types of the analytics domain (each field's description says its limits)."""

from __future__ import annotations

import datetime as dt

import strawberry

from schema.analytics.enums import AlertKind, AlertOperator, MetricKey

__all__ = ["AnalyticsFilter", "CreateAlertRuleInput", "DatePeriodInput", "SetAlertRuleActiveInput"]


@strawberry.input(description="A period of business dates, both ends included.")
class DatePeriodInput:
    start: dt.date = strawberry.field(description="The first business date.")
    end: dt.date = strawberry.field(description="The last business date (not before start: INVERTED_PERIOD; at most "
                                                "1,099 days: RANGE_TOO_LARGE).")


@strawberry.input(description="Which facts count; each list: all when absent or empty.")
class AnalyticsFilter:
    products: list[str] | None = strawberry.field(default=None, description="Product codes (UNKNOWN_PRODUCT for a "
                                                                            "code that does not exist).")
    age_bands: list[str] | None = strawberry.field(default=None, description="Age bands such as \"25-34\" "
                                                                             "(UNKNOWN_AGE_BAND otherwise).")
    regions: list[str] | None = strawberry.field(default=None, description="Cities.")


@strawberry.input(description="A new alert rule (each field's description says its limits).")
class CreateAlertRuleInput:
    key: str = strawberry.field(description="Unique key, 2-64 of a-z, 0-9, - and _ starting with a letter "
                                            "(INVALID_KEY, DUPLICATE_KEY).")
    metric: MetricKey = strawberry.field(description="The metric to watch.")  # type: ignore[valid-type]
    kind: AlertKind = strawberry.field(description="THRESHOLD or FORECAST (FORECAST_UNSUPPORTED for a ratio "  # type: ignore[valid-type]
                                                   "metric).")
    window_days: int = strawberry.field(default=1, description="THRESHOLD: business days up to today the value "
                                                               "covers; FORECAST: days of history (1-366; "
                                                               "WINDOW_OUT_OF_RANGE).")
    operator: AlertOperator | None = strawberry.field(default=None, description="THRESHOLD: how to compare "  # type: ignore[valid-type]
                                                                                "(THRESHOLD_REQUIRED without it).")
    threshold: float | None = strawberry.field(default=None, description="THRESHOLD: the threshold in the metric's "
                                                                         "unit (THRESHOLD_REQUIRED without it).")
    grace_minutes: int = strawberry.field(default=0, description="How long a breach lasts before the rule fires "
                                                                 "(0-10080; GRACE_OUT_OF_RANGE).")
    filter: AnalyticsFilter | None = strawberry.field(default=None, description="Which facts count (UNKNOWN_PRODUCT, "
                                                                                "UNKNOWN_AGE_BAND).")
    webhook_url: str | None = strawberry.field(default=None, description="An https URL to POST firing and resolving "
                                                                         "to, HMAC-signed (BAD_URL).")


@strawberry.input(description="Pause or resume an alert rule.")
class SetAlertRuleActiveInput:
    rule_id: strawberry.ID = strawberry.field(description="The AlertRule's global id.")
    active: bool = strawberry.field(description="true: evaluate it; false: pause it (it returns to OK).")
    expected_version: int | None = strawberry.field(default=None, description="The version last read (optional): a "
                                                                              "newer one refuses with STALE_VERSION.")
