"""Periodic jobs of the investigations domain (``opsure worker``; ``opsure jobs run NAME --at ISO``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.jobs import job
from core.settings import get_settings
from resolvers.investigations import dispatch

__all__ = ["dispatch_investigations", "investigation_slas"]


@job("investigations.dispatch", "open investigations for risky claims and offer pending ones to assessor firms")
def dispatch_investigations(sessions: sessionmaker[Session], at: dt.datetime) -> int:
    """One round: risky claims get an investigation, pending ones an offer; returns offers made."""
    extra = get_settings().extra
    with transaction(sessions) as session:
        dispatch.open_for_risky_claims(session, now=at, extra=extra)
    with transaction(sessions) as session:
        offered, _ = dispatch.dispatch_pending(session, now=at, extra=extra)
    return offered


@job("investigations.sla", "expire offers not accepted in time, escalate missed first visits and reports")
def investigation_slas(sessions: sessionmaker[Session], at: dt.datetime) -> int:
    """One round of SLA checks at ``at``; returns the misses recorded."""
    with transaction(sessions) as session:
        return dispatch.check_slas(session, now=at)
