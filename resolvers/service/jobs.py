"""Periodic jobs of the service domain (``opsure worker``; ``opsure jobs run NAME --at ISO``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.jobs import job
from core.settings import get_settings
from resolvers.service import breaches, routing

__all__ = ["route_work_orders", "work_order_slas"]


@job("service.route", "take orders back from silent assignees, then route waiting orders to agents with room")
def route_work_orders(sessions: sessionmaker[Session], at: dt.datetime) -> int:
    """One round at ``at``; returns the orders assigned."""
    with transaction(sessions) as session:
        routing.reassign_silent(session, now=at, extra=get_settings().extra)
    with transaction(sessions) as session:
        assigned, _ = routing.route_waiting(session, now=at)
    return assigned


@job("service.sla", "record work orders' missed SLAs (first/next response, resolution, regulator) and escalate")
def work_order_slas(sessions: sessionmaker[Session], at: dt.datetime) -> int:
    """One round of SLA checks at ``at``; returns the breaches recorded."""
    with transaction(sessions) as session:
        return breaches.check_breaches(session, now=at)
