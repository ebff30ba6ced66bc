"""Analytics jobs: the offline full recompute of the rollups."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.jobs import job
from resolvers.analytics.rollups import rebuild

__all__ = ["rebuild_job"]


@job("analytics.rebuild", "recompute every analytics rollup from all policies and claims (the offline check of the "
                          "live rollups: the numbers are the same)")
def rebuild_job(sessions: sessionmaker[Session], at: dt.datetime) -> int:
    """Rebuild all rollups in one transaction; how many source rows were read."""
    with transaction(sessions) as session:
        return rebuild(session)
