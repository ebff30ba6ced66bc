"""Tables of the analytics domain: fact rollups and what each source row contributed to them.

* ``analytics_rollup`` — summed facts per fact kind, business date and hour, and dimension
  values (product, age band, region): a count and an amount. Level facts (policies in force,
  premium earned per day) are stored as deltas on the day they change.
* ``analytics_contribution`` — the facts one source row (a policy, a claim) put into the
  rollups, so a change to that row applies only the difference (incremental == rebuild).
* ``analytics_lock`` — one row; a rebuild and the incremental consumer lock it, so they never
  interleave.
* ``analytics_alert_rule`` — threshold and forecast alert rules and their current state;
  ``analytics_alert_history`` — every state change; ``analytics_alert_notification`` — the
  HMAC-signed webhook POSTs owed for firing and resolved alerts.
* ``analytics_report`` — report definitions (metrics, dimensions, filters, period, bucket, chart).
* ``analytics_watch`` — the high-risk robot's watch list: customers, scores, reason codes.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.crypto import EncryptedString, RowUid
from core.db import Base, BigId, IdPk, Timestamped, Versioned, value_enum

__all__ = ["AlertHistory", "AlertKind", "AlertNotification", "AlertOperator", "AlertRule", "AlertState",
           "AnalyticsContribution", "AnalyticsLock", "AnalyticsRollup", "Report", "ReportChart", "WatchEntry",
           "WatchStatus"]


class AnalyticsRollup(IdPk, Base):
    """Facts of one kind summed for one business hour and one combination of dimension values."""

    __tablename__ = "analytics_rollup"
    __table_args__ = (UniqueConstraint("fact", "day", "hour", "product_id", "age_band", "region"),)

    fact: Mapped[str] = mapped_column(String(32), nullable=False)
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)  # business date (Asia/Shanghai)
    hour: Mapped[int] = mapped_column(Integer, nullable=False)  # business hour, 0 for day-dated facts
    product_id: Mapped[int] = mapped_column(BigId, nullable=False)
    age_band: Mapped[str] = mapped_column(String(8), nullable=False)
    region: Mapped[str] = mapped_column(String(64), nullable=False)
    count: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    amount: Mapped[Decimal] = mapped_column(Numeric(24, 8), nullable=False, default=Decimal(0))


class AnalyticsContribution(IdPk, Base):
    """The fact rows one source row contributed (``facts``: a list of [fact, day, hour, product, band, region, count, amount])."""

    __tablename__ = "analytics_contribution"
    __table_args__ = (UniqueConstraint("entity", "entity_id"),)

    entity: Mapped[str] = mapped_column(String(16), nullable=False)
    entity_id: Mapped[int] = mapped_column(BigId, nullable=False)
    facts: Mapped[list[list[Any]]] = mapped_column(JSON, nullable=False)


class AnalyticsLock(Base):
    """The one row rebuilds and incremental updates lock (see module docstring)."""

    __tablename__ = "analytics_lock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rebuilt_at: Mapped[dt.datetime | None] = mapped_column()
    robot_scanned_on: Mapped[dt.date | None] = mapped_column(Date)  # the business date of the robot's last full scan


class AlertOperator(enum.StrEnum):
    """How a threshold rule compares the metric's value with its threshold."""

    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"


class AlertKind(enum.StrEnum):
    """What makes an alert rule breach."""

    THRESHOLD = "threshold"  # the value over the window compared with a threshold
    FORECAST = "forecast"  # yesterday's daily value outside the forecast's prediction interval


class AlertState(enum.StrEnum):
    """Where an alert rule stands."""

    OK = "ok"  # not breached (or never evaluated)
    PENDING = "pending"  # breached, for less than the grace period
    FIRING = "firing"  # breached for the grace period or longer: notified
    RESOLVED = "resolved"  # was firing, no longer breached: notified; the next breach starts PENDING again


