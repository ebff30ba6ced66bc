"""Input types of the analytics domain (each field's description says its limits)."""

from __future__ import annotations

import datetime as dt

import strawberry

__all__ = ["AnalyticsFilter", "DatePeriodInput"]


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
