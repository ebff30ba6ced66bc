"""The demo's clock: the instant it runs at, and business-local instants some days before it.

Every demo event is placed in the past of that instant (partners approved weeks ago,
claims reported last week), so the data reads like a platform that has been running, and
signed records, key windows and deadlines hold against the real clock of a server started
afterwards.

Example::

    clock = DemoClock(now=dt.datetime.now(dt.UTC))
    clock.today          # the business date (OPSURE_BUSINESS_TZ), never the UTC date
    clock.at(6, 9)       # 09:00 business time, six business-calendar days ago
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core.clock import business_date, business_zone

__all__ = ["DemoClock"]


@dataclass(frozen=True)
class DemoClock:
    """The instant the demo runs at (aware UTC)."""

    now: dt.datetime

    @classmethod
    def on(cls, today: dt.date) -> DemoClock:
        """A clock at noon business time on ``today``."""
        return cls(dt.datetime.combine(today, dt.time(12), business_zone()).astimezone(dt.UTC))

    @property
    def today(self) -> dt.date:
        """The business date of ``now``."""
        return business_date(self.now)

    def day(self, days_ago: int) -> dt.date:
        """The business date ``days_ago`` days before today."""
        return self.today - dt.timedelta(days=days_ago)

    def at(self, days_ago: int, hour: int = 9, minute: int = 0) -> dt.datetime:
        """``hour:minute`` business time on the day ``days_ago`` before today, never after ``now``."""
        local = dt.datetime.combine(self.day(days_ago), dt.time(hour, minute), business_zone())
        return min(local.astimezone(dt.UTC), self.now)
