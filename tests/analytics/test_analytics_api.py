"""Metric series over GraphQL: figures computed by hand, grouping, filters, nulls and typed refusals."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.auth import Role
from core.db import transaction
from core.event_stream import drain
from resolvers.analytics.events import ANALYTICS_CONSUMER
from resolvers.policies import service
from tests.factories import ADMIN, make_customer, make_policy, make_product

SERIES = """query($m: MetricKey!, $p: DatePeriodInput!, $b: TimeBucket!, $by: [AnalyticsDimension!],
  $f: AnalyticsFilter) { analyticsSeries(metric: $m, period: $p, bucket: $b, by: $by, filter: $f) {
  metric { key unit hourly } bucket dimensions start end
  points { start end group { dimension value } value money } } }"""
DOUBLE_11 = {"start": "2026-11-11", "end": "2026-11-11"}


def _book(session_factory: Any) -> None:
    """Four policies on Double 11 (three of PA, one of PB; all insured aged 36), one PA surrendered on 11-20."""
    day = dt.date(2026, 11, 11)
    with transaction(session_factory) as s:
        a, b = make_product(s, code="PA"), make_product(s, code="PB")
        pa = [make_policy(s, today=day, product=a, customer=make_customer(s, city=city))
              for city in ("杭州", "杭州", "上海")]
        make_policy(s, today=day, product=b, customer=make_customer(s, city="上海"))
        service.surrender_policy(s, principal=ADMIN, policy_id=pa[0].id, expected_version=None,
                                 today=dt.date(2026, 11, 20), reason="moving abroad")
    drain(session_factory, ANALYTICS_CONSUMER)


def _values(series: dict[str, Any]) -> dict[tuple[str, ...], Any]:
    return {(p["start"][:10], *(g["value"] for g in p["group"])): p["money"] or p["value"] for p in series["points"]}


def test_managers_questions_are_one_query_each(gql: Any, session_factory: Any) -> None:
    _book(session_factory)
    analyst = gql(Role.ANALYST)
    per_product = analyst(SERIES, {"m": "WRITTEN_PREMIUM", "p": DOUBLE_11, "b": "DAY", "by": ["PRODUCT"]})
    s = per_product["analyticsSeries"]
    assert s["metric"] == {"key": "WRITTEN_PREMIUM", "unit": "MONEY", "hourly": True} and s["dimensions"] == ["PRODUCT"]
    assert _values(s) == {("2026-11-10", "PA"): "1800.00", ("2026-11-10", "PB"): "600.00"}  # UTC of 00:00 +08:00
    assert s["points"][0]["start"] == "2026-11-10T16:00:00+00:00" and s["points"][0]["end"] == "2026-11-11T16:00:00+00:00"
    hourly = analyst(SERIES, {"m": "POLICIES_ISSUED", "p": DOUBLE_11, "b": "HOUR"})["analyticsSeries"]["points"]
    assert len(hourly) == 24 and [p["value"] for p in hourly].count(4.0) == 1  # all at 18:00 Beijing
    assert hourly[18]["value"] == 4.0
    by_age = analyst(SERIES, {"m": "POLICIES_ISSUED", "p": {"start": "2026-11-01", "end": "2026-11-30"},
                              "b": "MONTH", "by": ["AGE_BAND", "REGION"]})["analyticsSeries"]
    assert _values(by_age) == {("2026-10-31", "35-44", "上海"): 2.0, ("2026-10-31", "35-44", "杭州"): 2.0}


def test_levels_ratios_and_nulls(gql: Any, session_factory: Any) -> None:
    _book(session_factory)
    analyst = gql(Role.MANAGER)
    earned = analyst(SERIES, {"m": "EARNED_PREMIUM", "p": {"start": "2026-11-11", "end": "2026-11-12"}, "b": "WEEK",
                              "f": {"products": ["PB"]}})["analyticsSeries"]["points"]
    assert [p["money"] for p in earned] == ["3.29"]  # 600 over 365 days, two days earned
    assert earned[0]["start"] == "2026-11-10T16:00:00+00:00"  # the week bucket clipped to the period
    rate = analyst(SERIES, {"m": "SURRENDER_RATE", "p": {"start": "2026-11-20", "end": "2026-11-21"},
                            "b": "DAY"})["analyticsSeries"]["points"]
    assert [p["value"] for p in rate] == [0.25, 0.0]  # 1 of 4 in force on the 20th; 3 in force on the 21st
    in_force = analyst(SERIES, {"m": "POLICIES_IN_FORCE", "p": {"start": "2026-11-20", "end": "2026-11-21"},
                                "b": "DAY"})["analyticsSeries"]["points"]
    assert [p["value"] for p in in_force] == [4.0, 3.0]
    none = analyst(SERIES, {"m": "FAST_CLAIM_SHARE", "p": DOUBLE_11, "b": "DAY"})["analyticsSeries"]["points"]
    assert [p["value"] for p in none] == [None]  # no claim paid: undefined, not 0, not NaN
    loss = analyst(SERIES, {"m": "LOSS_RATIO", "p": DOUBLE_11, "b": "DAY"})["analyticsSeries"]["points"]
    assert [p["value"] for p in loss] == [0.0]


def test_bad_input_is_refused_with_a_code(gql: Any, session_factory: Any) -> None:
    _book(session_factory)
    analyst = gql(Role.ANALYST)

    def code(variables: dict[str, Any]) -> str:
        body = analyst.post(SERIES, variables).json()
        assert body.get("data") is None, body
        return str(body["errors"][0]["extensions"]["code"])

    assert code({"m": "WRITTEN_PREMIUM", "p": {"start": "2026-11-12", "end": "2026-11-11"}, "b": "DAY"}) == \
        "INVERTED_PERIOD"
    assert code({"m": "EARNED_PREMIUM", "p": DOUBLE_11, "b": "HOUR"}) == "BUCKET_TOO_FINE"
    assert code({"m": "POLICIES_ISSUED", "p": {"start": "2026-01-01", "end": "2026-03-01"}, "b": "HOUR"}) == \
        "HOURLY_RANGE_TOO_LARGE"
    assert code({"m": "POLICIES_ISSUED", "p": {"start": "2000-01-01", "end": "2026-03-01"}, "b": "MONTH"}) == \
        "RANGE_TOO_LARGE"
    assert code({"m": "POLICIES_ISSUED", "p": DOUBLE_11, "b": "DAY", "f": {"products": ["NOPE"]}}) == \
        "UNKNOWN_PRODUCT"
    assert code({"m": "POLICIES_ISSUED", "p": DOUBLE_11, "b": "DAY", "f": {"ageBands": ["20-29"]}}) == \
        "UNKNOWN_AGE_BAND"
    refused = gql(Role.CUSTOMER, customer_id=1).post(SERIES, {"m": "WRITTEN_PREMIUM", "p": DOUBLE_11, "b": "DAY"})
    assert refused.json().get("data") is None
