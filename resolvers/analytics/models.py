"""Tables of the analytics domain: fact rollups and what each source row contributed to them.

* ``analytics_rollup`` — summed facts per fact kind, business date and hour, and dimension
  values (product, age band, region): a count and an amount. Level facts (policies in force,
  premium earned per day) are stored as deltas on the day they change.
* ``analytics_contribution`` — the facts one source row (a policy, a claim) put into the
  rollups, so a change to that row applies only the difference (incremental == rebuild).
* ``analytics_lock`` — one row; a rebuild and the incremental consumer lock it, so they never
  interleave.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigId, IdPk

__all__ = ["AnalyticsContribution", "AnalyticsLock", "AnalyticsRollup"]


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