class AlertRule(IdPk, RowUid, Timestamped, Versioned, Base):
    """A rule the worker evaluates: a metric over a window, compared with a threshold or its forecast."""

    __tablename__ = "analytics_alert_rule"

    key: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    metric: Mapped[str] = mapped_column(String(40), nullable=False)
    kind: Mapped[AlertKind] = mapped_column(value_enum(AlertKind, "analytics_alert_kind"), nullable=False)
    window_days: Mapped[int] = mapped_column(Integer, nullable=False)
    operator: Mapped[AlertOperator | None] = mapped_column(value_enum(AlertOperator, "analytics_alert_operator"))
    threshold: Mapped[Decimal | None] = mapped_column(Numeric(20, 4))
    grace_minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    filters: Mapped[dict[str, list[str]]] = mapped_column(JSON, nullable=False, default=dict)
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret: Mapped[str | None] = mapped_column(EncryptedString("analytics_alert_rule.webhook_secret"))
    active: Mapped[bool] = mapped_column(nullable=False, default=True)
    state: Mapped[AlertState] = mapped_column(value_enum(AlertState, "analytics_alert_state"), nullable=False,
                                              default=AlertState.OK)
    state_since: Mapped[dt.datetime | None] = mapped_column()
    breached_since: Mapped[dt.datetime | None] = mapped_column()
    last_value: Mapped[Decimal | None] = mapped_column(Numeric(24, 8))
    last_evaluated_at: Mapped[dt.datetime | None] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)


class AlertHistory(IdPk, Base):
    """One state change of an alert rule, with the value (and bounds) that caused it."""

    __tablename__ = "analytics_alert_history"

    rule_id: Mapped[int] = mapped_column(BigId, ForeignKey("analytics_alert_rule.id"), nullable=False, index=True)
    at: Mapped[dt.datetime] = mapped_column(nullable=False)
    from_state: Mapped[AlertState] = mapped_column(value_enum(AlertState, "analytics_alert_state"), nullable=False)
    to_state: Mapped[AlertState] = mapped_column(value_enum(AlertState, "analytics_alert_state"), nullable=False)
    value: Mapped[Decimal | None] = mapped_column(Numeric(24, 8))
    low: Mapped[Decimal | None] = mapped_column(Numeric(24, 8))  # forecast rules: the interval's bounds
    high: Mapped[Decimal | None] = mapped_column(Numeric(24, 8))


class AlertNotification(IdPk, Base):
    """A webhook POST owed for a firing or resolved alert (retried with backoff until delivered or failed)."""

    __tablename__ = "analytics_alert_notification"
    __table_args__ = (UniqueConstraint("history_id"),)

    rule_id: Mapped[int] = mapped_column(BigId, ForeignKey("analytics_alert_rule.id"), nullable=False)
    history_id: Mapped[int] = mapped_column(BigId, ForeignKey("analytics_alert_history.id"), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(nullable=False)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(40))
    delivered_at: Mapped[dt.datetime | None] = mapped_column()


class ReportChart(enum.StrEnum):
    """How a report's chart draws its series."""

    LINE = "line"
    BAR = "bar"


class Report(IdPk, Timestamped, Versioned, Base):
    """A report defined without code: metrics x dimensions x filters x period, with a chart kind."""

    __tablename__ = "analytics_report"

    key: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    metrics: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    dimensions: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    filters: Mapped[dict[str, list[str]]] = mapped_column(JSON, nullable=False, default=dict)
    bucket: Mapped[str] = mapped_column(String(16), nullable=False)
    last_days: Mapped[int | None] = mapped_column(Integer)  # a rolling period: this many days up to the run's end
    start: Mapped[dt.date | None] = mapped_column(Date)  # a fixed period
    end: Mapped[dt.date | None] = mapped_column(Date)
    chart: Mapped[ReportChart] = mapped_column(value_enum(ReportChart, "analytics_report_chart"), nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)


class WatchStatus(enum.StrEnum):
    """Whether the robot watches a customer now."""

    WATCHING = "watching"  # scored at or above the model's threshold
    CLEARED = "cleared"  # was watched; the score fell below the threshold less the hysteresis


class WatchEntry(IdPk, Base):
    """A customer the high-risk robot flagged: the score, the reasons (codes and values), since when."""

    __tablename__ = "analytics_watch"

    customer_id: Mapped[int] = mapped_column(BigId, unique=True, nullable=False)
    status: Mapped[WatchStatus] = mapped_column(value_enum(WatchStatus, "analytics_watch_status"), nullable=False)
    score: Mapped[float] = mapped_column(Float, nullable=False)
    reasons: Mapped[list[list[Any]]] = mapped_column(JSON, nullable=False)  # [[code, value], ...]
    model_version: Mapped[str] = mapped_column(String(40), nullable=False)
    flagged_at: Mapped[dt.datetime] = mapped_column(nullable=False)
    scored_at: Mapped[dt.datetime] = mapped_column(nullable=False)
    cleared_at: Mapped[dt.datetime | None] = mapped_column()
