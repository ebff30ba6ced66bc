"""The demo's analytics: rollups built from the demo's two years of history, and the KPI tiles it shows.

The demo loads in one transaction, so its rollups are rebuilt at the end of it (the live
consumer then finds every row's contribution already in place and changes nothing).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from resolvers.analytics import service as analytics

__all__ = ["KPI_TILES", "analytics_summary", "load_analytics"]

#: The tiles the demo summary shows: metric key, over how many days up to today.
KPI_TILES: tuple[tuple[str, int], ...] = (("policies_issued", 365), ("written_premium", 365), ("earned_premium", 365),
                                          ("policies_in_force", 30), ("surrender_rate", 365), ("renewal_rate", 365),
                                          ("loss_ratio", 365), ("fast_claim_share", 365))


def load_analytics(session: Session) -> int:
    """Rebuild the rollups from everything the demo wrote; how many rows were read."""
    return analytics.rebuild(session)


def analytics_summary(session: Session, *, today: dt.date) -> dict[str, int | str]:
    """One figure per KPI tile, as the API would give it (``analyticsSeries`` with bucket PERIOD)."""
    rows: dict[str, int | str] = {}
    for key, days in KPI_TILES:
        s = analytics.series(session, metric=key, start=today - dt.timedelta(days=days - 1), end=today,
                             bucket=analytics.Bucket.PERIOD)
        value = s.points[0].value if s.points else None
        rows[f"{s.metric.title.lower()}, last {days} days"] = "n/a" if value is None else str(value)
    return rows
