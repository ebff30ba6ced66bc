"""The demo's analytics: rollups of its two years of history, alert rules, reports, the risk robot's watch list.

The demo loads in one transaction, so its rollups are rebuilt at the end of it (the live
consumer then finds every row's contribution already in place and changes nothing). Three alert
rules are evaluated once at the demo's clock (a loss-ratio threshold, a surrender-rate threshold
and a forecast rule on written premium), two reports are defined (monthly KPIs by product; the
last Double 11 by hour and product) and the robot scans every customer.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from resolvers.analytics import service as analytics
from resolvers.analytics.models import AlertRule, Report, WatchEntry, WatchStatus
from resolvers.analytics.reports import ReportSpec, create_report
from resolvers.analytics.robot.watch import scan
from resolvers.claims.risk.profile import shared_flags_of
from resolvers.policies.facts import customers_page

__all__ = ["KPI_TILES", "analytics_summary", "load_analytics"]

ANALYST = Principal(subject="demo:analyst", role=Role.ANALYST)
#: The tiles the demo summary shows: metric key, over how many days up to today.
KPI_TILES: tuple[tuple[str, int], ...] = (("policies_issued", 365), ("written_premium", 365), ("earned_premium", 365),
                                          ("policies_in_force", 30), ("surrender_rate", 365), ("renewal_rate", 365),
                                          ("loss_ratio", 365), ("fast_claim_share", 365))


def _rules(session: Session, now: dt.datetime) -> None:
    specs = (
        analytics.AlertRuleSpec(key="loss-ratio-30d", metric="loss_ratio", window_days=30,
                                operator=analytics.AlertOperator.GT, threshold=Decimal("0.6")),
        analytics.AlertRuleSpec(key="surrender-rate-90d", metric="surrender_rate", window_days=90,
                                operator=analytics.AlertOperator.GT, threshold=Decimal("0.05"), grace_minutes=60),
        analytics.AlertRuleSpec(key="premium-anomaly", metric="written_premium", kind=analytics.AlertKind.FORECAST,
                                window_days=120),
    )
    for spec in specs:
        analytics.create_rule(session, principal=ANALYST, spec=spec, now=now)
    analytics.evaluate_rules(session, now=now)


def _reports(session: Session, today: dt.date) -> None:
    double_11 = dt.date(today.year if today >= dt.date(today.year, 11, 12) else today.year - 1, 11, 11)
    create_report(session, principal=ANALYST, today=today, spec=ReportSpec(
        key="monthly-kpis", title="Monthly KPIs by product", bucket=analytics.Bucket.MONTH, last_days=365,
        metrics=("written_premium", "earned_premium", "loss_ratio"), dimensions=(analytics.Dimension.PRODUCT,)))
    create_report(session, principal=ANALYST, today=today, spec=ReportSpec(
        key="double-11", title=f"Double 11 {double_11.year} by hour and product", bucket=analytics.Bucket.HOUR,
        start=double_11, end=double_11, metrics=("written_premium", "policies_issued"),
        dimensions=(analytics.Dimension.PRODUCT,), chart=analytics.ReportChart.BAR))


def _robot(session: Session, now: dt.datetime, today: dt.date, consortium: Any) -> None:
    after = 0
    while ids := customers_page(session, after=after, limit=500):
        scan(session, customer_ids=ids, today=today, now=now,
             flags=lambda cid: len(shared_flags_of(session, customer_id=cid, consortium=consortium)))
        after = ids[-1]


def load_analytics(session: Session, *, now: dt.datetime, consortium: Any = None) -> int:
    """Rebuild the rollups, add the alert rules and reports, run the robot; how many rows were rolled up."""
    read = analytics.rebuild(session)
    today = analytics.business_date(now)
    _rules(session, now)
    _reports(session, today)
    _robot(session, now, today, consortium)
    return read


def analytics_summary(session: Session, *, today: dt.date) -> dict[str, int | str]:
    """KPI tiles as the API gives them (bucket PERIOD), then alerts, reports and the watch list."""
    rows: dict[str, int | str] = {}
    for key, days in KPI_TILES:
        s = analytics.series(session, metric=key, start=today - dt.timedelta(days=days - 1), end=today,
                             bucket=analytics.Bucket.PERIOD)
        value = s.points[0].value if s.points else None
        rows[f"{s.metric.title.lower()}, last {days} days"] = "n/a" if value is None else str(value)
    for rule in session.scalars(select(AlertRule).order_by(AlertRule.id)):
        rows[f"alert {rule.key}"] = rule.state.value
    rows["reports"] = len(session.scalars(select(Report.id)).all())
    watched = session.scalars(select(WatchEntry).where(WatchEntry.status == WatchStatus.WATCHING)).all()
    rows["risk robot: customers watched"] = len(watched)
    reasons = Counter(code for w in watched for code, _ in w.reasons)
    for code, n in reasons.most_common(3):
        rows[f"  reason {code}"] = n
    return rows
