"""Advance jobs: overdue detection and default after the grace period."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from core.clock import business_date
from core.db import transaction
from core.jobs import job
from core.settings import get_settings
from resolvers.advances.service import AdvanceConfig, mark_overdue

__all__ = ["overdue_job"]


@job("advances.overdue", "mark advances with an instalment past due overdue; default them after the grace period")
def overdue_job(sessions: sessionmaker[Session], at: dt.datetime) -> int:
    """One round of overdue detection and default, on the business date of ``at``."""
    config = AdvanceConfig.from_extra(get_settings().extra)
    with transaction(sessions) as session:
        return mark_overdue(session, today=business_date(at), grace_days=config.grace_days)
